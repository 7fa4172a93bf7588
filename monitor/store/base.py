"""What every store has, whichever database is under it: transactions, queries, the time
and JSON formats, ``meta``.

The query modules (sources.py, record.py, hits.py …) are written once against this class:
SQL text with ``?`` placeholders, run on ``transaction()``'s connection or through
``query()`` / ``scalar()``, and ``self.dialect`` for the few fragments that differ. The two
backends — ``sqlite.py`` (one connection, the write lock) and ``postgres.py`` (a connection
pool, per-rule advisory locks) — supply the connection, the transaction, migrations and
maintenance.

Times are bound as ISO text in UTC (``ts``) and read back as the same text on both
backends (PostgreSQL keeps ``timestamptz``; its loader gives ``ts`` text), so every row is
the same data whichever backend it came from.
"""

from __future__ import annotations

import contextlib
import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol, Self, Sequence

from monitor.store.dialect import Dialect


def ts(dt: datetime | None) -> str | None:
    """A datetime as sortable ISO text in UTC (``2026-11-22T08:15:00.000000+00:00``)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")


def parse_ts(value: str | datetime | None) -> datetime | None:
    if not value:
        return None
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(value: str | None, default: Any = None) -> Any:
    if value is None or value == "":
        return default
    return json.loads(value)


class Cursor(Protocol):
    """The part of a DB-API cursor the query modules use."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """A transaction's connection, as the query modules see it (``?`` placeholders)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        """Run an INSERT of one row into a table with an ``id``; the new id, or None when
        ``ON CONFLICT … DO NOTHING`` kept an existing row instead."""
        ...

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The result rows as dicts keyed by column name."""
        ...


class StoreBase:
    """The backend-neutral part of a store; ``SqliteBase`` and ``PostgresBase`` complete it."""

    dialect: Dialect
    lock: threading.RLock

    @property
    def location(self) -> str:
        """Where the database is, safe to show (a file path, or a URL without its password)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> contextlib.AbstractContextManager[Connection]:
        """One write transaction; nested calls become savepoints. A database error inside
        it rolls it back and is raised as StoreError."""
        raise NotImplementedError

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    # -- schema and maintenance (per backend) ------------------------------------------
    def apply_migrations(self) -> list[str]:
        """Apply pending migrations; return the names applied."""
        raise NotImplementedError

    def schema_info(self) -> dict[str, Any]:
        raise NotImplementedError

    def backup(self, dest: str | Path) -> Path:
        """A consistent copy of the database in one file (SQLite)."""
        raise NotImplementedError

    def optimize(self) -> None:
        """Let the database refresh its query planner statistics (cheap; after retention)."""

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
