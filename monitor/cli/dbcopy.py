"""``monitor db copy --to postgresql://…``: move the SQLite database to PostgreSQL, verified."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from monitor.errors import StoreError

if TYPE_CHECKING:
    from monitor.cli import Context


def _target_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from monitor.dburl import check_storage_url

    try:
        return check_storage_url(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("copy")
@click.option(
    "--to",
    "to",
    required=True,
    callback=_target_url,
    metavar="URL",
    help="The PostgreSQL database to copy into: postgresql://user@host/db (the password "
    "from PGPASSWORD, ~/.pgpass or ${VAR}).",
)
@click.option("--force", is_flag=True, help="Empty the target first if it holds data.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def copy(obj: Context, to: str, force: bool, as_json: bool) -> None:
    """Copy this config's SQLite database into an empty PostgreSQL database, verified.

    Every table is copied in one transaction on the target, then counted and checksummed on
    both sides; the copy is committed only when every table agrees, so the target ends as an
    exact copy or as it was. A target that holds data is refused unless --force (which
    empties it first); a target with daemons running on it is always refused. Stop the
    daemon first: it is refused while one runs on the SQLite file. Afterwards, put
    ``storage.url`` in place of ``storage.path`` in the config and start the daemons.

    \b
    Example:
      monitor db copy --to postgresql://monitor@db.example.org/monitor
      PGPASSWORD=… monitor db copy --to postgresql://monitor@db.example.org/monitor --force
    """
    from monitor.config import expand_env
    from monitor.dbfiles import InstanceLock
    from monitor.store import PostgresStore, SqliteStore
    from monitor.store.copy import copy_database
    from monitor.urls import redact_url

    cfg = obj.config
    if cfg.storage.url is not None:
        raise click.UsageError(
            "this config's database is already PostgreSQL (storage.url); db copy moves a SQLite "
            "database (storage.path) over"
        )
    if not cfg.db_path.exists():
        raise StoreError(f"no database at {cfg.db_path} (nothing to copy)")
    label = redact_url(to)
    lock = InstanceLock(cfg.db_path)
    if not lock.acquire("copy"):
        who = lock.holder()
        raise click.UsageError(
            f"a monitor (pid {who.get('pid', '?')}, {who.get('role', 'daemon')}) is running on "
            f"{cfg.db_path}: stop it first, or what it records after the copy is left behind"
        )
    try:
        source = SqliteStore(cfg.db_path, busy_timeout=cfg.storage.busy_timeout)
        try:
            target = PostgresStore(
                expand_env(to), busy_timeout=cfg.storage.busy_timeout, pool_size=2
            )
            try:
                report = copy_database(source, target, force=force)
            finally:
                target.close()
        finally:
            source.close()
    finally:
        lock.release()
    if as_json:
        data = {
            "from": str(cfg.db_path),
            "to": label,
            "rows": report.rows,
            "emptied": report.emptied,
            "tables": [
                {"name": t.name, "rows": t.rows, "checksum": t.checksum} for t in report.tables
            ],
        }
        click.echo(json.dumps(data, indent=2))
        return
    if report.emptied:
        click.echo(
            "emptied     " + ", ".join(f"{t} {n}" for t, n in report.emptied.items()) + " rows"
        )
    for t in report.tables:
        click.echo(f"copied      {t.name:<13} {t.rows:>9} rows  checksum {t.checksum[:16]}")
    click.echo(
        f"copied {report.rows} rows from {cfg.db_path} to {label}; every table verified "
        "(rows and checksum). Now set storage.url in place of storage.path and start the daemons."
    )
