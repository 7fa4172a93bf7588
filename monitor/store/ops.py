"""Queries for running the daemon: heartbeat, reload outcome, health (backup, schema info and
migrations are each backend's own: sqlite.py, postgres.py).

The daemon's heartbeat and the outcome of its last reload live in ``meta`` (JSON values):

    meta["daemon"] = {pid, host, started_at, last_beat, interval, stopped_at?}
    meta["reload"] = {at, ok, errors: [...]}
    meta["retention"] = {at, pruned, older_than}
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

from monitor.store.base import StoreBase, parse_ts, ts


class OpsQueries(StoreBase):
    # -- heartbeat ----------------------------------------------------------------
    def beat(
        self, started_at: datetime, now: datetime, interval: float, pid: int | None = None
    ) -> None:
        """Record that the daemon is alive (called every ``interval`` seconds)."""
        self.set_meta(
            "daemon",
            {
                "pid": os.getpid() if pid is None else pid,
                "host": socket.gethostname(),
                "started_at": ts(started_at),
                "last_beat": ts(now),
                "interval": interval,
            },
        )

    def mark_stopped(self, now: datetime, pid: int | None = None) -> None:
        """A clean stop: keep the record, say when it ended."""
        beat = self.get_meta("daemon") or {}
        if beat.get("pid") not in (None, os.getpid() if pid is None else pid):
            return  # another daemon took over this database meanwhile: leave its record alone
        beat.update(stopped_at=ts(now), last_beat=ts(now))
        self.set_meta("daemon", beat)

    def mark_stopped_if_free(
        self, now: datetime, pid: int | None = None, wait: float = 2.0
    ) -> None:
        """``mark_stopped`` only if the connection is free within ``wait`` seconds: a stop
        never waits on a writer that is stuck."""
        if self.lock.acquire(timeout=wait):
            try:
                self.mark_stopped(now, pid=pid)
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
            finally:
                self.lock.release()

    def heartbeat(self) -> dict[str, Any] | None:
        beat: dict[str, Any] | None = self.get_meta("daemon")
        if not beat:
            return None
        for key in ("started_at", "last_beat", "stopped_at"):
            beat[key] = parse_ts(beat.get(key))
        return beat

    # -- reload and retention outcomes --------------------------------------------
    def record_reload(self, now: datetime, ok: bool, errors: list[str] | None = None) -> None:
        self.set_meta("reload", {"at": ts(now), "ok": ok, "errors": list(errors or [])[:50]})

    def last_reload(self) -> dict[str, Any] | None:
        r: dict[str, Any] | None = self.get_meta("reload")
        if r:
            r["at"] = parse_ts(r.get("at"))
        return r

    def record_retention(self, now: datetime, older_than: datetime, pruned: int) -> None:
        self.set_meta("retention", {"at": ts(now), "older_than": ts(older_than), "pruned": pruned})

    # -- health -------------------------------------------------------------------
    def outbox_backlog(self, now: datetime) -> dict[str, Any]:
        """Pending rows (and how many are due now), rows in flight, the oldest due row."""
        row = self.query(
            """SELECT COUNT(*) FILTER (WHERE status = 'pending') AS pending,
                      COUNT(*) FILTER (WHERE status = 'pending' AND next_attempt_at <= ?) AS due,
                      COUNT(*) FILTER (WHERE status = 'inflight') AS inflight,
                      MIN(CASE WHEN status = 'pending' AND next_attempt_at <= ? THEN next_attempt_at END) AS oldest_due
               FROM outbox""",
            (ts(now), ts(now)),
        )[0]
        return {
            "pending": int(row["pending"] or 0),
            "due": int(row["due"] or 0),
            "inflight": int(row["inflight"] or 0),
            "oldest_due_at": parse_ts(row["oldest_due"]),
        }

    def failed_deliveries_since(self, since: datetime) -> list[dict[str, Any]]:
        """Deliveries given up on since ``since`` (by when they failed), newest first."""
        rows = self.query(
            """SELECT id, hit_id, channel, kind, attempts, last_error,
                      COALESCE(status_at, created_at) AS failed_at
               FROM outbox WHERE status = 'failed' AND COALESCE(status_at, created_at) >= ?
               ORDER BY failed_at DESC, id DESC""",
            (ts(since),),
        )
        for r in rows:
            r["failed_at"] = parse_ts(r["failed_at"])
        return rows

    def last_errors(self, limit: int = 5) -> list[dict[str, Any]]:
        """The most recent errors recorded anywhere: source polls, deliveries, reloads."""
        rows = self.query(
            """SELECT 'source' AS kind, name AS subject, last_error AS error, last_error_at AS at
               FROM sources WHERE last_error IS NOT NULL AND last_error_at IS NOT NULL
               UNION ALL
               SELECT 'delivery', channel, last_error, COALESCE(status_at, next_attempt_at)
               FROM outbox WHERE last_error IS NOT NULL
               ORDER BY at DESC LIMIT ?""",
            (limit,),
        )
        reload = self.last_reload()
        if reload and not reload.get("ok") and reload.get("errors"):
            rows.append(
                {
                    "kind": "reload",
                    "subject": "config",
                    "error": reload["errors"][0],
                    "at": ts(reload["at"]),
                }
            )
        for r in rows:
            r["at"] = parse_ts(r["at"])
        rows.sort(key=lambda r: r["at"] or datetime.min.astimezone(), reverse=True)
        return rows[:limit]
