"""Helpers for the source tests: configs, feed builders, hostile bodies (the threaded local
server is a fixture in conftest.py)."""

from __future__ import annotations

import tracemalloc
import zlib
from contextlib import contextmanager
from email.utils import format_datetime
from pathlib import Path
from typing import Iterator
from xml.sax.saxutils import escape


from monitor.config import HttpConfig, SourceConfig

FIXTURES = Path(__file__).parent / "fixtures" / "feeds"

# the local test server lives on 127.0.0.1: allow it explicitly, with short timeouts
LOCAL = HttpConfig(allow_private_networks=True, timeout=2.0, connect_timeout=2.0)


def source_cfg(kind: str = "feed", name: str = "test", **kw) -> SourceConfig:
    return SourceConfig(name=name, kind=kind, **kw)


def rss(
    items: list[dict],
    *,
    title: str = "Test feed",
    ttl: int | None = None,
    language: str | None = None,
    extra_channel: str = "",
) -> bytes:
    """An RSS 2.0 document; each item dict may hold guid, link, title, description, pubDate."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://example.org/</link>",
    ]
    if ttl is not None:
        parts.append(f"<ttl>{ttl}</ttl>")
    if language:
        parts.append(f"<language>{language}</language>")
    parts.append(extra_channel)
    for it in items:
        parts.append("<item>")
        for tag in ("title", "link", "guid", "description", "pubDate", "author"):
            if tag in it:
                parts.append(f"<{tag}>{escape(str(it[tag]))}</{tag}>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def story_items(n: int, prefix: str = "Story") -> list[dict]:
    return [
        {
            "guid": f"urn:story:{i}",
            "link": f"https://example.org/{i}",
            "title": f"{prefix} {i}",
            "description": f"<p>Body of {prefix.lower()} {i}.</p>",
        }
        for i in range(n)
    ]


def billion_laughs(levels: int = 10, fanout: int = 10) -> bytes:
    """The classic entity-expansion feed: small on the wire, 10**levels characters expanded."""
    ents = ['<!ENTITY lol0 "lollollollollollollollollollol">']
    for i in range(1, levels):
        ents.append(f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * fanout + '">')
    # a quadratic-blowup entity too: one large value referenced many times
    ents.append('<!ENTITY big "' + "x" * 50_000 + '">')
    doctype = "<!DOCTYPE rss [\n" + "\n".join(ents) + "\n]>"
    body = (
        '<?xml version="1.0"?>\n' + doctype + '<rss version="2.0"><channel><title>laughs</title>'
        f"<item><guid>a</guid><title>&lol{levels - 1};</title><description>"
        + "&big;" * 8000
        + "</description></item></channel></rss>"
    )
    return body.encode()


def gzip_bomb(decompressed_bytes: int) -> bytes:
    """A gzip stream of zeros: ~1/1000 of ``decompressed_bytes`` on the wire."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    out = [comp.compress(block) for _ in range(decompressed_bytes >> 20)]
    out.append(comp.flush())
    return b"".join(out)


@contextmanager
def peak_memory() -> Iterator[dict]:
    """Peak Python memory allocated inside the block, in bytes (tracemalloc)."""
    result: dict = {}
    tracemalloc.start()
    try:
        yield result
    finally:
        result["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def http_date(dt) -> str:
    return format_datetime(dt, usegmt=True)
