"""The SQLite backend: one connection (WAL, synchronous=FULL, busy timeout), the write lock
for every transaction, sqlite-utils migrations (schema.py), the online backup API."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterator, Sequence

from sqlite_utils import Database

from monitor.errors import StoreError
from monitor.store.base import StoreBase
from monitor.store.dialect import SQLITE

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _as_store_error() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(str(exc)) from exc


class SqliteConnection:
    """A transaction's connection: the sqlite3 connection with ``insert`` and ``rows``."""

    __slots__ = ("raw",)

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.raw.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.raw.executemany(sql, rows)

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        cur = self.raw.execute(sql, params)
        return cur.lastrowid if cur.rowcount == 1 else None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.raw.execute(sql, params)
        cols = [c[0] for c in cur.description] if cur.description else []
        return [dict(zip(cols, row)) for row in cur.fetchall()]


class SqliteBase(StoreBase):
    """Owns one SQLite connection (WAL, synchronous=FULL, busy timeout).

    One Store per thread: the daemon's jobs each open their own (cheap), or share one
    under ``self.lock``. Writes go through ``transaction()`` (BEGIN IMMEDIATE), so a
    writer never fails half-way on a lock upgrade.
    """

    dialect = SQLITE

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
        self._tx = SqliteConnection(conn)
        self.db = Database(conn)
        self.lock = threading.RLock()
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        if migrate:
            applied = self.apply_migrations()
            if applied:
                log.debug("database %s: applied migrations %s", self.path, ", ".join(applied))

    @property
    def location(self) -> str:
        return str(self.path)

    def close(self) -> None:
        """Close the connection once no thread is inside a statement or a transaction on it
        (closing under a running statement can crash the process); a holder that does not let
        go within seconds leaves the connection to the process's exit."""
        if not self.lock.acquire(timeout=10):
            return
        try:
            with contextlib.suppress(Exception):
                self.conn.close()
        finally:
            self.lock.release()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[SqliteConnection]:
        """One write transaction (BEGIN IMMEDIATE); nested calls become savepoints."""
        with self.lock:
            if self.conn.in_transaction:
                with self.db.atomic():
                    yield self._tx
                return
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(f"database busy: {exc}") from exc
            try:
                yield self._tx
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

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.lock, _as_store_error():
            return self._tx.rows(sql, params)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self.lock, _as_store_error():
            row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    # -- schema and maintenance ----------------------------------------------------------
    def apply_migrations(self) -> list[str]:
        from monitor.store.schema import migrate

        with self.lock:
            return migrate(self.db)

    def optimize(self) -> None:
        try:
            self.conn.execute("PRAGMA optimize")
        except sqlite3.Error:
            pass

    def backup(self, dest: str | Path) -> Path:
        """A consistent copy of the database at ``dest`` (SQLite online backup API), taken
        while other processes keep writing: one step over a WAL snapshot, written to a
        temporary file beside ``dest`` and renamed into place."""
        dest = Path(dest)
        if dest.resolve() == self.path.resolve():
            raise StoreError("the backup file cannot be the database itself")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        try:
            target = sqlite3.connect(str(tmp))
            try:
                with self.lock:
                    self.conn.backup(target, pages=-1)  # one step: a single read snapshot
                target.execute("PRAGMA journal_mode = DELETE")
                ok = target.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                target.close()
            if ok != "ok":
                raise StoreError(f"the copy failed its check: {ok}")
            os.replace(tmp, dest)
        except sqlite3.Error as exc:
            raise StoreError(f"backup to {dest} failed: {exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)
        return dest

    def schema_info(self) -> dict[str, Any]:
        from monitor.store.schema import migrations

        applied = migrations.applied(self.db)
        pending = [m.name for m in migrations.pending(self.db)]
        page_size = int(self.scalar("PRAGMA page_size") or 0)
        pages = int(self.scalar("PRAGMA page_count") or 0)
        free = int(self.scalar("PRAGMA freelist_count") or 0)
        tables = {}
        for name in ("sources", "items", "hits", "outbox"):
            if self.db[name].exists():
                tables[name] = int(self.scalar(f"SELECT COUNT(*) FROM [{name}]") or 0)
        return {
            "backend": "sqlite",
            "path": str(self.path),
            "sqlite_version": sqlite3.sqlite_version,
            "journal_mode": self.scalar("PRAGMA journal_mode"),
            "size_bytes": page_size * pages,
            "free_bytes": page_size * free,
            "migrations_applied": [{"name": m.name, "applied_at": m.applied_at} for m in applied],
            "migrations_pending": pending,
            "rows": tables,
        }
