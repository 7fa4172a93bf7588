"""Queries on the ``sources`` table: each source's polling state and health."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.models import ListedSource, SourceState, SourceStatus
from monitor.store.base import StoreBase, dumps, loads, parse_ts, ts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DisabledSource:
    """A source that is not polled until its cause is fixed: why, and since when."""

    name: str
    reason: str
    since: datetime | None


def _status_fields(r: dict[str, Any]) -> dict[str, Any]:
    """A ``sources`` row as ``SourceStatus``'s fields."""
    return {
        "name": r["name"],
        "kind": r["kind"],
        "target": r["target"],
        "consecutive_failures": int(r["consecutive_failures"]),
        "failing": bool(r["failing"]),
        "disabled_reason": r["disabled_reason"],
        "last_error": r["last_error"],
        "last_poll_at": parse_ts(r["last_poll_at"]),
        "last_success_at": parse_ts(r["last_success_at"]),
        "next_poll_at": parse_ts(r["next_poll_at"]),
        "items_seen": int(r["items_seen"]),
        "state": SourceState(
            etag=r["etag"], last_modified=r["last_modified"], data=loads(r["state"], {})
        ),
        "interval": r["interval"],
        "last_error_at": parse_ts(r["last_error_at"]),
        "updated_at": parse_ts(r["updated_at"]),
    }


class SourceQueries(StoreBase):
    def sync_sources(
        self, sources: list[Any], fingerprints: dict[str, str] | None = None
    ) -> list[DisabledSource]:
        """Make sure every configured source has a row (kind, target, interval up to date).

        ``fingerprints`` (source name → a digest of the settings it is fetched with, see
        ``Config.source_fingerprints``): a disabled source whose settings changed since it
        was disabled — a new URL, ``http.allow_private_networks`` turned on — is enabled
        again, so the next poll tries the new settings. Returns the sources so enabled.
        """
        fingerprints = fingerprints or {}
        enabled_again: list[DisabledSource] = []
        with self.transaction() as c:
            for s in sources:
                target = s.url or (str(s.path) if s.path else None)
                fp = fingerprints.get(s.name)
                before = c.execute(
                    "SELECT target, disabled_reason, disabled_config, updated_at FROM sources WHERE name = ?",
                    (s.name,),
                ).fetchone()
                c.execute(
                    """INSERT INTO sources(name, kind, target, interval, config_fingerprint, updated_at)
                       VALUES (?, ?, ?, ?, ?, ?)
                       ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, target = excluded.target,
                           interval = excluded.interval,
                           config_fingerprint = COALESCE(excluded.config_fingerprint, sources.config_fingerprint)""",
                    (s.name, s.kind, target, s.interval, fp, ts(datetime.now().astimezone())),
                )
                if before is None or before[1] is None:
                    continue
                changed = before[0] != target or (fp is not None and before[2] != fp)
                if changed:
                    c.execute(
                        """UPDATE sources SET disabled_reason = NULL, disabled_config = NULL,
                               consecutive_failures = 0, failing = 0, next_poll_at = NULL WHERE name = ?""",
                        (s.name,),
                    )
                    enabled_again.append(DisabledSource(s.name, before[1], parse_ts(before[3])))
        for d in enabled_again:
            log.info(
                "source %s enabled again: its settings changed since it was disabled (%s)",
                d.name,
                d.reason,
            )
        return enabled_again

    def disabled_sources(self) -> list[DisabledSource]:
        """Every source that is disabled, with its reason, by name."""
        rows = self.query(
            """SELECT name, disabled_reason, COALESCE(last_error_at, updated_at) AS since FROM sources
               WHERE disabled_reason IS NOT NULL ORDER BY name"""
        )
        return [DisabledSource(r["name"], r["disabled_reason"], parse_ts(r["since"])) for r in rows]

    def enable_source(self, name: str, when: datetime) -> DisabledSource | None:
        """Enable a disabled source by hand (its failure count reset, due now); returns what
        it was disabled for, or None when it was not disabled."""
        with self.transaction() as c:
            row = c.execute(
                "SELECT disabled_reason, COALESCE(last_error_at, updated_at) FROM sources WHERE name = ?",
                (name,),
            ).fetchone()
            if row is None or row[0] is None:
                return None
            c.execute(
                """UPDATE sources SET disabled_reason = NULL, disabled_config = NULL, consecutive_failures = 0,
                       failing = 0, next_poll_at = NULL, updated_at = ? WHERE name = ?""",
                (ts(when), name),
            )
        return DisabledSource(name, row[0], parse_ts(row[1]))

    def source_row(self, name: str) -> SourceStatus | None:
        rows = self.query("SELECT * FROM sources WHERE name = ?", (name,))
        return SourceStatus(**_status_fields(rows[0])) if rows else None

    def source_state(self, name: str) -> SourceState:
        row = self.source_row(name)
        return row.state if row else SourceState()

    def list_sources(self) -> list[ListedSource]:
        """Every source's row, by name, with how many of its items are stored."""
        rows = self.query(
            """SELECT s.*, (SELECT COUNT(*) FROM items i WHERE i.source = s.name) AS items_stored
               FROM sources s ORDER BY s.name"""
        )
        return [
            ListedSource(**_status_fields(r), items_stored=int(r["items_stored"])) for r in rows
        ]

    def record_poll_success(
        self,
        name: str,
        state: SourceState,
        when: datetime,
        next_poll_at: datetime,
        new_items: int = 0,
    ) -> bool:
        """Store the new state; reset failures. Returns True when the source was failing (recovered)."""
        with self.transaction() as c:
            was_failing = bool(self.scalar("SELECT failing FROM sources WHERE name = ?", (name,)))
            c.execute(
                """UPDATE sources SET etag = ?, last_modified = ?, state = ?, last_poll_at = ?,
                       last_success_at = ?, next_poll_at = ?, consecutive_failures = 0, failing = 0,
                       items_seen = items_seen + ?, updated_at = ?
                   WHERE name = ?""",
                (
                    state.etag,
                    state.last_modified,
                    dumps(state.data),
                    ts(when),
                    ts(when),
                    ts(next_poll_at),
                    new_items,
                    ts(when),
                    name,
                ),
            )
        return was_failing

    def record_poll_failure(
        self, name: str, error: str, when: datetime, next_poll_at: datetime
    ) -> int:
        """Count a failed poll; return the number of consecutive failures now."""
        with self.transaction() as c:
            c.execute(
                """UPDATE sources SET last_poll_at = ?, next_poll_at = ?, last_error = ?, last_error_at = ?,
                       consecutive_failures = consecutive_failures + 1, updated_at = ?
                   WHERE name = ?""",
                (ts(when), ts(next_poll_at), error[:2000], ts(when), ts(when), name),
            )
            return int(
                self.scalar("SELECT consecutive_failures FROM sources WHERE name = ?", (name,)) or 0
            )

    def set_source_failing(self, name: str, failing: bool) -> None:
        with self.transaction() as c:
            c.execute("UPDATE sources SET failing = ? WHERE name = ?", (int(failing), name))

    def disable_source(self, name: str, reason: str, when: datetime) -> None:
        with self.transaction() as c:
            c.execute(
                """UPDATE sources SET disabled_reason = ?, disabled_config = config_fingerprint, last_error = ?,
                       last_error_at = ?, updated_at = ? WHERE name = ?""",
                (reason, reason, ts(when), ts(when), name),
            )
