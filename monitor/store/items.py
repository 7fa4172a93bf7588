"""Queries on ``items`` and the one write that records a poll's outcome.

``record()`` writes new items, their hits and the hits' outbox rows in ONE transaction:
a crash either loses the whole poll (which is then polled again, since its items were
not stored as seen) or keeps all of it, alerts included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Iterator

from monitor.models import Hit, Item, RuleMatch
from monitor.store.base import StoreBase, dumps, loads, parse_ts, ts

_U64 = 1 << 64


def _to_sql_int(fp: int | None) -> int | None:
    if fp is None:
        return None
    fp &= _U64 - 1
    return fp - _U64 if fp >= (1 << 63) else fp


def _from_sql_int(v: int | None) -> int | None:
    if v is None:
        return None
    return v + _U64 if v < 0 else v


@dataclass(frozen=True)
class OutboxPlan:
    """One row to put in the outbox for a new hit (decided by the notifier's router)."""

    channel: str
    next_attempt_at: datetime
    route: str | None = None
    kind: str = "hit"
    digest_key: str | None = None
    status: str = "pending"  # or "suppressed" (silenced, cooled down): kept for the record
    last_error: str | None = None


@dataclass(frozen=True)
class Entry:
    """An item to record, with what the matcher found and its near-duplicate fingerprint."""

    item: Item
    matches: list[RuleMatch] = field(default_factory=list)
    fingerprint: int | None = None


@dataclass(frozen=True)
class RecordResult:
    new_items: int
    hits: list[Hit]
    folded: list[tuple[int, str]]  # (existing hit id, source) folded into an earlier hit of the same story


Planner = Callable[[Hit], list[OutboxPlan]]
Similar = Callable[[int, int], bool]


class ItemQueries(StoreBase):
    def unseen_keys(self, source: str, keys: Iterable[str]) -> set[str]:
        """The keys among ``keys`` that this source has never stored."""
        keys = list(dict.fromkeys(keys))
        seen: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.query(f"SELECT key FROM items WHERE source = ? AND key IN ({marks})", [source, *chunk])
            seen.update(r["key"] for r in rows)
        return {k for k in keys if k not in seen}

    def record(
        self,
        entries: list[Entry],
        plan: Planner,
        now: datetime,
        similar: Similar | None = None,
        dedup_window: float = 3 * 86400,
    ) -> RecordResult:
        """Store items, hits and outbox rows in one transaction (see module docstring)."""
        hits: list[Hit] = []
        folded: list[tuple[int, str]] = []
        new_items = 0
        since = ts(now - timedelta(seconds=dedup_window))
        with self.transaction() as c:
            for entry in entries:
                it = entry.item
                cur = c.execute(
                    """INSERT OR IGNORE INTO items(source, key, url, title, text, published, language, author,
                           content_hash, fingerprint, fetched_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (it.source, it.key, it.url, it.title, it.text, ts(it.published), it.language, it.author,
                     it.fingerprint(), _to_sql_int(entry.fingerprint), ts(now)),
                )
                if cur.rowcount == 0:
                    continue  # stored meanwhile by another poll: never matched twice
                item_id = cur.lastrowid
                new_items += 1
                story_id = item_id
                for m in entry.matches:
                    earlier = None
                    if similar is not None and entry.fingerprint is not None:
                        earlier = self._same_story_hit(c, m.rule_id, entry.fingerprint, since, similar)
                    if earlier is not None:
                        hit_id, other_item, other_story, also_in, src = earlier
                        story_id = other_story or other_item
                        if it.source != src and it.source not in also_in:
                            also_in.append(it.source)
                            c.execute("UPDATE hits SET also_in = ? WHERE id = ?", (dumps(also_in), hit_id))
                        folded.append((hit_id, it.source))
                        continue
                    cur = c.execute(
                        """INSERT OR IGNORE INTO hits(item_id, rule_id, rule_title, severity, tags, terms, spans,
                               snippet, why, source, created_at)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        (item_id, m.rule_id, m.rule_title, m.severity, dumps(list(m.tags)), dumps(list(m.terms)),
                         dumps([list(s) for s in m.spans]), m.snippet, m.why, it.source, ts(now)),
                    )
                    if cur.rowcount == 0:
                        continue
                    hit = Hit(
                        id=cur.lastrowid, rule_id=m.rule_id, rule_title=m.rule_title, severity=m.severity,
                        source=it.source, item_key=it.key, title=it.title, url=it.url, created_at=now,
                        published=it.published, terms=m.terms, spans=m.spans, snippet=m.snippet, why=m.why,
                        tags=m.tags, story=None,
                    )
                    for row in plan(hit):
                        c.execute(
                            """INSERT INTO outbox(hit_id, channel, kind, route, digest_key, status, next_attempt_at,
                                   last_error, created_at)
                               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                            (hit.id, row.channel, row.kind, row.route, row.digest_key, row.status,
                             ts(row.next_attempt_at), row.last_error, ts(now)),
                        )
                    hits.append(hit)
                if story_id != item_id:
                    c.execute("UPDATE items SET story_id = ? WHERE id = ?", (story_id, item_id))
        return RecordResult(new_items=new_items, hits=hits, folded=folded)

    def _same_story_hit(self, c, rule_id: str, fp: int, since: str | None, similar: Similar):
        rows = c.execute(
            """SELECT h.id, h.item_id, i.story_id, h.also_in, h.source, i.fingerprint
               FROM hits h JOIN items i ON i.id = h.item_id
               WHERE h.rule_id = ? AND h.created_at >= ? AND i.fingerprint IS NOT NULL
               ORDER BY h.id""",
            (rule_id, since),
        ).fetchall()
        for hit_id, item_id, story_id, also_in, src, other_fp in rows:
            if similar(fp, _from_sql_int(other_fp)):
                return hit_id, item_id, story_id, loads(also_in, []), src
        return None

    def iter_items(self, since: datetime | None = None, batch: int = 500) -> Iterator[dict[str, Any]]:
        """Stored items, oldest first, with the rule ids that fired on each (``hit_rules``)."""
        last_id = 0
        while True:
            rows = self.query(
                """SELECT i.*, (SELECT json_group_array(rule_id) FROM hits h WHERE h.item_id = i.id) AS hit_rules
                   FROM items i WHERE i.id > ? AND (? IS NULL OR i.fetched_at >= ?)
                   ORDER BY i.id LIMIT ?""",
                (last_id, ts(since), ts(since), batch),
            )
            if not rows:
                return
            for r in rows:
                r["hit_rules"] = loads(r["hit_rules"], [])
                r["published"] = parse_ts(r["published"])
                r["fetched_at"] = parse_ts(r["fetched_at"])
                yield r
            last_id = rows[-1]["id"]

    def item_from_row(self, row: dict[str, Any]) -> Item:
        return Item(
            source=row["source"], key=row["key"], title=row["title"] or "", text=row["text"] or "",
            url=row["url"], published=row["published"] if isinstance(row["published"], datetime) else parse_ts(row["published"]),
            language=row["language"], author=row["author"], content_hash=row["content_hash"] or "",
        )

    def count_items(self) -> int:
        return int(self.scalar("SELECT COUNT(*) FROM items") or 0)

    def prune_items(self, older_than: datetime) -> int:
        """Delete items fetched before ``older_than`` that no hit refers to. Returns the count."""
        with self.transaction() as c:
            cur = c.execute(
                "DELETE FROM items WHERE fetched_at < ? AND NOT EXISTS (SELECT 1 FROM hits h WHERE h.item_id = items.id)",
                (ts(older_than),),
            )
            return cur.rowcount
