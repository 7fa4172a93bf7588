"""Frozen data passed between stages. Imports nothing of ours but ``rulematch`` (the
matcher's answer, re-exported here).

Source.fetch() ──► Item ──► Matcher.match(item) ──► RuleMatch ─┐
                                                               ▼
Store reads ──► StoryHit, Silence, AlertedHit ──► dedup.fold / router.plan (pure)
                                                               │
Store writes ◄── Entry, OutboxPlan ◄───────────────────────────┘ ──► Hit, Delivery
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from monitor.rulematch import RuleEvidence as RuleEvidence
from monitor.rulematch import RuleMatch as RuleMatch

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITIES)}


def utcnow() -> datetime:
    """Timezone-aware now, in UTC. The one clock of the project (tests may patch it)."""
    return datetime.now(timezone.utc)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def well_formed(s: str) -> str:
    """``s`` with every lone surrogate (a JSON feed or a mis-decoded file may hold one) as
    U+FFFD: one character for one, so offsets into the text stay where they were. Such a
    character cannot be encoded as UTF-8, so the regex engine and the store would refuse it."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", s)
    return s


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

    def __post_init__(self) -> None:
        # Text that is not well-formed Unicode is made so once, here, where every source's
        # item is born: the matcher, the store and the notifiers then never meet it.
        for name in ("title", "text", "author"):
            value = getattr(self, name)
            if value and not value.isascii():
                object.__setattr__(self, name, well_formed(value))

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


@dataclass(frozen=True)
class SourceState:
    """What a source remembers between polls, persisted by the store as JSON."""

    etag: str | None = None
    last_modified: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """A source's row: its polling state and health."""

    name: str
    kind: str
    target: str | None = None
    consecutive_failures: int = 0
    failing: bool = False
    disabled_reason: str | None = None
    last_error: str | None = None
    last_poll_at: datetime | None = None
    last_success_at: datetime | None = None
    next_poll_at: datetime | None = None
    items_seen: int = 0
    state: SourceState = field(default_factory=SourceState)
    interval: float | None = None
    last_error_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ListedSource(SourceStatus):
    """A source's row as the source list shows it: with how many of its items are stored."""

    items_stored: int = 0


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A rule as a hit names it: id, title and severity at the time it fired."""

    rule_id: str
    rule_title: str
    severity: str


@dataclass(frozen=True, slots=True)
class Hit:
    """A recorded match: a rule fired on an item at a time.

    ``rules`` names every rule that fired on the same item (this hit's own rule among them),
    most severe first: the analyst gets one alert per item, naming them all.
    """

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
    item_id: int | None = None
    rules: tuple[RuleRef, ...] = ()

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Every rule that fired on this hit's item: this hit's own first, then the others
        most severe first."""
        return (self.rule_id, *(r.rule_id for r in self.rules if r.rule_id != self.rule_id))


@dataclass(frozen=True, slots=True)
class HitDetail:
    """A hit with its item's full text and its triage state, for detail views.

    ``status_reason`` is the dismissal's reason (``false-positive`` …), ``status_comment`` the
    person's own words, ``status_by`` and ``status_at`` who set the status and when.
    """

    hit: Hit
    text: str = ""
    language: str | None = None
    status_reason: str | None = None
    status_comment: str | None = None
    status_by: str | None = None
    status_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class HitNote:
    """One entry of a hit's history: a note, or a status change (ack, dismiss, reopen)."""

    id: int
    hit_id: int
    action: str  # note | ack | dismiss | reopen
    created_at: datetime
    text: str | None = None
    by: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row: one message (an alert, a digest member, a summary, a notice) to one channel."""

    id: int
    hit_id: int | None
    channel: str
    status: str  # pending | inflight | sent | failed | suppressed
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    created_at: datetime | None = None
    digest_key: str | None = None
    kind: str = "hit"  # hit | digest-member | summary | ops | test
    route: str | None = None
    payload: Any = None
    delivered: dict[str, str] = field(default_factory=dict)  # url key -> sent | failed
    inflight_at: datetime | None = None


# -- what the pure stages between matching and writing read and decide --------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """An item to record, with what the matcher found and its near-duplicate fingerprint."""

    item: Item
    matches: list[RuleMatch] = field(default_factory=list)
    fingerprint: int | None = None


@dataclass(frozen=True, slots=True)
class StoryCandidate:
    """An earlier hit whose fingerprint has one of a new item's probe keys (same rule)."""

    hit_id: int
    rule_id: str
    fingerprint: int


@dataclass(frozen=True, slots=True)
class StoryHit:
    """An earlier hit a new item is another copy of: what folding into it needs."""

    hit_id: int
    rule_id: str
    item_id: int
    story_id: int | None
    source: str
    also_in: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlertedHit:
    """A recent hit that was (or is being) alerted: for the cooldown per rule and story."""

    hit_id: int
    rule_id: str
    item_id: int
    story_id: int | None
    title: str


@dataclass(frozen=True, slots=True)
class Silence:
    """No alert for a rule and/or a source until ``expires_at``."""

    id: int
    rule_id: str | None
    source: str | None
    expires_at: datetime
    comment: str = ""
    created_by: str | None = None
    created_at: datetime | None = None

    def covers(self, rule_id: str, source: str, now: datetime) -> bool:
        return (
            self.expires_at > now
            and self.rule_id in (None, rule_id)
            and self.source in (None, source)
        )


@dataclass(frozen=True, slots=True)
class OutboxPlan:
    """One row to put in the outbox for a new hit (decided by the router)."""

    hit_id: int
    channel: str
    next_attempt_at: datetime
    route: str | None = None
    kind: str = "hit"
    digest_key: str | None = None
    status: str = "pending"  # or "suppressed" (silenced, cooled down): kept for the record
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class RecordResult:
    new_items: int
    hits: list[Hit]
    folded: list[
        tuple[int, str]
    ]  # (existing hit id, source) folded into an earlier hit of the same story
