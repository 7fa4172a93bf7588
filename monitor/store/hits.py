"""Queries on ``hits``: listing, filtering, one hit with its item.

``HitFilter`` is the one description of "which hits": the CLI builds it from options, the
web page from its query string, and both hand it to ``list_hits(**f.kwargs())``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from monitor.models import SEVERITIES, SEVERITY_RANK, Hit, HitDetail, RuleRef
from monitor.store.base import StoreBase, loads, parse_ts, ts

_HIT_COLUMNS = """h.id, h.item_id, h.rule_id, h.rule_title, h.severity, h.tags, h.terms, h.spans, h.snippet, h.why,
    h.source, h.also_in, h.created_at, h.status, h.status_reason, h.status_comment, h.status_by, h.status_at,
    i.key AS item_key, i.title, i.url, i.published, i.text, i.language, i.story_id"""
HIT_FROM = "FROM hits h JOIN items i ON i.id = h.item_id"
# severity as a number, for "most severe first" in SQL
SEVERITY_SQL = (
    "CASE h.severity "
    + " ".join(f"WHEN '{s}' THEN {r}" for r, s in enumerate(SEVERITIES))
    + " ELSE 0 END"
)


def rules_of(value: str | None) -> tuple[RuleRef, ...]:
    """The rules that fired on an item (``item_rules``), most severe first, then by id."""
    refs = {RuleRef(str(a), str(b), str(c)) for a, b, c in loads(value, [])}
    return tuple(sorted(refs, key=lambda r: (-SEVERITY_RANK.get(r.severity, 0), r.rule_id)))


def hit_from_row(r: dict[str, Any]) -> Hit:
    created = parse_ts(r["created_at"])
    assert created is not None  # NOT NULL in the schema
    return Hit(
        id=r["id"],
        rule_id=r["rule_id"],
        rule_title=r["rule_title"],
        severity=r["severity"],
        source=r["source"],
        item_key=r["item_key"],
        title=r["title"] or "",
        url=r["url"],
        created_at=created,
        published=parse_ts(r["published"]),
        terms=tuple(loads(r["terms"], [])),
        spans=tuple((int(a), int(b)) for a, b in loads(r["spans"], [])),
        snippet=r["snippet"],
        why=r["why"],
        tags=tuple(loads(r["tags"], [])),
        status=r["status"],
        also_in=tuple(loads(r["also_in"], [])),
        story=str(r["story_id"]) if r.get("story_id") else None,
        item_id=r["item_id"],
        rules=rules_of(r.get("item_rules")),
    )


class HitQueries(StoreBase):
    @property
    def _hit_columns(self) -> str:
        return f"{_HIT_COLUMNS}, {self.dialect.item_rules} AS item_rules"

    def list_hits(
        self,
        limit: int | None = 50,
        offset: int = 0,
        rule: list[str] | None = None,
        severity: list[str] | None = None,
        source: list[str] | None = None,
        status: list[str] | None = None,
        tag: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        search: str | None = None,
        before: tuple[datetime, int] | None = None,
    ) -> list[Hit]:
        """Hits, newest first, filtered; an item that several rules fired on is listed once, as
        its most severe matching hit (``Hit.rules`` names them all). ``search`` is a search as
        people type it (see ``monitor.store.search``) over item titles and texts; SearchError
        when it cannot be read. ``before`` = ``(created_at, id)`` of a listed hit: only the
        hits listed after it (a keyset page: hits recorded meanwhile do not shift it)."""
        sql, params = self._hit_filter_sql(
            rule, severity, source, status, tag, since, until, search
        )
        sql = f"SELECT {self._hit_columns} {HIT_FROM} WHERE h.id IN ({self._one_per_item(sql)}) "
        if before is not None:
            sql += "AND (h.created_at, h.id) < (?, ?) "
            params += [ts(before[0]), before[1]]
        sql += "ORDER BY h.created_at DESC, h.id DESC"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        return [hit_from_row(r) for r in self.query(sql, params)]

    def count_hits(self, **filters: Any) -> int:
        sql, params = self._hit_filter_sql(
            filters.get("rule"),
            filters.get("severity"),
            filters.get("source"),
            filters.get("status"),
            filters.get("tag"),
            filters.get("since"),
            filters.get("until"),
            filters.get("search"),
        )
        return int(self.scalar(f"SELECT COUNT(DISTINCT h.item_id) {HIT_FROM} {sql}", params) or 0)

    @staticmethod
    def _one_per_item(where: str) -> str:
        """The ids of the most severe (then first) hit of each item among the filtered hits."""
        return (
            f"SELECT id FROM (SELECT h.id, ROW_NUMBER() OVER (PARTITION BY h.item_id "
            f"ORDER BY {SEVERITY_SQL} DESC, h.id) AS n {HIT_FROM} {where}) AS ranked WHERE n = 1"
        )

    def _hit_filter_sql(
        self,
        rule: list[str] | None,
        severity: list[str] | None,
        source: list[str] | None,
        status: list[str] | None,
        tag: list[str] | None,
        since: datetime | None,
        until: datetime | None,
        search: str | None,
    ) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []

        def any_of(column: str, values: list[str] | None) -> None:
            if values:
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                params.extend(values)

        any_of("h.rule_id", rule)
        any_of("h.severity", severity)
        any_of("h.source", source)
        any_of("h.status", status)
        if tag:
            tags = self.dialect.json_elements("h.tags", "t")
            where.append(
                f"EXISTS (SELECT 1 FROM {tags} WHERE t.value IN ({','.join('?' * len(tag))}))"
            )
            params.extend(tag)
        if since:
            where.append("h.created_at >= ?")
            params.append(ts(since))
        if until:
            where.append("h.created_at < ?")
            params.append(ts(until))
        if search:  # raises SearchError for a query that cannot be read
            found, found_params = self.dialect.search(search)
            where += found
            params += found_params
        return ("WHERE " + " AND ".join(where)) if where else "", params

    def get_hit(self, hit_id: int) -> Hit | None:
        rows = self.query(
            f"SELECT {self._hit_columns} FROM hits h JOIN items i ON i.id = h.item_id WHERE h.id = ?",
            (hit_id,),
        )
        return hit_from_row(rows[0]) if rows else None

    def get_hit_row(self, hit_id: int) -> HitDetail | None:
        """The hit with its item's full text and its triage state, for detail views."""
        rows = self.query(
            f"SELECT {self._hit_columns} FROM hits h JOIN items i ON i.id = h.item_id WHERE h.id = ?",
            (hit_id,),
        )
        if not rows:
            return None
        r = rows[0]
        return HitDetail(
            hit=hit_from_row(r),
            text=r["text"] or "",
            language=r["language"],
            status_reason=r["status_reason"],
            status_comment=r["status_comment"],
            status_by=r["status_by"],
            status_at=parse_ts(r["status_at"]),
        )

    def iter_hit_rows(self, batch: int = 500, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every matching hit as a flat dict (item text included), newest first, for exports.

        Pages by (created_at, id), so hits recorded while an export runs neither repeat nor shift it.
        """
        sql, params = self._hit_filter_sql(
            filters.get("rule"),
            filters.get("severity"),
            filters.get("source"),
            filters.get("status"),
            filters.get("tag"),
            filters.get("since"),
            filters.get("until"),
            filters.get("search"),
        )
        after: tuple[str, int] | None = None
        while True:
            page_sql, page_params = sql, list(params)
            if after is not None:
                page_sql += (" AND " if page_sql else "WHERE ") + "(h.created_at, h.id) < (?, ?)"
                page_params += list(after)
            rows = self.query(
                f"SELECT {self._hit_columns} FROM hits h JOIN items i ON i.id = h.item_id {page_sql} "
                "ORDER BY h.created_at DESC, h.id DESC LIMIT ?",
                [*page_params, batch],
            )
            yield from rows
            if len(rows) < batch:
                return
            after = (rows[-1]["created_at"], rows[-1]["id"])

    def count_hits_since(self, since: datetime) -> int:
        return int(
            self.scalar("SELECT COUNT(*) FROM hits WHERE created_at >= ?", (ts(since),)) or 0
        )


_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*(?:ago)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_when(text: str, now: datetime) -> datetime:
    """A filter bound as a person writes it: ``6h``, ``2d``, ``1w`` (that long before ``now``),
    ``today``, ``yesterday``, or an ISO date / date-time (UTC unless it says otherwise).

    Raises ValueError with a plain message.
    """
    value = text.strip()
    if m := _RELATIVE.match(value):
        return now - timedelta(seconds=float(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()])
    day = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if value.lower() == "today":
        return day
    if value.lower() == "yesterday":
        return day - timedelta(days=1)
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"cannot read {text!r} as a time: use 6h, 2d, 1w, today, yesterday, 2026-11-20 or 2026-11-20T08:00"
        ) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


STATUSES: tuple[str, ...] = ("new", "acked", "dismissed")


@dataclass(frozen=True)
class HitFilter:
    """Which hits to show. Empty lists mean "any"."""

    rule: list[str] = field(default_factory=list)
    severity: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None

    def kwargs(self) -> dict[str, Any]:
        return {
            "rule": self.rule or None,
            "severity": self.severity or None,
            "source": self.source or None,
            "status": self.status or None,
            "tag": self.tag or None,
            "since": self.since,
            "until": self.until,
            "search": (self.search or "").strip() or None,
        }

    def but(self, **changes: Any) -> "HitFilter":
        return replace(self, **changes)
