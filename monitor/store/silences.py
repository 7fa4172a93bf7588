"""Queries on ``silences``: no alert for a rule (and/or a source) until the silence expires.

A silenced hit is still recorded, and its outbox rows are kept with status ``suppressed``
and the silence named in ``last_error``, so the hit log shows why nobody was told.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.errors import StoreError
from monitor.models import Silence
from monitor.store.base import StoreBase, parse_ts, ts

SILENCE_COLUMNS = "id, rule_id, source, expires_at, comment, created_by, created_at"


def silence_from_row(r: dict[str, Any]) -> Silence:
    expires = parse_ts(r["expires_at"])
    assert expires is not None  # NOT NULL in the schema
    return Silence(
        id=r["id"],
        rule_id=r["rule_id"],
        source=r["source"],
        expires_at=expires,
        comment=r["comment"] or "",
        created_by=r["created_by"],
        created_at=parse_ts(r["created_at"]),
    )


class SilenceQueries(StoreBase):
    def add_silence(
        self,
        *,
        rule_id: str | None,
        source: str | None,
        expires_at: datetime,
        comment: str,
        now: datetime,
        created_by: str | None = None,
    ) -> int:
        if not rule_id and not source:
            raise StoreError("a silence needs a rule or a source")
        with self.transaction() as c:
            new_id = c.insert(
                "INSERT INTO silences(rule_id, source, expires_at, comment, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (rule_id, source, ts(expires_at), comment or "", created_by, ts(now)),
            )
            assert new_id is not None
            return new_id

    def list_silences(self, now: datetime | None = None) -> list[Silence]:
        """Silences still in force at ``now`` (every silence when ``now`` is None), newest first."""
        if now is None:
            rows = self.query(f"SELECT {SILENCE_COLUMNS} FROM silences ORDER BY id DESC")
        else:
            rows = self.query(
                f"SELECT {SILENCE_COLUMNS} FROM silences WHERE expires_at > ? ORDER BY id DESC",
                (ts(now),),
            )
        return [silence_from_row(r) for r in rows]

    def remove_silence(self, silence_id: int) -> bool:
        with self.transaction() as c:
            return c.execute("DELETE FROM silences WHERE id = ?", (silence_id,)).rowcount == 1
