"""Queries on the notification ``outbox``.

A row's life: pending ──► inflight ──► sent
                  ▲           │
                  └── retry ◄─┤ (error, attempts+1, next_attempt_at later)
                              └──► failed (permanent error, or past the maximum age)
  suppressed: kept for the record, never sent (silenced, cooled down, folded into a summary)

Kinds: ``hit`` (one alert), ``digest-member`` (a hit held for its route's digest; members
with the same channel and ``digest_key`` are sent together), ``summary`` (alerts folded by a
channel's rate limit; ``payload`` lists their hit ids), ``ops`` (an operations notice).
``delivered`` records, per channel URL (a hash of it), whether it took the message, so a
retry goes only to the URLs that did not.

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
        """Pending rows whose time has come, oldest first, as dicts (with ``kind``, ``payload``).

        A row written or last tried at a time later than ``now`` means the wall clock was
        put back since: it is due at once rather than when the clock catches up (a digest
        member keeps waiting for its period's end, which is a time of day on purpose).
        """
        sql = """SELECT * FROM outbox WHERE status = 'pending'
                 AND (next_attempt_at <= ? OR (kind != 'digest-member' AND COALESCE(inflight_at, created_at) > ?))"""
        params: list[Any] = [ts(now), ts(now)]
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

    # -- the notifier's queries (monitor/notify) ------------------------------------------
    def claim(self, row_ids: list[int], now: datetime) -> list[int]:
        """Mark the rows still pending as in flight, in one transaction; return those claimed."""
        claimed: list[int] = []
        with self.transaction() as c:
            for rid in row_ids:
                cur = c.execute(
                    "UPDATE outbox SET status = 'inflight', inflight_at = ?, attempts = attempts + 1 WHERE id = ? AND status = 'pending'",
                    (ts(now), rid),
                )
                if cur.rowcount == 1:
                    claimed.append(rid)
        return claimed

    def outbox_row(self, row_id: int) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM outbox WHERE id = ?", (row_id,))
        if not rows:
            return None
        rows[0]["payload"] = loads(rows[0]["payload"], None)
        rows[0]["delivered"] = loads(rows[0]["delivered"], {})
        return rows[0]

    def digest_members(self, channel: str, digest_key: str) -> list[dict[str, Any]]:
        """Pending member rows of one digest (one channel, one route, one period)."""
        return self.query(
            "SELECT * FROM outbox WHERE channel = ? AND digest_key = ? AND kind = 'digest-member' AND status = 'pending' ORDER BY id",
            (channel, digest_key),
        )

    def finish(self, row_ids: list[int], status: str, *, now: datetime, error: str | None = None,
               next_attempt_at: datetime | None = None, delivered: dict[str, str] | None = None) -> None:
        """Record the outcome of one send for its rows (a hit, or every member of a digest)."""
        assert status in ("sent", "pending", "failed", "suppressed")
        with self.transaction() as c:
            for rid in row_ids:
                c.execute(
                    """UPDATE outbox SET status = ?, last_error = ?,
                           sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END,
                           next_attempt_at = COALESCE(?, next_attempt_at),
                           delivered = COALESCE(?, delivered)
                       WHERE id = ?""",
                    (status, error[:2000] if error else None, status, ts(now), ts(next_attempt_at),
                     dumps(delivered) if delivered is not None else None, rid),
                )

    def messages_sent_since(self, channel: str, since: datetime) -> int:
        """Messages (a digest counts once) sent on a channel since ``since``; operations
        notices and test messages do not count against a rate limit."""
        return int(self.scalar(
            """SELECT COUNT(DISTINCT CASE WHEN kind = 'digest-member' THEN 'd' || digest_key ELSE 'r' || id END)
               FROM outbox WHERE channel = ? AND status = 'sent' AND sent_at >= ?
                 AND kind IN ('hit', 'digest-member', 'summary')""",
            (channel, ts(since)),
        ) or 0)

    def first_sent_since(self, channel: str, since: datetime) -> datetime | None:
        return parse_ts(self.scalar(
            """SELECT MIN(sent_at) FROM outbox WHERE channel = ? AND status = 'sent' AND sent_at >= ?
                 AND kind IN ('hit', 'digest-member', 'summary')""",
            (channel, ts(since)),
        ))

    def fold_into_summary(self, row_id: int, channel: str, hit_id: int, now: datetime, due: datetime) -> int:
        """Put an alert held back by the rate limit into the channel's pending summary (made
        if there is none); the alert's own row becomes ``suppressed``. Returns the summary id."""
        with self.transaction() as c:
            found = c.execute(
                "SELECT id, payload FROM outbox WHERE channel = ? AND kind = 'summary' AND status = 'pending' ORDER BY id LIMIT 1",
                (channel,),
            ).fetchone()
            if found:
                summary_id, payload = found[0], loads(found[1], {"hits": []})
                payload["hits"] = [*payload.get("hits", []), hit_id]
                c.execute("UPDATE outbox SET payload = ? WHERE id = ?", (dumps(payload), summary_id))
            else:
                cur = c.execute(
                    """INSERT INTO outbox(hit_id, channel, kind, payload, status, next_attempt_at, created_at)
                       VALUES (NULL, ?, 'summary', ?, 'pending', ?, ?)""",
                    (channel, dumps({"hits": [hit_id]}), ts(due), ts(now)),
                )
                summary_id = int(cur.lastrowid)
            c.execute(
                "UPDATE outbox SET status = 'suppressed', last_error = ? WHERE id = ?",
                (f"rate limit: folded into summary #{summary_id}", row_id),
            )
            return summary_id

    def recent_alerted_hits(self, rule_id: str, since: datetime, exclude_hit: int) -> list[dict[str, Any]]:
        """Hits of a rule since ``since`` that were (or are being) alerted: some outbox row
        of theirs is not suppressed. For the cooldown per rule and story."""
        return self.query(
            """SELECT h.id, h.item_id, i.title, i.story_id FROM hits h JOIN items i ON i.id = h.item_id
               WHERE h.rule_id = ? AND h.created_at >= ? AND h.id != ?
                 AND EXISTS (SELECT 1 FROM outbox o WHERE o.hit_id = h.id AND o.status != 'suppressed')
               ORDER BY h.id DESC""",
            (rule_id, ts(since), exclude_hit),
        )

    def hit_item_story(self, hit_id: int) -> tuple[int, int | None] | None:
        rows = self.query("SELECT i.id, i.story_id FROM hits h JOIN items i ON i.id = h.item_id WHERE h.id = ?", (hit_id,))
        return (rows[0]["id"], rows[0]["story_id"]) if rows else None
