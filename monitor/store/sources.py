"""Queries on the ``sources`` table: each source's polling state and health."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.sources.base import SourceState
from monitor.store.base import StoreBase, dumps, loads, parse_ts, ts


class SourceQueries(StoreBase):
    def sync_sources(self, sources: list[Any]) -> None:
        """Make sure every configured source has a row (kind, target, interval up to date)."""
        with self.transaction() as c:
            for s in sources:
                target = s.url or (str(s.path) if s.path else None)
                c.execute(
                    """INSERT INTO sources(name, kind, target, interval, updated_at)
                       VALUES (?, ?, ?, ?, ?)
                       ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, target = excluded.target,
                           interval = excluded.interval,
                           disabled_reason = CASE WHEN sources.target IS excluded.target THEN sources.disabled_reason END""",
                    (s.name, s.kind, target, s.interval, ts(datetime.now().astimezone())),
                )

    def source_row(self, name: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM sources WHERE name = ?", (name,))
        return rows[0] if rows else None

    def source_state(self, name: str) -> SourceState:
        row = self.source_row(name)
        if not row:
            return SourceState()
        return SourceState(etag=row["etag"], last_modified=row["last_modified"], data=loads(row["state"], {}))

    def list_sources(self) -> list[dict[str, Any]]:
        rows = self.query(
            """SELECT s.*, (SELECT COUNT(*) FROM items i WHERE i.source = s.name) AS items_stored
               FROM sources s ORDER BY s.name"""
        )
        for r in rows:
            for k in ("last_poll_at", "last_success_at", "next_poll_at", "last_error_at", "updated_at"):
                r[k] = parse_ts(r[k])
            r["state"] = loads(r["state"], {})
        return rows

    def record_poll_success(
        self, name: str, state: SourceState, when: datetime, next_poll_at: datetime, new_items: int = 0
    ) -> bool:
        """Store the new state; reset failures. Returns True when the source was failing (recovered)."""
        with self.transaction() as c:
            was_failing = bool(self.scalar("SELECT failing FROM sources WHERE name = ?", (name,)))
            c.execute(
                """UPDATE sources SET etag = ?, last_modified = ?, state = ?, last_poll_at = ?,
                       last_success_at = ?, next_poll_at = ?, consecutive_failures = 0, failing = 0,
                       items_seen = items_seen + ?, updated_at = ?
                   WHERE name = ?""",
                (state.etag, state.last_modified, dumps(state.data), ts(when), ts(when), ts(next_poll_at),
                 new_items, ts(when), name),
            )
        return was_failing

    def record_poll_failure(self, name: str, error: str, when: datetime, next_poll_at: datetime) -> int:
        """Count a failed poll; return the number of consecutive failures now."""
        with self.transaction() as c:
            c.execute(
                """UPDATE sources SET last_poll_at = ?, next_poll_at = ?, last_error = ?, last_error_at = ?,
                       consecutive_failures = consecutive_failures + 1, updated_at = ?
                   WHERE name = ?""",
                (ts(when), ts(next_poll_at), error[:2000], ts(when), ts(when), name),
            )
            return int(self.scalar("SELECT consecutive_failures FROM sources WHERE name = ?", (name,)) or 0)

    def set_source_failing(self, name: str, failing: bool) -> None:
        with self.transaction() as c:
            c.execute("UPDATE sources SET failing = ? WHERE name = ?", (int(failing), name))

    def disable_source(self, name: str, reason: str, when: datetime) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE sources SET disabled_reason = ?, last_error = ?, last_error_at = ?, updated_at = ? WHERE name = ?",
                (reason, reason, ts(when), ts(when), name),
            )
