"""Is everything well? One answer for ``monitor status`` (and anything else that asks).

    evaluate(store, config, now) ──► Health(ok, problems, daemon, sources, outbox, hits_24h, last_error,
                                            daemons: every live daemon of the registry)

Something "needs attention" when: the daemon is not running (no fresh heartbeat); a source
is failing (``scheduler.failure_threshold`` failures in a row) or was disabled; a delivery
was given up on within the window; due notifications wait much longer than a dispatch
round should take; or the last reload was refused (the daemon runs on older files); or the live daemons on
the database run different rule sets (each loads its own files).
"""

from __future__ import annotations

import socket
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.cluster import process_alive
from monitor.config import Config
from monitor.store import Store
from monitor.timefmt import duration

BACKLOG_GRACE = 600.0  # seconds a due notification may wait before it counts as stuck


@dataclass
class Health:
    ok: bool
    problems: list[str]
    daemon: dict[str, Any]
    sources: list[dict[str, Any]]
    outbox: dict[str, Any]
    failed_deliveries: list[dict[str, Any]]
    hits_24h: int
    last_error: dict[str, Any] | None
    reload: dict[str, Any] | None = None
    retention: dict[str, Any] | None = None
    checked_at: datetime | None = None
    database: str = ""
    daemons: list[dict[str, Any]] | None = None  # every live daemon (the registry)
    rule_sets_differ: bool = False

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = _jsonable(asdict(self))
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _process_gone(beat: dict[str, Any]) -> bool:
    """True only when we can tell for sure: same host, and no such process."""
    if beat.get("host") != socket.gethostname() or not isinstance(beat.get("pid"), int):
        return False
    return not process_alive(beat["pid"])


def daemon_state(store: Store, now: datetime) -> dict[str, Any]:
    beat = store.heartbeat()
    if not beat:
        return {"running": False, "state": "never started"}
    interval = float(beat.get("interval") or 15.0)
    last = beat.get("last_beat")
    age = (now - last).total_seconds() if last else None
    info = {
        "pid": beat.get("pid"),
        "host": beat.get("host"),
        "started_at": beat.get("started_at"),
        "last_beat": last,
        "beat_age": age,
        "interval": interval,
    }
    if beat.get("stopped_at"):
        return {**info, "running": False, "state": "stopped", "stopped_at": beat["stopped_at"]}
    if age is None or age > 3 * interval + 5 or _process_gone(beat):
        return {
            **info,
            "running": False,
            "state": "not responding" if not _process_gone(beat) else "gone",
        }
    return {**info, "running": True, "state": "running"}


def live_daemons(store: Store, now: datetime) -> list[dict[str, Any]]:
    """The registry's live daemons (``run --once`` included, by its role) as plain data."""
    return [
        {
            "id": d.id,
            "host": d.host,
            "pid": d.pid,
            "version": d.version,
            "role": d.role,
            "started_at": d.started_at,
            "last_beat": d.last_beat,
            "leases": d.leases,
            "in_flight": d.in_flight,
            "rules_hash": d.rules_hash,
            "rule_count": d.rule_count,
        }
        for d in store.live_daemons(now)
        if d.host != socket.gethostname() or process_alive(d.pid)  # not one killed here
    ]


def _registry_says_running(
    daemon: dict[str, Any], live: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    """With several daemons, the one heartbeat record is whichever wrote last (and a clean
    stop of one says "stopped"): a live daemon in the registry means the monitor runs."""
    running = [d for d in live if d["role"] == "daemon"]
    if daemon.get("running") or not running:
        return daemon
    d = max(running, key=lambda d: d["last_beat"])
    return {
        "pid": d["pid"],
        "host": d["host"],
        "started_at": d["started_at"],
        "last_beat": d["last_beat"],
        "beat_age": (now - d["last_beat"]).total_seconds(),
        "interval": daemon.get("interval"),
        "running": True,
        "state": "running",
    }


def evaluate(
    store: Store, config: Config, now: datetime, window: float = 86400.0, expect_daemon: bool = True
) -> Health:
    problems: list[str] = []
    since = now - timedelta(seconds=window)

    daemons = live_daemons(store, now)
    daemon = _registry_says_running(daemon_state(store, now), daemons, now)
    if not daemon["running"] and expect_daemon:
        if daemon["state"] == "never started":
            problems.append("the daemon has never run on this database")
        elif daemon["state"] == "stopped":
            problems.append(f"the daemon stopped at {daemon['stopped_at']:%Y-%m-%d %H:%M:%S} UTC")
        else:
            problems.append(
                f"the daemon is not running (last heartbeat {duration(daemon.get('beat_age'))} ago, "
                f"pid {daemon.get('pid')})"
            )

    threshold = config.scheduler.failure_threshold
    configured = {s.name: s for s in config.sources}
    sources = []
    for row in store.list_sources():
        cfg = configured.get(row.name)
        if cfg is None:
            continue  # left the config; its row stays for history
        failures = row.consecutive_failures
        if not cfg.enabled:
            health = "off"
        elif row.disabled_reason:
            health = "disabled"
            problems.append(f"source {row.name} was disabled: {row.disabled_reason}")
        elif failures >= threshold or row.failing:
            health = "failing"
            problems.append(f"source {row.name} failed {failures} times in a row: {row.last_error}")
        elif failures:
            health = "retrying"
        elif row.last_success_at:
            health = "ok"
        else:
            health = "not polled yet"
        sources.append(
            {
                "name": row.name,
                "kind": row.kind,
                "health": health,
                "consecutive_failures": failures,
                "last_success_at": row.last_success_at,
                "last_poll_at": row.last_poll_at,
                "next_poll_at": row.next_poll_at,
                "last_error": row.last_error if failures or row.disabled_reason else None,
                "items_seen": row.items_seen,
            }
        )
    for name, cfg in configured.items():
        if cfg.enabled and not any(s["name"] == name for s in sources):
            sources.append(
                {
                    "name": name,
                    "kind": cfg.kind,
                    "health": "not polled yet",
                    "consecutive_failures": 0,
                    "last_success_at": None,
                    "last_poll_at": None,
                    "next_poll_at": None,
                    "last_error": None,
                    "items_seen": 0,
                }
            )

    backlog = store.outbox_backlog(now)
    backlog["counts"] = store.outbox_counts()
    oldest = backlog.get("oldest_due_at")
    if oldest and (now - oldest).total_seconds() > BACKLOG_GRACE + config.notify.interval:
        problems.append(
            f"{backlog['due']} notification(s) due but not sent; the oldest has waited "
            f"{duration((now - oldest).total_seconds())}"
        )
    failed = store.failed_deliveries_since(since)
    if failed:
        problems.append(
            f"{len(failed)} notification(s) given up on in the last {duration(window)}: "
            f"{failed[0]['channel']}: {failed[0]['last_error']}"
        )

    reload = store.last_reload()
    if reload and not reload.get("ok"):
        first = (reload.get("errors") or ["unknown error"])[0]
        problems.append(
            f"the last reload was refused, running on the previous config and rules: {first}"
        )

    digests = {d["rules_hash"] for d in daemons if d["role"] == "daemon"}
    if len(digests) > 1:
        by_digest = {
            h: ", ".join(d["id"] for d in daemons if d["rules_hash"] == h) for h in sorted(digests)
        }
        problems.append(
            "the live daemons run different rule sets: "
            + "; ".join(f"{h} on {who}" for h, who in by_digest.items())
        )

    errors = store.last_errors(limit=1)
    return Health(
        ok=not problems,
        problems=problems,
        daemon=daemon,
        sources=sorted(sources, key=lambda s: s["name"]),
        outbox=backlog,
        failed_deliveries=failed[:10],
        hits_24h=store.count_hits_since(now - timedelta(days=1)),
        last_error=errors[0] if errors else None,
        reload=reload,
        retention=store.get_meta("retention"),
        checked_at=now,
        database=store.location,
        daemons=daemons,
        rule_sets_differ=len(digests) > 1,
    )
