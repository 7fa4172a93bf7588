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

A row is marked in flight (committed) before its send and sent (committed) after it, and
names its claimant (``claimed_by``, a daemon of the registry, see daemons.py); rows left in
flight by a claimant that is gone (its lease expired) go back to pending — at start-up, and
at every heartbeat of a live daemon — never the rows of a daemon that is alive. So a
message is sent twice only if its sender dies between the send and the commit that
records it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.models import Delivery
from monitor.store.base import StoreBase, dumps, loads, parse_ts, ts


def delivery_from_row(r: dict[str, Any]) -> Delivery:
    return Delivery(
        id=r["id"],
        hit_id=r["hit_id"],
        channel=r["channel"],
        status=r["status"],
        attempts=r["attempts"],
        next_attempt_at=parse_ts(r["next_attempt_at"]),
        last_error=r["last_error"],
        sent_at=parse_ts(r["sent_at"]),
        created_at=parse_ts(r["created_at"]),
        digest_key=r["digest_key"],
        kind=r["kind"],
        route=r["route"],
        payload=loads(r["payload"], None),
        delivered=dict(loads(r["delivered"], {}) or {}),
        inflight_at=parse_ts(r["inflight_at"]),
    )


class OutboxQueries(StoreBase):
    def due_rows(
        self, now: datetime, limit: int = 50, kinds: tuple[str, ...] | None = None
    ) -> list[Delivery]:
        """Pending rows whose time has come, oldest first.

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
        return [delivery_from_row(r) for r in self.query(sql, params)]

    def enqueue(
        self,
        channel: str,
        kind: str,
        payload: Any,
        when: datetime,
        hit_id: int | None = None,
        route: str | None = None,
        digest_key: str | None = None,
    ) -> int:
        with self.transaction() as c:
            row_id = c.insert(
                """INSERT INTO outbox(hit_id, channel, kind, route, payload, digest_key, status, next_attempt_at, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)""",
                (
                    hit_id,
                    channel,
                    kind,
                    route,
                    dumps(payload) if payload is not None else None,
                    digest_key,
                    ts(when),
                    ts(when),
                ),
            )
            assert row_id is not None
            return row_id

    def mark_inflight(self, row_id: int, now: datetime, claimant: str | None = None) -> bool:
        """Claim a pending row for sending; False if someone else claimed it."""
        return bool(self.claim([row_id], now, claimant))

    def mark_sent(self, row_id: int, now: datetime) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
                (ts(now), row_id),
            )

    def mark_failed(self, row_id: int, error: str) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?",
                (error[:2000], row_id),
            )

    def recover_inflight(self, now: datetime | None = None, *, unregistered: bool = True) -> int:
        """Rows left in flight by a claimant that is gone go back to pending (they may have
        been sent). Without ``now``: every row in flight. With it: not the rows of a daemon
        alive at ``now``; ``unregistered`` also takes rows whose claimant the registry does
        not know (claimed without one, or before the registry existed), which only a
        start-up may assume are a crash's."""
        sql = "UPDATE outbox SET status = 'pending', claimed_by = NULL WHERE status = 'inflight'"
        params: list[Any] = []
        if now is not None:
            live = "SELECT id FROM daemons WHERE stopped_at IS NULL AND expires_at > ?"
            if unregistered:
                sql += f" AND (claimed_by IS NULL OR claimed_by NOT IN ({live}))"
            else:
                sql += f" AND claimed_by IN (SELECT id FROM daemons) AND claimed_by NOT IN ({live})"
            params.append(ts(now))
        with self.transaction() as c:
            return c.execute(sql, params).rowcount

    def outbox_counts(self) -> dict[str, int]:
        rows = self.query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    def deliveries_for_hit(self, hit_id: int) -> list[Delivery]:
        """The deliveries of the hit's item: one alert per item and channel carries all its rules."""
        return [
            delivery_from_row(r)
            for r in self.query(
                """SELECT o.* FROM outbox o JOIN hits h ON h.id = o.hit_id
               WHERE h.item_id = (SELECT item_id FROM hits WHERE id = ?) ORDER BY o.id""",
                (hit_id,),
            )
        ]

    # -- the notifier's queries (monitor/notify) ------------------------------------------
    def claim(self, row_ids: list[int], now: datetime, claimant: str | None = None) -> list[int]:
        """Mark the rows still pending as in flight for ``claimant``, in one transaction;
        return those claimed. Rows another dispatcher is claiming at the same moment are
        passed over (the dialect's ``claim_lock``), and a row is only ever claimed from pending."""
        if not row_ids:
            return []
        marks = ",".join("?" * len(row_ids))
        with self.transaction() as c:
            got = c.execute(
                f"""UPDATE outbox SET status = 'inflight', inflight_at = ?, attempts = attempts + 1,
                        claimed_by = ?
                    WHERE status = 'pending' AND id IN (
                        SELECT id FROM outbox WHERE id IN ({marks}) AND status = 'pending'{self.dialect.claim_lock})
                    RETURNING id""",
                (ts(now), claimant, *row_ids),
            ).fetchall()
        taken = {int(r[0]) for r in got}
        return [rid for rid in row_ids if rid in taken]

    def outbox_row(self, row_id: int) -> Delivery | None:
        rows = self.query("SELECT * FROM outbox WHERE id = ?", (row_id,))
        return delivery_from_row(rows[0]) if rows else None

    def digest_members(self, channel: str, digest_key: str) -> list[Delivery]:
        """Pending member rows of one digest (one channel, one route, one period)."""
        return [
            delivery_from_row(r)
            for r in self.query(
                "SELECT * FROM outbox WHERE channel = ? AND digest_key = ? AND kind = 'digest-member' AND status = 'pending' ORDER BY id",
                (channel, digest_key),
            )
        ]

    def finish(
        self,
        row_ids: list[int],
        status: str,
        *,
        now: datetime,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
        delivered: dict[str, str] | None = None,
    ) -> None:
        """Record the outcome of one send for its rows (a hit, or every member of a digest)."""
        assert status in ("sent", "pending", "failed", "suppressed")
        with self.transaction() as c:
            for rid in row_ids:
                c.execute(
                    """UPDATE outbox SET status = ?, last_error = ?,
                           sent_at = COALESCE(?, sent_at),
                           next_attempt_at = COALESCE(?, next_attempt_at),
                           delivered = COALESCE(?, delivered)
                       WHERE id = ?""",
                    (
                        status,
                        error[:2000] if error else None,
                        ts(now) if status == "sent" else None,
                        ts(next_attempt_at),
                        dumps(delivered) if delivered is not None else None,
                        rid,
                    ),
                )

    def messages_sent_since(self, channel: str, since: datetime) -> int:
        """Messages (a digest counts once) sent on a channel since ``since``; operations
        notices and test messages do not count against a rate limit."""
        return int(
            self.scalar(
                """SELECT COUNT(DISTINCT CASE WHEN kind = 'digest-member' THEN 'd' || digest_key ELSE 'r' || id END)
               FROM outbox WHERE channel = ? AND status = 'sent' AND sent_at >= ?
                 AND kind IN ('hit', 'digest-member', 'summary')""",
                (channel, ts(since)),
            )
            or 0
        )

    def first_sent_since(self, channel: str, since: datetime) -> datetime | None:
        return parse_ts(
            self.scalar(
                """SELECT MIN(sent_at) FROM outbox WHERE channel = ? AND status = 'sent' AND sent_at >= ?
                 AND kind IN ('hit', 'digest-member', 'summary')""",
                (channel, ts(since)),
            )
        )

    def fold_into_summary(
        self, row_id: int, channel: str, hit_id: int, now: datetime, due: datetime
    ) -> int | None:
        """Put an alert held back by the rate limit into the channel's pending summary (made
        if there is none); the alert's own row becomes ``suppressed``. Returns the summary id,
        or None when the row is no longer pending (another dispatcher took it first)."""
        with self.transaction() as c:
            taken = c.execute(
                "UPDATE outbox SET status = 'suppressed' WHERE id = ? AND status = 'pending'",
                (row_id,),
            ).rowcount
            if not taken:
                return None
            found = c.execute(
                "SELECT id, payload FROM outbox WHERE channel = ? AND kind = 'summary' AND status = 'pending' "
                f"ORDER BY id LIMIT 1{self.dialect.row_lock}",
                (channel,),
            ).fetchone()
            if found:
                summary_id, payload = int(found[0]), loads(found[1], {"hits": []})
                payload["hits"] = [*payload.get("hits", []), hit_id]
                c.execute(
                    "UPDATE outbox SET payload = ? WHERE id = ?", (dumps(payload), summary_id)
                )
            else:
                new_id = c.insert(
                    """INSERT INTO outbox(hit_id, channel, kind, payload, status, next_attempt_at, created_at)
                       VALUES (NULL, ?, 'summary', ?, 'pending', ?, ?)""",
                    (channel, dumps({"hits": [hit_id]}), ts(due), ts(now)),
                )
                assert new_id is not None
                summary_id = new_id
            c.execute(
                "UPDATE outbox SET last_error = ? WHERE id = ?",
                (f"rate limit: folded into summary #{summary_id}", row_id),
            )
            return summary_id
