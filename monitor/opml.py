"""OPML in and out: feed lists from other readers become sources; sources become a feed list.

    read_opml(bytes)  ──► [OpmlFeed(url, title, tags)]    listparser; only http(s) feed URLs
    write_opml(feeds) ──► OPML 2.0 text                   xml.etree (escaping done by the library)

Imports nothing of ours but the URL check and the errors.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime

from monitor.errors import ConfigError
from monitor.urls import safe_url


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str = ""
    tags: tuple[str, ...] = ()


@dataclass
class OpmlList:
    feeds: list[OpmlFeed] = field(default_factory=list)
    skipped: list[str] = field(
        default_factory=list
    )  # outlines that are not http(s) feeds, in plain words


def read_opml(data: bytes, path: str = "<opml>") -> OpmlList:
    """The feeds of an OPML subscription list (nested folders become tags)."""
    import listparser

    parsed = listparser.parse(data)  # bytes: parsed as a document, never fetched
    out = OpmlList()
    if not parsed.feeds:
        why = parsed.get("bozo_exception") if parsed.bozo else None
        raise ConfigError(f"not an OPML feed list: {why or 'no outline with an xmlUrl'}", path=path)
    seen: set[str] = set()
    for feed in parsed.feeds:
        url = safe_url(feed.get("url"))
        title = " ".join(str(feed.get("title") or "").split())
        if url is None:
            out.skipped.append(
                f"{title or feed.get('url')!s}: not an http(s) URL ({feed.get('url')!r})"
            )
            continue
        if url in seen:
            continue
        seen.add(url)
        tags = tuple(dict.fromkeys(t for t in (slug(x) for x in feed.get("tags", [])) if t))
        out.feeds.append(OpmlFeed(url=url, title=title, tags=tags))
    return out


def slug(text: str, limit: int = 40) -> str:
    """``"OC Media — English"`` → ``"oc-media-english"`` (letters of any script are kept)."""
    words = re.findall(r"\w+", str(text).lower())
    return "-".join(words)[:limit].strip("-_")


def write_opml(
    feeds: list[OpmlFeed], title: str = "signal monitor sources", now: datetime | None = None
) -> str:
    """An OPML 2.0 document with one ``rss`` outline per feed (tags as its category)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(timezone.utc))
    body = ET.SubElement(root, "body")
    for f in feeds:
        attrs = {
            "type": "rss",
            "text": f.title or f.url,
            "title": f.title or f.url,
            "xmlUrl": f.url,
        }
        if f.tags:
            attrs["category"] = ",".join(f.tags)
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
