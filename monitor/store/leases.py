"""Source leases: several daemons on one database divide the due sources among themselves.

    claim_sources(daemon, names, now, lease, limit)
        one transaction: the due sources (``next_poll_at`` passed, not disabled, among
        ``names``) that nobody holds a live lease on, oldest due first ──► a lease row each
    release_source(daemon, name)     the poll is recorded (next_poll_at moved on): let go
    beat_daemon (daemons.py)         renews the leases of a live daemon; a dead one's expire

Exactly one daemon polls a source at a time: the lease row is written by an upsert that only
takes a lease which has expired, so of two daemons that both saw a source free, one gets
it. On PostgreSQL the claim's SELECT also locks the rows it takes (``FOR UPDATE SKIP
LOCKED``, the dialect's ``claim_lock``), so concurrent claims pass over each other's sources instead of
queueing on them; on SQLite the write lock (BEGIN IMMEDIATE) runs one claim at a time.
A source's polling state (ETag, Last-Modified, failures, backoff) lives in its row of
``sources``, so whichever daemon polls it next carries on where the last one stopped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Sequence

from monitor.store.base import StoreBase, ts


class LeaseQueries(StoreBase):
    def claim_sources(
        self, daemon: str, names: Sequence[str], now: datetime, lease: float, limit: int
    ) -> list[str]:
        """Claim up to ``limit`` due sources among ``names`` for ``daemon``, for ``lease``
        seconds; returns the names claimed, the longest overdue first."""
        if limit <= 0 or not names:
            return []
        claimed: list[str] = []
        until = ts(now + timedelta(seconds=lease))
        configured, names_params = self.dialect.any_of("s.name", names)
        with self.transaction() as c:
            rows = c.execute(
                f"""SELECT s.name FROM sources s
                    WHERE s.disabled_reason IS NULL
                      AND (s.next_poll_at IS NULL OR s.next_poll_at <= ?)
                      AND {configured}
                      AND NOT EXISTS (SELECT 1 FROM source_leases l
                                      WHERE l.source = s.name AND l.expires_at > ?)
                    ORDER BY s.next_poll_at IS NOT NULL, s.next_poll_at, s.name
                    LIMIT ?{self.dialect.claim_lock}""",
                (ts(now), *names_params, ts(now), limit),
            ).fetchall()
            for (name,) in rows:
                got = c.execute(
                    """INSERT INTO source_leases(source, daemon, claimed_at, expires_at)
                       VALUES (?, ?, ?, ?)
                       ON CONFLICT (source) DO UPDATE SET daemon = excluded.daemon,
                           claimed_at = excluded.claimed_at, expires_at = excluded.expires_at
                       WHERE source_leases.expires_at <= ?
                       RETURNING source""",
                    (name, daemon, ts(now), until, ts(now)),
                ).fetchall()
                if got:
                    claimed.append(name)
        return claimed

    def release_source(self, daemon: str, name: str) -> None:
        """The daemon has recorded its poll of ``name``: the source is free for whoever is
        next when it is due again."""
        with self.transaction() as c:
            c.execute("DELETE FROM source_leases WHERE source = ? AND daemon = ?", (name, daemon))

    def source_leases(self, now: datetime) -> dict[str, str]:
        """Source name → the daemon holding a live lease on it."""
        rows = self.query(
            "SELECT source, daemon FROM source_leases WHERE expires_at > ? ORDER BY source",
            (ts(now),),
        )
        return {r["source"]: r["daemon"] for r in rows}
