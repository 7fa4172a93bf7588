"""Operations commands: ``monitor status`` and ``monitor db backup|info|migrate|prune|copy``."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor.config import parse_duration
from monitor.errors import StoreError
from monitor.models import utcnow
from monitor.timefmt import duration

if TYPE_CHECKING:
    from monitor.cli import Context
    from monitor.health import Health
    from monitor.store import Store


def _open_store(obj: Context, *, migrate: bool) -> Store:
    from monitor.store import open_store

    cfg = obj.config
    if cfg.storage.url is None and not cfg.db_path.exists():
        raise StoreError(
            f"no database at {cfg.db_path} (the monitor has not run with this config yet)"
        )
    return open_store(cfg, migrate=migrate)


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _when(dt: datetime | None, now: datetime) -> str:
    if dt is None:
        return "never"
    seconds = (now - dt).total_seconds()
    return f"{duration(seconds)} ago" if seconds >= 0 else f"in {duration(-seconds)}"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for machines).")
@click.option(
    "--window",
    default="24h",
    show_default=True,
    callback=_duration,
    help="How far back a given-up delivery counts as a problem.",
)
@click.option(
    "--no-daemon",
    is_flag=True,
    help="Do not require a running daemon (when `monitor run --once` runs from cron).",
)
@click.pass_obj
def status(obj: Context, as_json: bool, window: float, no_daemon: bool) -> None:
    """Is everything well? Exit 0 when healthy, 1 when something needs attention.

    Shows whether the daemon is running (its heartbeat is fresh), each source's health,
    the notification backlog and deliveries given up on, hits in the last 24 hours, the
    outcome of the last reload, and the last error. Another monitor can watch this one
    by its exit code.

    \b
    Example:
      monitor status                     # a summary for people
      monitor status --json | jq .ok     # for machines
      monitor status || mail -s "monitor needs attention" ops@example.org < /dev/null
    """
    from monitor.health import evaluate

    cfg = obj.config
    now = utcnow()
    if cfg.storage.url is None and not cfg.db_path.exists():
        problem = f"no database at {cfg.db_path}: the monitor has never run"
        report = {"ok": False, "problems": [problem], "database": str(cfg.db_path)}
        if as_json:
            click.echo(json.dumps(report, indent=2))
        else:
            click.echo(f"status: NEEDS ATTENTION\n  - {problem}")
        sys.exit(1)
    store = _open_store(obj, migrate=True)
    try:
        health = evaluate(store, cfg, now, window=window, expect_daemon=not no_daemon)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(health.as_json(), indent=2, ensure_ascii=False))
    else:
        _print_health(health, now)
    sys.exit(0 if health.ok else 1)


def _print_health(h: Health, now: datetime) -> None:
    d = h.daemon
    if d["running"]:
        up = duration((now - d["started_at"]).total_seconds()) if d.get("started_at") else "?"
        click.echo(
            f"daemon      running (pid {d['pid']} on {d['host']}, up {up}, "
            f"last heartbeat {_when(d['last_beat'], now)})"
        )
    elif d["state"] == "never started":
        click.echo("daemon      never started on this database")
    elif d["state"] == "stopped":
        click.echo(f"daemon      stopped {_when(d['stopped_at'], now)} (pid {d['pid']})")
    else:
        click.echo(
            f"daemon      NOT RUNNING: last heartbeat {_when(d['last_beat'], now)} (pid {d['pid']} on {d['host']})"
        )

    _print_daemons(h.daemons or [], now)

    by_health: dict[str, int] = {}
    for s in h.sources:
        by_health[s["health"]] = by_health.get(s["health"], 0) + 1
    click.echo(
        "sources     "
        + (", ".join(f"{n} {k}" for k, n in sorted(by_health.items())) or "none configured")
    )
    width = max((len(s["name"]) for s in h.sources), default=0)
    for s in h.sources:
        detail = f"last success {_when(s['last_success_at'], now)}, {s['items_seen']} item(s)"
        if s["health"] in ("failing", "retrying", "disabled"):
            detail = f"{s['consecutive_failures']} failure(s) in a row: {s['last_error']}"
        click.echo(f"  {s['name']:<{width}}  {s['health']:<14} {detail}")

    o = h.outbox
    click.echo(
        f"outbox      {o['pending']} pending ({o['due']} due), {o['inflight']} in flight, "
        f"{len(h.failed_deliveries)} given up recently, {o['counts'].get('sent', 0)} sent in all"
    )
    for f in h.failed_deliveries[:3]:
        click.echo(
            f"  failed #{f['id']} {f['channel']} {_when(f['failed_at'], now)}: {f['last_error']}"
        )
    click.echo(f"hits        {h.hits_24h} in the last 24 h")
    if h.reload:
        if h.reload.get("ok"):
            click.echo(f"reload      ok {_when(h.reload['at'], now)}")
        else:
            click.echo(f"reload      REFUSED {_when(h.reload['at'], now)}:")
            for line in h.reload.get("errors", [])[:10]:
                click.echo(f"  {line}")
    if h.retention:
        click.echo(
            f"retention   {h.retention.get('pruned', 0)} item(s) pruned at {h.retention.get('at', '?')[:19]}"
        )
    if h.last_error:
        e = h.last_error
        click.echo(f"last error  {_when(e['at'], now)}, {e['kind']} {e['subject']}: {e['error']}")
    if h.ok:
        click.echo("status: OK")
    else:
        click.echo("status: NEEDS ATTENTION")
        for p in h.problems:
            click.echo(f"  - {p}")


def _print_daemons(daemons: list[dict[str, Any]], now: datetime) -> None:
    """Every live daemon of the registry, one line each; the rule sets, when they differ."""
    if not daemons:
        return
    click.echo(f"daemons     {len(daemons)} live on this database")
    width = max(len(d["id"]) for d in daemons)
    hashes = {d["rules_hash"] for d in daemons if d["role"] == "daemon"}
    for d in daemons:
        role = "" if d["role"] == "daemon" else f" ({d['role']})"
        rules = f", rules {d['rules_hash'][:8]}" if len(hashes) > 1 else ""
        click.echo(
            f"  {d['id']:<{width}}  {d['host']}, version {d['version']}, "
            f"{d['leases']} lease(s), last heartbeat {_when(d['last_beat'], now)}{rules}{role}"
        )
    if len(hashes) > 1:
        click.echo("  WARNING: these daemons run different rule sets (see the rules digests)")


@click.group()
def db() -> None:
    """The database: consistent backups, migrations, size and row counts, pruning.

    \b
    Example:
      monitor db info
      monitor db backup /var/backups/monitor/monitor-$(date +%F).db
    """


@db.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@click.pass_obj
def backup(obj: Context, file: Path, force: bool) -> None:
    """Write a consistent copy of the database to FILE, safely while the daemon runs.

    Uses SQLite's online backup API over one read snapshot, checks the copy, then moves
    it into place, so FILE is never a half-written database. FILE may not be the database
    or one of its -wal, -shm, -journal or .lock files (links followed), even with --force.

    \b
    Example:
      monitor db backup /var/backups/monitor/monitor-$(date +%F).db
    """
    from monitor.dbfiles import is_database_file

    if obj.config.storage.url is not None:
        raise click.UsageError(
            "`monitor db backup` copies a SQLite file; this config's database is PostgreSQL "
            f"({obj.config.storage_label}): back it up with pg_dump -Fc"
        )
    if is_database_file(file, obj.config.db_path):
        raise click.UsageError(
            f"{file} is the database or one of its own files (-wal, -shm, -journal, .lock); "
            "replacing it would destroy the database: choose another file"
        )
    if file.exists() and not force:
        raise click.UsageError(f"{file} exists; pass --force to replace it")
    store = _open_store(obj, migrate=False)
    try:
        dest = store.backup(file)
    finally:
        store.close()
    click.echo(f"backed up {obj.config.db_path} to {dest} ({dest.stat().st_size} bytes)")


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def info(obj: Context, as_json: bool) -> None:
    """Where the database is, its size, row counts, and which migrations are applied or pending.

    \b
    Example:
      monitor db info
    """
    store = _open_store(obj, migrate=False)
    try:
        data = store.schema_info()
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    if data.get("backend") == "postgresql":
        click.echo(
            f"database    {data['path']} ({data['size_bytes'] / 1e6:.1f} MB, "
            f"PostgreSQL {data['server_version']})"
        )
    else:
        click.echo(
            f"database    {data['path']} ({data['size_bytes'] / 1e6:.1f} MB, {data['free_bytes'] / 1e6:.1f} MB free, "
            f"journal {data['journal_mode']}, SQLite {data['sqlite_version']})"
        )
    click.echo("rows        " + ", ".join(f"{k} {v}" for k, v in data["rows"].items()))
    for m in data["migrations_applied"]:
        click.echo(f"applied     {m['name']}  {m['applied_at'][:19]}")
    for name in data["migrations_pending"]:
        click.echo(f"pending     {name}  (applied at the next start, or by `monitor db migrate`)")


@db.command()
@click.pass_obj
def migrate(obj: Context) -> None:
    """Apply pending schema migrations now (the daemon also applies them when it starts).

    \b
    Example:
      monitor db backup before-upgrade.db && monitor db migrate
    """
    store = _open_store(obj, migrate=False)
    try:
        applied = store.apply_migrations()
    finally:
        store.close()
    click.echo("applied: " + ", ".join(applied) if applied else "the schema is up to date")


@db.command()
@click.option(
    "--older-than",
    callback=_duration,
    default=None,
    help="Prune items fetched longer ago than this (default: storage.retention).",
)
@click.pass_obj
def prune(obj: Context, older_than: float | None) -> None:
    """Delete stored items older than the retention that no hit refers to (the daemon
    does this daily). Hits and the items they point at are always kept.

    \b
    Example:
      monitor db prune                   # storage.retention from the config
      monitor db prune --older-than 30d
    """
    seconds = older_than if older_than is not None else obj.config.storage.retention
    if not seconds:
        raise click.UsageError("storage.retention is off; pass --older-than")
    now = utcnow()
    cutoff = now - timedelta(seconds=seconds)
    store = _open_store(obj, migrate=True)
    try:
        pruned = store.prune_items(cutoff)
        store.record_retention(now, cutoff, pruned)
    finally:
        store.close()
    click.echo(f"pruned {pruned} item(s) fetched before {cutoff:%Y-%m-%d %H:%M} UTC")


def _add_copy() -> None:
    from monitor.cli.dbcopy import copy

    db.add_command(copy)


_add_copy()

COMMANDS: list[click.Command] = [status, db]
