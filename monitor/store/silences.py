"""Queries on ``silences``: no alert for a rule (and/or a source) until the silence expires.

A silenced hit is still recorded, and its outbox rows are kept with status ``suppressed``
and the silence named in ``last_error``, so the hit log shows why nobody was told.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.errors import StoreError
from monitor.store.base import StoreBase, parse_ts, ts


def _silence(r: dict[str, Any]) -> dict[str, Any]:
    r["expires_at"] = parse_ts(r["expires_at"])
    r["created_at"] = parse_ts(r["created_at"])
    return r


class SilenceQueries(StoreBase):
    def add_silence(self, *, rule_id: str | None, source: str | None, expires_at: datetime, comment: str,
                    now: datetime, created_by: str | None = None) -> int:
        if not rule_id and not source:
            raise StoreError("a silence needs a rule or a source")
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO silences(rule_id, source, expires_at, comment, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (rule_id, source, ts(expires_at), comment or "", created_by, ts(now)),
            )
            return int(cur.lastrowid)

    def list_silences(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Silences still in force at ``now`` (every silence when ``now`` is None), newest first."""
        if now is None:
            rows = self.query("SELECT * FROM silences ORDER BY id DESC")
        else:
            rows = self.query("SELECT * FROM silences WHERE expires_at > ? ORDER BY id DESC", (ts(now),))
        return [_silence(r) for r in rows]

    def remove_silence(self, silence_id: int) -> bool:
        with self.transaction() as c:
            return c.execute("DELETE FROM silences WHERE id = ?", (silence_id,)).rowcount == 1

    def active_silence(self, rule_id: str, source: str, now: datetime) -> dict[str, Any] | None:
        """The silence (longest-lasting first) that covers this rule and source at ``now``, if any."""
        rows = self.query(
            """SELECT * FROM silences
               WHERE expires_at > ? AND (rule_id IS NULL OR rule_id = ?) AND (source IS NULL OR source = ?)
               ORDER BY expires_at DESC LIMIT 1""",
            (ts(now), rule_id, source),
        )
        return _silence(rows[0]) if rows else None
