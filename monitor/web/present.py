"""Presentation helpers shared by the command line and the review page.

Pure functions, no I/O: how long ago, which words to mark, what a hit looks like as a
flat record for JSON and CSV. Markup is left to the caller (rich for the terminal, Jinja2
autoescaping for HTML), so item text is never trusted as markup anywhere.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Iterable

from monitor.models import Hit, HitDetail
from monitor.store.base import loads, ts
from monitor.store.hits import rules_of
from monitor.text import merge_spans
from monitor.timefmt import ago  # noqa: F401  (the hit log's and the page's wording)
from monitor.urls import safe_url  # noqa: F401  (used by the templates)

Parts = list[tuple[str, bool]]  # (text, marked)

_MARKED = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)


def snippet_parts(snippet: str) -> Parts:
    """The matcher's snippet, where matched words are written ``**word**``, as parts."""
    parts: Parts = []
    pos = 0
    for m in _MARKED.finditer(snippet or ""):
        if m.start() > pos:
            parts.append((snippet[pos : m.start()], False))
        parts.append((m.group(1), True))
        pos = m.end()
    if pos < len(snippet or ""):
        parts.append((snippet[pos:], False))
    return parts


def span_parts(text: str, spans: list[tuple[int, int]] | tuple[tuple[int, int], ...]) -> Parts:
    """``text`` cut into parts, with the ``spans`` marked (merged as the notifier's snippets are)."""
    parts: Parts = []
    pos = 0
    for start, end in merge_spans(spans):
        start, end = max(start, pos), min(end, len(text))
        if start >= end:
            continue
        if start > pos:
            parts.append((text[pos:start], False))
        parts.append((text[start:end], True))
        pos = end
    if pos < len(text):
        parts.append((text[pos:], False))
    return parts


def document_parts(title: str, text: str, spans: Iterable[tuple[int, int]]) -> tuple[Parts, Parts]:
    """Spans index into ``Item.document`` (title, blank line, text): split them back."""
    title, text = title or "", text or ""
    offset = len(title) + 2 if title else 0
    title_spans = [(s, min(e, len(title))) for s, e in spans if s < len(title)]
    body_spans = [(s - offset, e - offset) for s, e in spans if s >= offset] if text else []
    return span_parts(title, title_spans), span_parts(text, body_spans)


def exact(when: datetime | None) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if when else "—"


def hit_record(hit: Hit, detail: HitDetail | None = None) -> dict[str, Any]:
    """The stable flat form of a hit for ``--json``, CSV and exports.

    Always has ``id, rule, severity, source, title, url, created_at`` (the CLI contract).
    """
    record = {
        "id": hit.id,
        "rule": hit.rule_id,
        "rules": list(hit.rule_ids),
        "rule_title": hit.rule_title,
        "severity": hit.severity,
        "source": hit.source,
        "title": hit.title,
        "url": hit.url,
        "created_at": ts(hit.created_at),
        "published": ts(hit.published),
        "status": hit.status,
        "tags": list(hit.tags),
        "terms": list(hit.terms),
        "why": hit.why,
        "snippet": hit.snippet,
        "also_in": list(hit.also_in),
    }
    if detail is not None:
        record.update(
            status_reason=detail.status_reason,
            status_by=detail.status_by,
            status_at=ts(detail.status_at),
        )
    return record


def row_record(row: dict[str, Any], with_text: bool = False) -> dict[str, Any]:
    """An export record from a store row (``iter_hit_rows``)."""
    record = {
        "id": row["id"],
        "rule": row["rule_id"],
        "rules": [r.rule_id for r in rules_of(row.get("item_rules"))] or [row["rule_id"]],
        "rule_title": row["rule_title"],
        "severity": row["severity"],
        "source": row["source"],
        "title": row["title"] or "",
        "url": row["url"],
        "created_at": row["created_at"],
        "published": row["published"],
        "status": row["status"],
        "status_reason": row["status_reason"],
        "status_by": row["status_by"],
        "status_at": row["status_at"],
        "tags": loads(row["tags"], []),
        "terms": loads(row["terms"], []),
        "why": row["why"],
        "snippet": row["snippet"],
        "also_in": loads(row["also_in"], []),
    }
    if with_text:
        record["text"] = row["text"]
    return record


def csv_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return "" if value is None else value
