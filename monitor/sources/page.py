"""``page`` sources: a web page (optionally narrowed by a CSS selector) watched for new text.

    fetch ──► text ──► paragraphs ──► those whose hash was never seen ──► ONE Item

The first poll yields the whole page as one item; later polls yield one item holding only
the paragraphs that are new since (and none when nothing is new). The state keeps the
hashes of the paragraphs seen, so a paragraph that leaves the page and comes back is not
new. The item key is the hash of its text.
"""

from __future__ import annotations

import hashlib
import logging

from monitor.errors import FetchError
from monitor.models import Item, content_hash
from monitor.sources.base import FetchResult, SourceState
from monitor.sources.htmltext import decode_html, language_code, page_text, paragraphs
from monitor.sources.httpsource import HttpSource

log = logging.getLogger(__name__)

PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, text/plain;q=0.8, */*;q=0.5"
MAX_SEEN = 20_000  # paragraph hashes remembered per page (oldest forgotten first)


def paragraph_hash(text: str) -> str:
    normalised = " ".join(text.lower().split())
    return hashlib.blake2b(normalised.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


class PageSource(HttpSource):
    kind = "page"
    accept = PAGE_ACCEPT

    def fetch(self, state: SourceState) -> FetchResult:
        cfg = self.cfg
        resp, data, unchanged = self.get(state)
        if unchanged is not None:
            return unchanged
        html = decode_html(resp.body, resp.content_type)
        try:
            title, text, matched = page_text(html, cfg.selector)
        except ValueError as exc:
            raise FetchError(str(exc)) from None
        warnings: list[str] = []
        if cfg.selector and not matched:
            warnings.append(f"selector {cfg.selector!r} matched nothing on the page")

        seen: list[str] = list(data.get("seen", []))
        known = set(seen)
        new: list[str] = []
        for para in paragraphs(text):
            h = paragraph_hash(para)
            if h not in known:
                known.add(h)
                seen.append(h)
                new.append(para)
        items: list[Item] = []
        if new:
            body = "\n\n".join(new)
            items.append(
                Item(
                    source=self.name,
                    key="page:" + content_hash(body),
                    title=title or self.url,
                    text=body,
                    url=resp.url,
                    language=cfg.language or language_code(resp.headers.get("content-language")),
                    content_hash=content_hash(title, body),
                )
            )
        data.update(url=self.url, seen=seen[-MAX_SEEN:])
        return FetchResult(
            items=items,
            state=SourceState(etag=resp.etag, last_modified=resp.last_modified, data=data),
            warnings=warnings,
            min_next_poll=resp.max_age,
        )
