"""Triage: acknowledge, dismiss, reopen and annotate hits; the feedback numbers per rule.

A hit's life:   new ──ack──► acked
                 │  ◄─reopen─┘
                 └──dismiss (false-positive | duplicate | irrelevant)──► dismissed ──reopen──► new

Every action writes the hit's current status (``status``, ``status_reason`` — the category —,
``status_comment`` — the person's own words —, ``status_by``, ``status_at``) and one ``hit_notes``
row (the history), in one transaction. An action that
would change nothing (acknowledging an acknowledged hit) writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Iterable

from monitor.models import HitNote
from monitor.store.base import StoreBase, parse_ts, ts
from monitor.suggest import did_you_mean, one_of

DISMISS_REASONS: tuple[str, ...] = ("false-positive", "duplicate", "irrelevant")
_TARGET = {"ack": "acked", "dismiss": "dismissed", "reopen": "new"}


def parse_dismissal(text: str) -> tuple[str, str | None]:
    """``"false-positive: a software release"`` → ``("false-positive", "a software release")``.

    The category comes first (``false positive`` and ``False-Positive`` are read too); the
    rest, after ``:``, ``-`` or ``—``, is a free-text comment. Raises ValueError in plain words.
    """
    raw = (text or "").strip()
    m = re.match(r"^([A-Za-z][A-Za-z _-]*?)\s*(?:[:—–]|\s-\s|$)\s*(.*)$", raw, re.DOTALL)
    head = m.group(1) if m else raw
    category = re.sub(r"[\s_]+", "-", head.strip().lower())
    if m and category in DISMISS_REASONS:
        return category, (m.group(2).strip() or None)
    first = re.split(r"[\s:—–]", raw, maxsplit=1)[0]
    hint = did_you_mean(first, DISMISS_REASONS) if first else ""
    raise ValueError(
        f"a dismissal starts with its category: {one_of(DISMISS_REASONS)}{hint}; "
        f'add your own words after it ("false-positive: a software release") or in --comment'
    )


@dataclass(frozen=True)
class TriageResult:
    """Which of the asked-for hits changed, were already so, or do not exist."""

    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class RuleStats:
    """How one rule has behaved: the numbers that say which rule to tighten."""

    rule_id: str
    rule_title: str
    severity: str
    total: int
    last_7d: int
    last_30d: int
    acked: int
    dismissed: int
    false_positives: int
    last_fired: datetime | None

    @property
    def false_positive_share(self) -> float | None:
        """Share of the rule's hits dismissed as false positives (None when it never fired)."""
        return self.false_positives / self.total if self.total else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "title": self.rule_title,
            "severity": self.severity,
            "total": self.total,
            "last_7d": self.last_7d,
            "last_30d": self.last_30d,
            "acked": self.acked,
            "dismissed": self.dismissed,
            "false_positives": self.false_positives,
            "false_positive_share": None
            if self.false_positive_share is None
            else round(self.false_positive_share, 4),
            "last_fired": ts(self.last_fired),
        }


def _when(value: str) -> datetime:
    """A NOT NULL time column."""
    when = parse_ts(value)
    assert when is not None
    return when


class TriageQueries(StoreBase):
    def ack_hits(
        self, ids: Iterable[int], by: str, now: datetime, note: str | None = None
    ) -> TriageResult:
        return self._set_status(ids, "ack", by, now, reason=None, note=note)

    def dismiss_hits(
        self, ids: Iterable[int], reason: str, by: str, now: datetime, note: str | None = None
    ) -> TriageResult:
        if reason not in DISMISS_REASONS:
            raise ValueError(f"reason must be one of {', '.join(DISMISS_REASONS)}")
        return self._set_status(ids, "dismiss", by, now, reason=reason, note=note)

    def reopen_hits(
        self, ids: Iterable[int], by: str, now: datetime, note: str | None = None
    ) -> TriageResult:
        return self._set_status(ids, "reopen", by, now, reason=None, note=note)

    def _set_status(
        self,
        ids: Iterable[int],
        action: str,
        by: str,
        now: datetime,
        reason: str | None,
        note: str | None,
    ) -> TriageResult:
        target = _TARGET[action]
        result = TriageResult()
        with self.transaction() as c:
            for hit_id in dict.fromkeys(int(i) for i in ids):
                row = c.execute(
                    "SELECT status, status_reason, status_comment FROM hits WHERE id = ?", (hit_id,)
                ).fetchone()
                if row is None:
                    result.missing.append(hit_id)
                    continue
                comment = (note or "").strip() or None
                if (
                    row[0] == target
                    and (row[1] or None) == reason
                    and (comment is None or comment == row[2])
                ):
                    result.unchanged.append(hit_id)
                    continue
                c.execute(
                    """UPDATE hits SET status = ?, status_reason = ?, status_comment = ?, status_by = ?, status_at = ?
                       WHERE id = ?""",
                    (target, reason, (note or "").strip() or None, by, ts(now), hit_id),
                )
                text = " — ".join(p for p in (reason, (note or "").strip()) if p) or None
                c.execute(
                    "INSERT INTO hit_notes(hit_id, action, text, by, created_at) VALUES (?, ?, ?, ?, ?)",
                    (hit_id, action, text, by, ts(now)),
                )
                result.changed.append(hit_id)
        return result

    def add_note(self, hit_id: int, text: str, by: str, now: datetime) -> int | None:
        """Attach a note to a hit; the note's id, or None when there is no such hit."""
        text = (text or "").strip()
        if not text:
            raise ValueError("a note needs some text")
        with self.transaction() as c:
            if c.execute("SELECT 1 FROM hits WHERE id = ?", (hit_id,)).fetchone() is None:
                return None
            new_id = c.insert(
                "INSERT INTO hit_notes(hit_id, action, text, by, created_at) VALUES (?, 'note', ?, ?, ?)",
                (hit_id, text, by, ts(now)),
            )
            assert new_id is not None
            return new_id

    def hit_notes(self, hit_id: int) -> list[HitNote]:
        """The hit's history (notes and status changes), oldest first."""
        rows = self.query(
            "SELECT * FROM hit_notes WHERE hit_id = ? ORDER BY created_at, id", (hit_id,)
        )
        return [
            HitNote(
                id=r["id"],
                hit_id=r["hit_id"],
                action=r["action"],
                created_at=_when(r["created_at"]),
                text=r["text"],
                by=r["by"],
            )
            for r in rows
        ]

    def rule_stats(
        self, now: datetime, rules: Iterable[tuple[str, str, str]] = ()
    ) -> list[RuleStats]:
        """Per rule: hits in the last 7 and 30 days, in all, triage counts, last fired.

        ``rules`` — (id, title, severity) of the rules currently loaded — adds rules that
        never fired (all zeros) and gives current titles. Sorted by hits in the last 30 days.
        """
        rows = self.query(
            """SELECT rule_id,
                      (SELECT rule_title FROM hits x WHERE x.rule_id = h.rule_id ORDER BY x.id DESC LIMIT 1) AS rule_title,
                      (SELECT severity FROM hits x WHERE x.rule_id = h.rule_id ORDER BY x.id DESC LIMIT 1) AS severity,
                      COUNT(*) AS total,
                      COUNT(*) FILTER (WHERE created_at >= ?) AS last_7d,
                      COUNT(*) FILTER (WHERE created_at >= ?) AS last_30d,
                      COUNT(*) FILTER (WHERE status = 'acked') AS acked,
                      COUNT(*) FILTER (WHERE status = 'dismissed') AS dismissed,
                      COUNT(*) FILTER (WHERE status = 'dismissed' AND status_reason = 'false-positive') AS false_positives,
                      MAX(created_at) AS last_fired
               FROM hits h GROUP BY rule_id""",
            (ts(now - timedelta(days=7)), ts(now - timedelta(days=30))),
        )
        stats = {
            r["rule_id"]: RuleStats(
                rule_id=r["rule_id"],
                rule_title=r["rule_title"],
                severity=r["severity"],
                total=r["total"],
                last_7d=r["last_7d"] or 0,
                last_30d=r["last_30d"] or 0,
                acked=r["acked"] or 0,
                dismissed=r["dismissed"] or 0,
                false_positives=r["false_positives"] or 0,
                last_fired=parse_ts(r["last_fired"]),
            )
            for r in rows
        }
        for rule_id, title, severity in rules:
            if rule_id in stats:
                stats[rule_id] = replace(stats[rule_id], rule_title=title, severity=severity)
            else:
                stats[rule_id] = RuleStats(rule_id, title, severity, 0, 0, 0, 0, 0, 0, None)
        return sorted(stats.values(), key=lambda s: (-s.last_30d, -s.total, s.rule_id))

    def hit_facets(self) -> dict[str, Any]:
        """What the filters can offer, with counts: rules, sources, tags, severities, statuses."""
        return {
            "rules": self.query(
                """SELECT rule_id AS value,
                          (SELECT rule_title FROM hits x WHERE x.rule_id = h.rule_id ORDER BY x.id DESC LIMIT 1) AS label,
                          COUNT(*) AS n
                   FROM hits h GROUP BY rule_id ORDER BY rule_id"""
            ),
            "sources": self.query(
                "SELECT source AS value, COUNT(*) AS n FROM hits GROUP BY source ORDER BY source"
            ),
            "tags": self.query(
                f"""SELECT j.value AS value, COUNT(*) AS n FROM hits h, {self.dialect.json_elements("h.tags", "j")}
                   GROUP BY j.value ORDER BY j.value"""
            ),
            "severities": {
                r["severity"]: r["n"]
                for r in self.query("SELECT severity, COUNT(*) AS n FROM hits GROUP BY severity")
            },
            "statuses": {
                r["status"]: r["n"]
                for r in self.query("SELECT status, COUNT(*) AS n FROM hits GROUP BY status")
            },
        }
