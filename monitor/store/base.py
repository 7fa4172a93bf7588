"""Connection, transactions and time formatting shared by the store's query modules."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Self

from sqlite_utils import Database

from monitor.errors import StoreError

log = logging.getLogger(__name__)


def ts(dt: datetime | None) -> str | None:
    """A datetime as sortable ISO text in UTC (``2026-11-22T08:15:00.000000+00:00``)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")


def parse_ts(value: str | None) -> datetime | None:
    if not value:
        return None
    dt = datetime.fromisoformat(value)
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def rowid(cur: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just wrote."""
    assert cur.lastrowid is not None
    return cur.lastrowid


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(value: str | None, default: Any = None) -> Any:
    if value is None or value == "":
        return default
    return json.loads(value)


@contextlib.contextmanager
def _as_store_error() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(str(exc)) from exc


class StoreBase:
    """Owns one SQLite connection (WAL, synchronous=FULL, busy timeout).

    One Store per thread: the daemon's jobs each open their own (cheap), or share one
    under ``self.lock``. Writes go through ``transaction()`` (BEGIN IMMEDIATE), so a
    writer never fails half-way on a lock upgrade.
    """

    #: appended to the SELECT of a claim (sources due, deliveries due): where the database
    #: locks rows (PostgreSQL: `` FOR UPDATE SKIP LOCKED``) a claim passes over the rows another
    #: daemon is claiming at that moment; SQLite's write lock already runs one claim at a time
    claim_lock = ""
    #: appended to a SELECT whose row the transaction then rewrites from what it read (a
    #: summary's list of hits): PostgreSQL `` FOR UPDATE`` waits for the other writer
    row_lock = ""

    def __init__(self, path: str | Path, busy_timeout: float = 30.0, migrate: bool = True):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(
                str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc
        self.conn = conn
        self.db = Database(conn)
        self.lock = threading.RLock()
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        if migrate:
            from monitor.store.schema import migrate as _migrate

            with self.lock:
                applied = _migrate(self.db)
            if applied:
                log.debug("database %s: applied migrations %s", self.path, ", ".join(applied))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE); nested calls become savepoints."""
        with self.lock:
            if self.conn.in_transaction:
                with self.db.atomic():
                    yield self.conn
                return
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(f"database busy: {exc}") from exc
            try:
                yield self.conn
            except sqlite3.Error as exc:  # above the store, a database error is a StoreError
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise StoreError(str(exc)) from exc
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            else:
                try:
                    self.conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise StoreError(f"commit failed: {exc}") from exc

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        with self.lock, _as_store_error():
            cur = self.conn.execute(sql, params)
            cols = [c[0] for c in cur.description] if cur.description else []
            return [dict(zip(cols, row)) for row in cur.fetchall()]

    def scalar(self, sql: str, params: Any = ()) -> Any:
        with self.lock, _as_store_error():
            row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    # -- meta -------------------------------------------------------------------------
    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, dumps(value)),
            )

    def get_meta(self, key: str, default: Any = None) -> Any:
        v = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return loads(v, default)
