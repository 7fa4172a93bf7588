"""The store: SQLite through sqlite-utils, in WAL mode. It owns every table and query.

One class, assembled from one query module per group of tables:

    Store ── SourceQueries  (sources.py)   polling state and health
          ── RecordQueries  (record.py)    unit_of_work(): a poll's items + hits + outbox rows, one transaction
          ── BacktestQueries (backtest_queries.py) items with what was recorded, for rules backtest
          ── ItemQueries    (items.py)     new keys, iteration, retention
          ── HitQueries     (hits.py)      listing, filters, full-text search
          ── OutboxQueries  (outbox.py)    the notification outbox
          ── TriageQueries  (triage.py)    ack / dismiss / notes, per-rule feedback
          ── OpsQueries     (ops.py)       heartbeat, reload outcome, health, backup, schema info
          ── SilenceQueries (silences.py)  silences: no alerts for a rule or source until they expire
          ── AccountQueries (accounts.py)  web accounts, sessions, API tokens, the edit trail
          ── WebSourceQueries (web_sources.py)  re-enable a source the daemon disabled
          ── DaemonQueries  (daemons.py)   the registry of daemons on this database, their leases
          ── LeaseQueries   (leases.py)    several daemons dividing the due sources by leases
    schema.py: ordered migrations; base.py: connection, transactions, time format
"""

from __future__ import annotations

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
from monitor.store.record import RecordQueries, RecordUnit
from monitor.store.silences import SilenceQueries
from monitor.store.sources import SourceQueries
from monitor.store.triage import TriageQueries
from monitor.store.web_sources import WebSourceQueries


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
    """The project's database. ``Store(path)`` opens (creating and migrating) it."""


__all__ = [
    "Store",
    "DaemonRecord",
    "RecordUnit",
    "Entry",
    "OutboxPlan",
    "RecordResult",
    "ts",
    "parse_ts",
]
