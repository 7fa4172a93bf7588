"""Full text for feed items: fetch each new item's article page and extract its main text.

Used by sources configured with ``full_text: true``. Articles are fetched with the same
client and limits as the feed; extraction is trafilatura's. Any failure keeps the feed's
own text and adds a warning. ``done`` (kept in the source state) lists the item keys
already handled, so an article is fetched once, when its item first appears.
"""

from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor

from monitor.errors import FetchError
from monitor.models import Item, content_hash
from monitor.sources.htmltext import clean_text, decode_html
from monitor.sources.http import HttpClient

log = logging.getLogger(__name__)

MAX_PER_POLL = 30  # articles fetched per poll at most; the rest keep the feed text
WORKERS = 4
ARTICLE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


def extract_main_text(html: str, url: str | None = None) -> str | None:
    """The article's main text (trafilatura), or None when nothing article-like was found."""
    import trafilatura  # imported lazily: it is slow to import and only some sources need it

    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=False, favor_precision=True
    )
    return clean_text(text) or None


def _article(client: HttpClient, item: Item, timeout: float | None, max_bytes: int | None) -> Item:
    assert item.url
    resp = client.get(item.url, timeout=timeout, max_bytes=max_bytes, accept=ARTICLE_ACCEPT)
    text = extract_main_text(decode_html(resp.body, resp.content_type), resp.url)
    if not text:
        raise FetchError("no article text found")
    if len(text) <= len(item.text):
        return item  # the feed already carries as much
    return dataclasses.replace(item, text=text, content_hash=content_hash(item.title, text))


def enrich(
    items: list[Item],
    client: HttpClient,
    *,
    done: list[str] | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> tuple[list[Item], list[str], list[str]]:
    """Replace the text of items not in ``done`` by their article's main text.

    Returns ``(items, warnings, done)``; ``done`` keeps only keys still in the feed.
    """
    seen = set(done or [])
    todo = [i for i, item in enumerate(items) if item.key not in seen and item.url]
    warnings: list[str] = []
    if len(todo) > MAX_PER_POLL:
        warnings.append(
            f"full text fetched for {MAX_PER_POLL} of {len(todo)} new items; "
            "the rest keep the feed text"
        )
        todo = todo[:MAX_PER_POLL]
    out = list(items)
    if todo:
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(todo))) as pool:
            futures = {i: pool.submit(_article, client, items[i], timeout, max_bytes) for i in todo}
        for i, future in futures.items():
            try:
                out[i] = future.result()
            except Exception as exc:  # any failure keeps the feed text, visibly
                warnings.append(f"full text unavailable for {items[i].url}: {exc}")
                log.debug("full text failed for %s", items[i].url, exc_info=True)
    return out, warnings, [item.key for item in items]
