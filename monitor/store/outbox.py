"""Queries on the notification ``outbox``.

A row's life: pending ──► inflight ──► sent
                  ▲           │
                  └── retry ◄─┤ (error, attempts+1, next_attempt_at later)
                              └──► failed (permanent error, or past the maximum age)

A row is marked in flight (committed) before its send and sent (committed) after it; on
start-up, rows left in flight by a crash go back to pending. So a message is sent twice
only if the process dies between the send and the commit that records it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.models import Delivery
from monitor.store.base import StoreBase, dumps, loads, parse_ts, ts


def delivery_from_row(r: dict[str, Any]) -> Delivery:
    return Delivery(
        id=r["id"], hit_id=r["hit_id"], channel=r["channel"], status=r["status"], attempts=r["attempts"],
        next_attempt_at=parse_ts(r["next_attempt_at"]), last_error=r["last_error"], sent_at=parse_ts(r["sent_at"]),
        created_at=parse_ts(r["created_at"]), digest_key=r["digest_key"],
    )


class OutboxQueries(StoreBase):
    def due_rows(self, now: datetime, limit: int = 50, kinds: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Pending rows whose time has come, oldest first, as dicts (with ``kind``, ``payload``)."""
        sql = "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
        params: list[Any] = [ts(now)]
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            params.extend(kinds)
        sql += " ORDER BY next_attempt_at, id LIMIT ?"
        params.append(limit)
        rows = self.query(sql, params)
        for r in rows:
            r["payload"] = loads(r["payload"], None)
        return rows

    def enqueue(self, channel: str, kind: str, payload: Any, when: datetime, hit_id: int | None = None,
                route: str | None = None, digest_key: str | None = None) -> int:
        with self.transaction() as c:
            cur = c.execute(
                """INSERT INTO outbox(hit_id, channel, kind, route, payload, digest_key, status, next_attempt_at, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)""",
                (hit_id, channel, kind, route, dumps(payload) if payload is not None else None, digest_key, ts(when), ts(when)),
            )
            return int(cur.lastrowid)

    def mark_inflight(self, row_id: int, now: datetime) -> bool:
        """Claim a pending row for sending; False if someone else claimed it."""
        with self.transaction() as c:
            cur = c.execute(
                "UPDATE outbox SET status = 'inflight', inflight_at = ?, attempts = attempts + 1 WHERE id = ? AND status = 'pending'",
                (ts(now), row_id),
            )
            return cur.rowcount == 1

    def mark_sent(self, row_id: int, now: datetime) -> None:
        with self.transaction() as c:
            c.execute("UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?", (ts(now), row_id))

    def mark_retry(self, row_id: int, error: str, next_attempt_at: datetime) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE outbox SET status = 'pending', last_error = ?, next_attempt_at = ? WHERE id = ?",
                (error[:2000], ts(next_attempt_at), row_id),
            )

    def mark_failed(self, row_id: int, error: str) -> None:
        with self.transaction() as c:
            c.execute("UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?", (error[:2000], row_id))

    def recover_inflight(self) -> int:
        """After a crash: rows left in flight go back to pending (they may have been sent)."""
        with self.transaction() as c:
            return c.execute("UPDATE outbox SET status = 'pending' WHERE status = 'inflight'").rowcount

    def outbox_counts(self) -> dict[str, int]:
        rows = self.query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    def deliveries_for_hit(self, hit_id: int) -> list[Delivery]:
        return [delivery_from_row(r) for r in self.query("SELECT * FROM outbox WHERE hit_id = ? ORDER BY id", (hit_id,))]

    def failed_rows(self, limit: int = 50) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM outbox WHERE status = 'failed' ORDER BY id DESC LIMIT ?", (limit,))
