"""The PostgreSQL backend: psycopg 3 over a connection pool (psycopg-pool), its own ordered
migration history (pg_schema.py), per-rule advisory locks in the unit of work.

Every connection of the pool runs in autocommit; ``transaction()`` takes one connection for
its whole length (``BEGIN`` … ``COMMIT``, READ COMMITTED) and, while it lasts, ``query()`` and
``scalar()`` on the same thread read through it, so they see its writes as they do on SQLite.
Timestamps are ``timestamptz`` and JSON is ``jsonb``; both are read back as the text SQLite
holds (``ts`` text, JSON text), so rows mean the same on both backends.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
from pathlib import Path
from typing import Any, Iterator, Sequence
from urllib.parse import unquote, urlsplit

from monitor.errors import StoreError
from monitor.store.base import StoreBase, ts
from monitor.store.dialect import POSTGRES
from monitor.urls import redact_url

log = logging.getLogger(__name__)

_TOKENS = re.compile(r"'[^']*'|\?|%")


@functools.lru_cache(maxsize=2048)
def pg_sql(sql: str) -> str:
    """``?`` placeholders (outside quoted literals) as psycopg's ``%s``, and ``%`` as ``%%``."""
    return _TOKENS.sub(
        lambda m: "%s" if m.group(0) == "?" else "%%" if m.group(0) == "%" else m.group(0), sql
    )


def _clean(params: Sequence[Any]) -> Sequence[Any]:
    """PostgreSQL text holds no NUL character: one in feed text is stored as U+FFFD."""
    if any(isinstance(p, str) and "\x00" in p for p in params):
        return [p.replace("\x00", "\ufffd") if isinstance(p, str) else p for p in params]
    return params


def password_of(url: str) -> str | None:
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def safe_label(url: str) -> str:
    """The URL as it may be shown or logged: no password, whatever its source."""
    secret = password_of(url)
    return redact_url(url, [secret] if secret else [])


class PostgresConnection:
    """A transaction's connection: psycopg's, spoken to with ``?`` placeholders."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if not params:
            return self.raw.execute(sql)
        return self.raw.execute(pg_sql(sql), _clean(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self.raw.cursor() as cur:
                cur.executemany(pg_sql(sql), [_clean(r) for r in rows])

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int | None:
        row = self.execute(sql + " RETURNING id", params).fetchone()
        return int(row[0]) if row else None

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        with self.raw.cursor(row_factory=dict_row) as cur:
            if params:
                cur.execute(pg_sql(sql), _clean(params))
            else:
                cur.execute(sql)
            return list(cur.fetchall())


def _configure(conn: Any) -> None:
    """Each new pooled connection: timestamps read as ``ts`` text, JSON as its text."""
    from psycopg.types.datetime import TimestamptzLoader
    from psycopg.types.string import TextLoader

    class TsTextLoader(TimestamptzLoader):
        def load(self, data: Any) -> Any:
            return ts(super().load(data))

    conn.adapters.register_loader("timestamptz", TsTextLoader)
    conn.adapters.register_loader("json", TextLoader)
    conn.adapters.register_loader("jsonb", TextLoader)


class PostgresBase(StoreBase):
    """Owns a connection pool to one PostgreSQL database; safe to share between threads."""

    dialect = POSTGRES

    def __init__(
        self,
        url: str,
        busy_timeout: float = 30.0,
        migrate: bool = True,
        pool_size: int = 10,
    ) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError as exc:  # pragma: no cover - both are dependencies
            raise StoreError(f"PostgreSQL needs psycopg and psycopg-pool: {exc}") from exc
        self._url = url
        self._secret = password_of(url)
        self.lock = threading.RLock()
        self._local = threading.local()
        self._psycopg = psycopg
        options = f"-c lock_timeout={int(busy_timeout * 1000)} -c TimeZone=UTC"
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "options": options,
            "application_name": "signal-monitor",
        }
        try:  # one connection first: a refusal is reported with the server's own words
            psycopg.connect(url, connect_timeout=max(1, int(busy_timeout)), **kwargs).close()
        except psycopg.Error as exc:
            raise StoreError(f"cannot open database {self.location}: {self._hide(exc)}") from exc
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs=kwargs,
            configure=_configure,
            timeout=busy_timeout,
            open=True,
            name="monitor-store",
        )
        if migrate:
            applied = self.apply_migrations()
            if applied:
                log.debug("database %s: applied migrations %s", self.location, ", ".join(applied))

    @property
    def location(self) -> str:
        return safe_label(self._url)

    def _hide(self, exc: BaseException) -> str:
        text = str(exc).strip()
        return text.replace(self._secret, "****") if self._secret else text

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.pool.close()

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except self._psycopg.Error as exc:
            raise StoreError(self._hide(exc)) from exc
        except Exception as exc:  # the pool's own: no connection within the timeout
            from psycopg_pool import PoolTimeout

            if isinstance(exc, PoolTimeout):
                raise StoreError(f"database busy: {self._hide(exc)}") from exc
            raise

    @contextlib.contextmanager
    def transaction(self) -> Iterator[PostgresConnection]:
        """One transaction on one pooled connection; nested calls become savepoints."""
        active: PostgresConnection | None = getattr(self._local, "tx", None)
        if active is not None:
            with self._errors(), active.raw.transaction():
                yield active
            return
        with self._errors(), self.pool.connection() as raw:
            tx = PostgresConnection(raw)
            self._local.tx = tx
            try:
                with raw.transaction():
                    yield tx
            finally:
                self._local.tx = None

    @contextlib.contextmanager
    def _reader(self) -> Iterator[PostgresConnection]:
        active: PostgresConnection | None = getattr(self._local, "tx", None)
        if active is not None:
            yield active
            return
        with self.pool.connection() as raw:
            yield PostgresConnection(raw)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._errors(), self._reader() as c:
            return c.rows(sql, params)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._errors(), self._reader() as c:
            row = c.execute(sql, params).fetchone()
        return row[0] if row else None

    # -- schema and maintenance ----------------------------------------------------------
    def apply_migrations(self) -> list[str]:
        from monitor.store import pg_schema

        with self.transaction() as c:
            return pg_schema.migrate(c)

    def optimize(self) -> None:
        with contextlib.suppress(StoreError):
            self.scalar("ANALYZE")

    def backup(self, dest: str | Path) -> Path:
        raise StoreError(
            "`monitor db backup` copies SQLite files; back up PostgreSQL with its own tools, "
            "e.g. pg_dump -Fc -f monitor.dump <database>"
        )

    def schema_info(self) -> dict[str, Any]:
        from monitor.store import pg_schema

        with self._errors(), self._reader() as c:
            applied = pg_schema.applied(c)
            done = {name for name, _ in applied}
            tables = {
                name: int(c.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0])
                for name in ("sources", "items", "hits", "outbox")
                if name in pg_schema.tables(c)
            }
            size = int(c.execute("SELECT pg_database_size(current_database())").fetchone()[0])
            version = str(c.execute("SHOW server_version").fetchone()[0])
        return {
            "backend": "postgresql",
            "path": self.location,
            "server_version": version,
            "sqlite_version": None,
            "journal_mode": None,
            "size_bytes": size,
            "free_bytes": 0,
            "migrations_applied": [{"name": n, "applied_at": at} for n, at in applied],
            "migrations_pending": [n for n in pg_schema.NAMES if n not in done],
            "rows": tables,
        }
