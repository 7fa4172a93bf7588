"""``feed`` sources: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed directly.

    HttpClient.get(url, validators) ──► 304: FetchResult(not_modified=True), nothing parsed
                                    └─► bytes ──► harden (DOCTYPE/ENTITY out) ──► feedparser
                                                  ──► entries ──► Items (stable keys, clean text)

feedparser only ever sees bytes in a BytesIO: never a URL or a path (it would fetch or
read them itself, without limits). A "bozo" feed that still has entries is a warning; a
body that is no feed at all is a FetchError.
"""

from __future__ import annotations

import calendar
import io
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import feedparser

from monitor.errors import FetchError
from monitor.models import Item, content_hash
from monitor.sources import fulltext
from monitor.sources.base import FetchResult, SourceState
from monitor.sources.feedharden import harden
from monitor.sources.htmltext import clean_text, html_to_text, language_code, one_line, safe_url
from monitor.sources.httpsource import HttpSource

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
MAX_KEY_LENGTH = 512
TTL_MAX = 86400.0  # a feed's <ttl> is honoured up to a day


@dataclass
class ParsedFeed:
    title: str = ""
    items: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ttl: float | None = None  # seconds, from <ttl>
    version: str = ""


# -- parsing --------------------------------------------------------------------------


def _struct_to_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _iso_to_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def _detail_text(value: str | None, detail: Any) -> str:
    kind = (detail or {}).get("type", "") if isinstance(detail, dict) else ""
    return html_to_text(value) if "html" in (kind or "text/html") else clean_text(value)


def _make_key(guid: str | None, link: str | None, title: str, text: str) -> str:
    key = (guid or "").strip() or (link or "").strip()
    if not key:
        return "sha:" + content_hash(title, text)
    if len(key) > MAX_KEY_LENGTH:
        return "sha:" + content_hash(key)
    return key


class _ItemBuilder:
    """Collects items of one feed: first occurrence of a key wins, repeats are counted."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[Item] = []
        self.keys: set[str] = set()
        self.repeats = 0
        self.empty = 0

    def add(self, key: str, **fields: Any) -> None:
        if not fields["title"] and not fields["text"]:
            self.empty += 1  # nothing a rule could match
            return
        if key in self.keys:
            self.repeats += 1
            return
        self.keys.add(key)
        title, text = fields["title"], fields["text"]
        self.items.append(
            Item(source=self.source, key=key, content_hash=content_hash(title, text), **fields)
        )

    def warnings(self) -> list[str]:
        out = []
        if self.repeats:
            out.append(
                f"{self.repeats} entries repeat an id already seen in this feed (the first is kept)"
            )
        if self.empty:
            out.append(f"{self.empty} entries without title or text skipped")
        return out


def _feedparser_entries(
    result: Any,
    builder: _ItemBuilder,
    base: str | None,
    language: str | None,
    feed_language: str | None,
) -> None:
    for entry in result.entries:
        title = _detail_text(entry.get("title"), entry.get("title_detail"))
        title = one_line(title)
        contents = [c for c in entry.get("content") or [] if c.get("value")]
        best = max(contents, key=lambda c: len(c.get("value") or ""), default=None)
        summary = entry.get("summary") or ""
        if best is not None and len(best.get("value") or "") >= len(summary):
            text = _detail_text(best.get("value"), best)
            lang_detail = best
        else:
            text = _detail_text(summary, entry.get("summary_detail"))
            lang_detail = entry.get("summary_detail")
        link = safe_url(entry.get("link"), base)
        guid = entry.get("id") or None
        if link is None and guid and entry.get("guidislink", False):
            link = safe_url(guid, base)
        item_lang = None
        for detail in (lang_detail, entry.get("title_detail")):
            if isinstance(detail, dict) and detail.get("language"):
                item_lang = detail.get("language")
                break
        published = None
        for name in ("published_parsed", "updated_parsed", "created_parsed"):
            published = _struct_to_datetime(dict.get(entry, name))  # no feedparser key aliasing
            if published:
                break
        builder.add(
            _make_key(guid, link, title, text),
            title=title,
            text=text,
            url=link,
            published=published,
            language=language or language_code(item_lang) or feed_language,
            author=one_line(entry.get("author")) or None,
        )


def _parse_json_feed(
    data: dict[str, Any],
    source: str,
    base: str | None,
    language: str | None,
    fallback_language: str | None,
) -> ParsedFeed:
    parsed = ParsedFeed(title=one_line(str(data.get("title") or "")), version="json")
    feed_language = language_code(data.get("language")) or fallback_language
    builder = _ItemBuilder(source)
    items = data.get("items")
    if not isinstance(items, list):
        parsed.warnings.append("JSON Feed without an items list")
        items = []
    for raw in items:
        if not isinstance(raw, dict):
            continue
        title = one_line(str(raw.get("title") or ""))
        if isinstance(raw.get("content_html"), str):
            text = html_to_text(raw["content_html"])
        elif isinstance(raw.get("content_text"), str):
            text = clean_text(raw["content_text"])
        else:
            text = clean_text(str(raw.get("summary") or ""))
        link = safe_url(raw.get("url") if isinstance(raw.get("url"), str) else None, base)
        guid = raw.get("id")
        guid = str(guid) if guid is not None and not isinstance(guid, (dict, list)) else None
        authors = raw.get("authors") or (
            [raw["author"]] if isinstance(raw.get("author"), dict) else []
        )
        author = next(
            (
                one_line(str(a.get("name")))
                for a in authors
                if isinstance(a, dict) and a.get("name")
            ),
            None,
        )
        builder.add(
            _make_key(guid, link, title, text),
            title=title,
            text=text,
            url=link,
            published=_iso_to_datetime(raw.get("date_published"))
            or _iso_to_datetime(raw.get("date_modified")),
            language=language
            or language_code(raw.get("language") if isinstance(raw.get("language"), str) else None)
            or feed_language,
            author=author,
        )
    parsed.items = builder.items
    parsed.warnings += builder.warnings()
    return parsed


def _looks_like_json_feed(body: bytes) -> dict[str, Any] | None:
    head = body.lstrip()[:1]
    if head not in (b"{", b"\xef"):
        return None
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None
    if isinstance(data, dict) and "jsonfeed.org" in str(data.get("version", "")):
        return data
    return None


def parse_feed(
    body: bytes,
    *,
    source: str,
    url: str | None = None,
    headers: dict[str, str] | None = None,
    language: str | None = None,
) -> ParsedFeed:
    """Parse fetched feed bytes into Items. Raises FetchError when the body is no feed at all.

    ``language`` (from the source config) overrides what the feed says; otherwise the
    item's ``xml:lang``, then the feed's language, then HTTP Content-Language, else None.
    """
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    http_language = language_code((headers.get("content-language") or "").split(",")[0])
    json_feed = _looks_like_json_feed(body)
    if json_feed is not None:
        return _parse_json_feed(json_feed, source, url, language, http_language)

    body, warnings = harden(body)
    # no Content-Location: feedparser would resolve relative guids against it, and a
    # guid is an identity, not a link (links are resolved against ``url`` below)
    response_headers = {"content-type": headers.get("content-type", "application/xml")}
    if headers.get("content-language"):
        response_headers["content-language"] = headers["content-language"]
    result = feedparser.parse(io.BytesIO(body), response_headers=response_headers)

    parsed = ParsedFeed(warnings=warnings, version=result.get("version") or "")
    feed = result.get("feed") or {}
    parsed.title = one_line(_detail_text(feed.get("title"), feed.get("title_detail")))
    if result.get("bozo"):
        exc = result.get("bozo_exception")
        reason = f"{type(exc).__name__}: {exc}" if exc else "malformed"
        if not result.entries and not parsed.version:
            raise FetchError(f"not a feed ({one_line(reason)[:200]})")
        if not isinstance(exc, feedparser.NonXMLContentType):  # a feed served as text/plain is fine
            parsed.warnings.append(f"malformed feed, read leniently: {one_line(reason)[:200]}")
    elif not result.entries and not parsed.version:
        raise FetchError("not a feed (no RSS, Atom or JSON Feed found)")
    if result.entries and _cut_short(body):
        # the body ends before the document does (a dropped connection, a cap): the last
        # entry may be cut mid-way, and once stored as seen it would never be read whole
        result.entries.pop()
        parsed.warnings.append(
            "feed ends before its closing tag; its last entry is left for the next poll"
        )
    ttl = feed.get("ttl")
    if ttl and str(ttl).strip().isdigit():
        parsed.ttl = min(float(str(ttl).strip()) * 60, TTL_MAX)
    feed_language = language_code(feed.get("language")) or http_language
    builder = _ItemBuilder(source)
    _feedparser_entries(result, builder, url, language, feed_language)
    parsed.items = builder.items
    parsed.warnings += builder.warnings()
    return parsed


_CLOSING = re.compile(
    rb"</\s*(?:[A-Za-z_][\w.-]*:)?(?:rss|feed|RDF)\s*>\s*(?:<!--.*?-->\s*)*\Z",
    re.DOTALL | re.IGNORECASE,
)


def _cut_short(body: bytes) -> bool:
    """True when an XML feed's body stops before the root element's closing tag."""
    return _CLOSING.search(body[-4096:].rstrip(b"\x00")) is None


# -- the source -----------------------------------------------------------------------


class FeedSource(HttpSource):
    kind = "feed"
    accept = FEED_ACCEPT

    def fetch(self, state: SourceState) -> FetchResult:
        cfg = self.cfg
        resp, data, unchanged = self.get(state)
        if unchanged is not None:
            return unchanged
        parsed = parse_feed(
            resp.body, source=self.name, url=resp.url, headers=resp.headers, language=cfg.language
        )
        items, warnings = parsed.items, list(parsed.warnings)
        data["url"] = self.url
        if cfg.full_text:
            items, more, data["full_text_done"] = fulltext.enrich(
                items,
                self.client,
                done=data.get("full_text_done", []),
                timeout=cfg.timeout,
                max_bytes=cfg.max_bytes,
            )
            warnings += more
        floors = [v for v in (resp.max_age, parsed.ttl) if v]
        return FetchResult(
            items=items,
            state=SourceState(etag=resp.etag, last_modified=resp.last_modified, data=data),
            warnings=warnings,
            min_next_poll=max(floors) if floors else None,
        )
