"""Frozen data passed between stages. Imports nothing of ours.

    Source.fetch() ──► Item ──► Matcher.match(item) ──► RuleMatch ──► Store ──► Hit
                                                                        │
                                                        outbox row ◄────┘ ──► Delivery
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITIES)}


def utcnow() -> datetime:
    """Timezone-aware now, in UTC. The one clock of the project (tests may patch it)."""
    return datetime.now(timezone.utc)


def content_hash(*parts: str | None) -> str:
    """A stable short hash of text parts, used for item identity and change detection."""
    h = hashlib.sha256()
    for part in parts:
        h.update((part or "").encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Item:
    """One unit of text from a source: a feed entry, a page change, a file.

    ``key`` is the item's stable identity within its source (guid, else link, else a
    content hash); the store never matches the same (source, key) twice.
    """

    source: str
    key: str
    title: str = ""
    text: str = ""
    url: str | None = None
    published: datetime | None = None
    language: str | None = None
    author: str | None = None
    content_hash: str = ""

    @property
    def document(self) -> str:
        """The text rules see: the title, a blank line, the body. Spans index into it."""
        if self.title and self.text:
            return f"{self.title}\n\n{self.text}"
        return self.title or self.text

    @property
    def title_end(self) -> int:
        """Offset in ``document`` where the title ends (for title/body field scopes)."""
        return len(self.title)

    def fingerprint(self) -> str:
        return self.content_hash or content_hash(self.title, self.text)


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """The matcher's pure answer: one rule fired on one item, with its evidence.

    ``spans`` are ``(start, end)`` character offsets into ``Item.document``;
    ``terms`` are the rule terms (as written in the rule) that matched, in order of first
    appearance; ``why`` says in words which clause fired; ``snippet`` is a short excerpt
    around the strongest evidence with the matched words marked ``**like this**``.
    """

    rule_id: str
    rule_title: str
    severity: str
    terms: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    snippet: str
    why: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    """A recorded match: a rule fired on an item at a time."""

    id: int
    rule_id: str
    rule_title: str
    severity: str
    source: str
    item_key: str
    title: str
    url: str | None
    created_at: datetime
    published: datetime | None = None
    terms: tuple[str, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()
    snippet: str = ""
    why: str = ""
    tags: tuple[str, ...] = ()
    status: str = "new"
    story: str | None = None
    also_in: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row: one hit (or digest) to one channel."""

    id: int
    hit_id: int | None
    channel: str
    status: str  # pending | inflight | sent | failed
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    created_at: datetime | None = None
    digest_key: str | None = None
