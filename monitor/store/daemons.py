"""The daemon registry: every daemon (and ``run --once``) working on this database.

    register_daemon ──► a row: id, host, pid, version, the digest of its rule set, a lease
    beat_daemon     ──► every heartbeat: the lease (``expires_at``) moves on, and with it the
                        leases of the sources it is polling; its rule set may have changed
    daemon_stopped  ──► a clean stop: the row says so, its source leases are let go
    live_daemons    ──► who is alive now (lease not expired, not stopped), with leases held

A daemon that dies stops beating: its lease expires, and with it every lease it held. Its
row stays (a week), so an expired claimant is told from one never seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.store.base import StoreBase, parse_ts, ts

KEEP_GONE = timedelta(days=7)  # rows of daemons gone this long ago are deleted


@dataclass(frozen=True)
class DaemonRecord:
    """One daemon as the registry knows it; ``leases`` and ``in_flight`` are counted live."""

    id: str
    host: str
    pid: int
    version: str
    role: str
    rules_hash: str
    rule_count: int
    started_at: datetime
    last_beat: datetime
    expires_at: datetime
    stopped_at: datetime | None = None
    leases: int = 0  # sources it is polling now
    in_flight: int = 0  # deliveries it is sending now


class DaemonQueries(StoreBase):
    def register_daemon(
        self,
        *,
        daemon_id: str,
        host: str,
        pid: int,
        version: str,
        role: str,
        rules_hash: str,
        rule_count: int,
        now: datetime,
        lease: float,
    ) -> None:
        """Enter a daemon in the registry, alive for ``lease`` seconds unless it beats again."""
        with self.transaction() as c:
            c.execute(
                "DELETE FROM daemons WHERE expires_at < ?",
                (ts(now - KEEP_GONE),),
            )
            c.execute(
                """INSERT INTO daemons(id, host, pid, version, role, rules_hash, rule_count,
                       started_at, last_beat, expires_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    daemon_id,
                    host,
                    pid,
                    version,
                    role,
                    rules_hash,
                    rule_count,
                    ts(now),
                    ts(now),
                    ts(now + timedelta(seconds=lease)),
                ),
            )

    def beat_daemon(
        self,
        daemon_id: str,
        now: datetime,
        lease: float,
        *,
        rules_hash: str | None = None,
        rule_count: int | None = None,
    ) -> bool:
        """Renew the daemon's lease and the leases of the sources it is polling. False when
        the registry no longer knows it as alive (its lease ran out meanwhile): its sources
        may already be someone else's, and it should register again."""
        until = ts(now + timedelta(seconds=lease))
        with self.transaction() as c:
            alive = c.execute(
                """UPDATE daemons SET last_beat = ?, expires_at = ?,
                       rules_hash = COALESCE(?, rules_hash), rule_count = COALESCE(?, rule_count)
                   WHERE id = ? AND stopped_at IS NULL AND expires_at > ?""",
                (ts(now), until, rules_hash, rule_count, daemon_id, ts(now)),
            ).rowcount
            if alive:
                c.execute(
                    "UPDATE source_leases SET expires_at = ? WHERE daemon = ? AND expires_at > ?",
                    (until, daemon_id, ts(now)),
                )
        return bool(alive)

    def daemon_stopped(self, daemon_id: str, now: datetime) -> None:
        """A clean stop: the daemon is no longer alive, and its source leases are free."""
        with self.transaction() as c:
            c.execute(
                "UPDATE daemons SET stopped_at = ?, expires_at = ? WHERE id = ?",
                (ts(now), ts(now), daemon_id),
            )
            c.execute("DELETE FROM source_leases WHERE daemon = ?", (daemon_id,))

    def live_daemons(self, now: datetime) -> list[DaemonRecord]:
        """The daemons alive at ``now`` (oldest first), with the leases they hold."""
        rows = self.query(
            """SELECT d.*,
                   (SELECT COUNT(*) FROM source_leases l
                     WHERE l.daemon = d.id AND l.expires_at > ?) AS leases,
                   (SELECT COUNT(*) FROM outbox o
                     WHERE o.claimed_by = d.id AND o.status = 'inflight') AS in_flight
               FROM daemons d WHERE d.stopped_at IS NULL AND d.expires_at > ?
               ORDER BY d.started_at, d.id""",
            (ts(now), ts(now)),
        )
        out: list[DaemonRecord] = []
        for r in rows:
            started, beat, expires = (
                parse_ts(r[k]) for k in ("started_at", "last_beat", "expires_at")
            )
            assert started and beat and expires  # NOT NULL in the schema
            out.append(
                DaemonRecord(
                    id=r["id"],
                    host=r["host"],
                    pid=int(r["pid"]),
                    version=r["version"],
                    role=r["role"],
                    rules_hash=r["rules_hash"],
                    rule_count=int(r["rule_count"]),
                    started_at=started,
                    last_beat=beat,
                    expires_at=expires,
                    leases=int(r["leases"]),
                    in_flight=int(r["in_flight"]),
                )
            )
        return out
