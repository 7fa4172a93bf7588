"""The store: every table and query, on SQLite (the embedded default) or PostgreSQL.

One interface, assembled from one query module per group of tables, written once for both
databases over ``StoreBase`` (base.py; ``dialect.py`` holds the few fragments that differ):

    Store ── SourceQueries  (sources.py)   polling state and health
          ── RecordQueries  (record.py)    unit_of_work(): a poll's items + hits + outbox rows, one transaction
          ── BacktestQueries (backtest_queries.py) items with what was recorded, for rules backtest
          ── ItemQueries    (items.py)     new keys, iteration, retention
          ── HitQueries     (hits.py)      listing, filters, full-text search
          ── OutboxQueries  (outbox.py)    the notification outbox
          ── TriageQueries  (triage.py)    ack / dismiss / notes, per-rule feedback
          ── OpsQueries     (ops.py)       heartbeat, reload outcome, health
          ── SilenceQueries (silences.py)  silences: no alerts for a rule or source until they expire
          ── AccountQueries (accounts.py)  web accounts, sessions, API tokens, the edit trail
          ── WebSourceQueries (web_sources.py)  re-enable a source the daemon disabled
          ── DaemonQueries  (daemons.py)   the registry of daemons on this database, their leases
          ── LeaseQueries   (leases.py)    several daemons dividing the due sources by leases

Two implementations of it:

    SqliteStore   = Store + SqliteBase   (sqlite.py: one connection, WAL; schema.py, sqlite-utils migrations)
    PostgresStore = Store + PostgresBase (postgres.py: a psycopg pool; pg_schema.py, its own migrations)

``Store(target)`` opens the right one, as ``pathlib.Path`` does: a ``postgresql://`` URL
opens a PostgresStore, anything else is a SQLite file. ``open_store(config)`` opens the
one a config names (``storage.url`` or ``storage.path``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.models import Entry, OutboxPlan, RecordResult
from monitor.store.accounts import AccountQueries
from monitor.store.backtest_queries import BacktestQueries
from monitor.store.base import parse_ts, ts
from monitor.store.daemons import DaemonQueries, DaemonRecord
from monitor.store.hits import HitQueries
from monitor.store.items import ItemQueries
from monitor.store.leases import LeaseQueries
from monitor.store.ops import OpsQueries
from monitor.store.outbox import OutboxQueries
from monitor.store.postgres import PostgresBase
from monitor.store.record import RecordQueries, RecordUnit
from monitor.store.silences import SilenceQueries
from monitor.store.sources import SourceQueries
from monitor.store.sqlite import SqliteBase
from monitor.store.triage import TriageQueries
from monitor.store.web_sources import WebSourceQueries

if TYPE_CHECKING:
    from monitor.config import Config

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.lower().startswith(POSTGRES_SCHEMES)


class Store(
    SourceQueries,
    RecordQueries,
    BacktestQueries,
    ItemQueries,
    HitQueries,
    OutboxQueries,
    TriageQueries,
    SilenceQueries,
    OpsQueries,
    AccountQueries,
    WebSourceQueries,
    DaemonQueries,
    LeaseQueries,
):
    """The project's database. ``Store(path)`` opens (creating and migrating) a SQLite
    file, ``Store("postgresql://…")`` a PostgreSQL database."""

    def __new__(cls, target: str | Path, *args: Any, **kwargs: Any) -> Store:
        if cls is Store:
            cls = PostgresStore if is_postgres_url(target) else SqliteStore
        return object.__new__(cls)


class SqliteStore(SqliteBase, Store):
    """The store in one SQLite file."""


class PostgresStore(PostgresBase, Store):
    """The store in a PostgreSQL database (several daemons may share it)."""


def open_store(config: Config, *, migrate: bool = True) -> Store:
    """The store ``config`` names: ``storage.url`` (PostgreSQL) or ``storage.path`` (SQLite)."""
    s = config.storage
    url = config.storage_url()
    if url is not None:
        return PostgresStore(
            url, busy_timeout=s.busy_timeout, migrate=migrate, pool_size=s.pool_size
        )
    return SqliteStore(config.db_path, busy_timeout=s.busy_timeout, migrate=migrate)


__all__ = [
    "Store",
    "DaemonRecord",
    "SqliteStore",
    "PostgresStore",
    "open_store",
    "is_postgres_url",
    "RecordUnit",
    "Entry",
    "OutboxPlan",
    "RecordResult",
    "ts",
    "parse_ts",
]
