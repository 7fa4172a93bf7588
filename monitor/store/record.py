"""The unit of work that records a poll: SQL only, no decisions.

    with store.unit_of_work() as uow:          one write transaction
        uow.serialize(rule_ids)                the rules' locks (PostgreSQL), before any read
        uow.insert_item(...)                   reads and writes on that transaction; what
        uow.story_candidates(...)              to fold, route or suppress is decided by the
        uow.active_silences(...)               pipeline's pure functions between the calls
        uow.recent_alerts(...)
        uow.insert_hit(...), uow.insert_deliveries(...), …

"One story, one hit" cannot be a constraint (it is "within N bits"), so the read of the
story window and the writes after it must not interleave with another unit of work on the
same rule: on SQLite the transaction holds the write lock (BEGIN IMMEDIATE), on PostgreSQL
``serialize`` takes a transaction-scoped advisory lock per rule, in a stable order.

A crash either loses the whole poll (which is then polled again, since its items were not
stored as seen) or keeps all of it, alerts included.

The same-story lookup is indexed: each hit's fingerprint band keys are rows of
``story_bands`` (rule, key, time), so the candidates for a new item are the hits of the
same rule inside the window that have one of its probe keys, found through the index.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Iterable, Iterator

from monitor.models import (
    AlertedHit,
    Item,
    OutboxPlan,
    RuleMatch,
    Silence,
    StoryCandidate,
    StoryHit,
)
from monitor.store.base import Connection, StoreBase, dumps, loads, ts
from monitor.store.dialect import Dialect
from monitor.store.silences import SILENCE_COLUMNS, silence_from_row

_U64 = 1 << 64


def to_sql_int(fp: int | None) -> int | None:
    """An unsigned 64-bit fingerprint as a signed 64-bit INTEGER (SQLite) or BIGINT."""
    if fp is None:
        return None
    fp &= _U64 - 1
    return fp - _U64 if fp >= (1 << 63) else fp


def from_sql_int(v: int | None) -> int | None:
    if v is None:
        return None
    return v + _U64 if v < 0 else v


def _marks(values: Iterable[object]) -> str:
    return ",".join("?" for _ in values)


class RecordUnit:
    """The reads and writes of one recording transaction, on its connection."""

    def __init__(self, conn: Connection, dialect: Dialect) -> None:
        self.conn = conn
        self.dialect = dialect

    def serialize(self, rule_ids: Iterable[str]) -> None:
        """Wait until no other unit of work holds any of these rules (PostgreSQL; on SQLite
        the transaction is serial already). Call it first, once, with every rule the poll
        may record a hit for: the locks are taken in one sorted pass, so never in a cycle."""
        for sql, params in self.dialect.rule_locks(list(rule_ids)):
            self.conn.execute(sql, params)

    # -- reads --------------------------------------------------------------------------
    def story_candidates(
        self, rule_ids: list[str], band_keys: tuple[int, ...], since: datetime
    ) -> list[StoryCandidate]:
        """Hits of these rules since ``since`` with one of these band keys (``dedup.probe_keys``),
        read from the index alone."""
        if not rule_ids or not band_keys:
            return []
        rules, rule_params = self.dialect.any_of("rule_id", rule_ids)
        keys, key_params = self.dialect.any_of("band_key", band_keys)
        rows = self.conn.execute(
            f"""SELECT DISTINCT hit_id, rule_id, fingerprint FROM story_bands
                WHERE {rules} AND {keys} AND created_at >= ?""",
            (*rule_params, *key_params, ts(since)),
        ).fetchall()
        return [
            StoryCandidate(hit_id=r[0], rule_id=r[1], fingerprint=from_sql_int(r[2]) or 0)
            for r in rows
        ]

    def story_hits(self, hit_ids: Iterable[int]) -> dict[int, StoryHit]:
        ids = sorted(set(hit_ids))
        if not ids:
            return {}
        rows = self.conn.execute(
            f"""SELECT h.id, h.rule_id, h.item_id, i.story_id, h.source, h.also_in
                FROM hits h JOIN items i ON i.id = h.item_id WHERE h.id IN ({_marks(ids)})""",
            ids,
        ).fetchall()
        return {
            r[0]: StoryHit(
                hit_id=r[0],
                rule_id=r[1],
                item_id=r[2],
                story_id=r[3],
                source=r[4],
                also_in=tuple(loads(r[5], [])),
            )
            for r in rows
        }

    def active_silences(self, now: datetime) -> list[Silence]:
        rows = self.conn.rows(
            f"SELECT {SILENCE_COLUMNS} FROM silences WHERE expires_at > ? ORDER BY expires_at DESC, id",
            (ts(now),),
        )
        return [silence_from_row(r) for r in rows]

    def recent_alerts(self, rule_ids: list[str], since: datetime) -> list[AlertedHit]:
        """Hits of these rules since ``since`` whose item was (or is being) alerted: some
        outbox row for a hit of that item is not suppressed. Newest first."""
        if not rule_ids:
            return []
        rows = self.conn.execute(
            f"""SELECT h.id, h.rule_id, h.item_id, i.story_id, i.title FROM hits h JOIN items i ON i.id = h.item_id
                WHERE h.rule_id IN ({_marks(rule_ids)}) AND h.created_at >= ?
                  AND EXISTS (SELECT 1 FROM hits h2 JOIN outbox o ON o.hit_id = h2.id
                              WHERE h2.item_id = h.item_id AND o.status != 'suppressed')
                ORDER BY h.id DESC""",
            (*rule_ids, ts(since)),
        ).fetchall()
        return [
            AlertedHit(hit_id=r[0], rule_id=r[1], item_id=r[2], story_id=r[3], title=r[4] or "")
            for r in rows
        ]

    # -- writes -------------------------------------------------------------------------
    def insert_item(self, it: Item, fingerprint: int | None, now: datetime) -> int | None:
        """The new item's id; None when another poll stored it meanwhile (never matched twice)."""
        return self.conn.insert(
            """INSERT INTO items(source, key, url, title, text, published, language, author,
                   content_hash, fingerprint, fetched_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, key) DO NOTHING""",
            (
                it.source,
                it.key,
                it.url,
                it.title,
                it.text,
                ts(it.published),
                it.language,
                it.author,
                it.fingerprint(),
                to_sql_int(fingerprint),
                ts(now),
            ),
        )

    def insert_hit(self, item_id: int, it: Item, m: RuleMatch, now: datetime) -> int | None:
        """The new hit's id; None when this rule already has a hit on this item."""
        return self.conn.insert(
            """INSERT INTO hits(item_id, rule_id, rule_title, severity, tags, terms, spans,
                   snippet, why, source, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rule_id, item_id) DO NOTHING""",
            (
                item_id,
                m.rule_id,
                m.rule_title,
                m.severity,
                dumps(list(m.tags)),
                dumps(list(m.terms)),
                dumps([list(s) for s in m.spans]),
                m.snippet,
                m.why,
                it.source,
                ts(now),
            ),
        )

    def insert_bands(
        self,
        hit_id: int,
        rule_id: str,
        fingerprint: int | None,
        band_keys: tuple[int, ...],
        now: datetime,
    ) -> None:
        self.conn.executemany(
            "INSERT INTO story_bands(hit_id, rule_id, band_key, fingerprint, created_at) VALUES (?, ?, ?, ?, ?)",
            [(hit_id, rule_id, k, to_sql_int(fingerprint), ts(now)) for k in band_keys],
        )

    def set_also_in(self, hit_id: int, also_in: tuple[str, ...]) -> None:
        self.conn.execute(
            "UPDATE hits SET also_in = ? WHERE id = ?", (dumps(list(also_in)), hit_id)
        )

    def set_item_story(self, item_id: int, story_id: int) -> None:
        self.conn.execute("UPDATE items SET story_id = ? WHERE id = ?", (story_id, item_id))

    def insert_deliveries(self, plans: list[OutboxPlan], now: datetime) -> None:
        self.conn.executemany(
            """INSERT INTO outbox(hit_id, channel, kind, route, digest_key, status, next_attempt_at,
                   last_error, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    p.hit_id,
                    p.channel,
                    p.kind,
                    p.route,
                    p.digest_key,
                    p.status,
                    ts(p.next_attempt_at),
                    p.last_error,
                    ts(now),
                )
                for p in plans
            ],
        )

    def prune_bands(self, before: datetime) -> int:
        """Band rows older than the story window are never read again."""
        return int(self.conn.execute(self.dialect.prune_bands, (ts(before),)).rowcount)


class RecordQueries(StoreBase):
    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[RecordUnit]:
        """One write transaction for recording a poll (see the module docstring)."""
        with self.transaction() as conn:
            yield RecordUnit(conn, self.dialect)
