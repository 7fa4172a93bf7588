"""Moving a SQLite database to PostgreSQL (``monitor db copy --to postgresql://…``), verified.

    copy_database(source: SqliteStore, target: PostgresStore, force=False) ──► CopyReport

In one transaction on the target: refuse a target that holds data (unless ``force``: it is
emptied first) or that has live daemons; copy every table of the data (in the order their
references need, ids kept), move the targets' id sequences past the copied ids, then count
the rows and checksum each table on both sides, and commit only when every table agrees.
So the target ends either with an exact copy or as it was. The source is read in one read
transaction: a consistent snapshot even if something writes meanwhile.

The checksum of a table is the sum (mod 2**256) of a SHA-256 per row over its values in a
neutral form — times as ``ts`` text, JSON re-serialised with sorted keys — so it does not
depend on row order, on the database's collation, or on how each backend spells JSON.
Not copied: SQLite's full-text index (PostgreSQL builds its ``tsvector`` from the rows),
the migration history (each backend has its own), the daemon registry and source leases
(who is running now: nobody on a database being moved).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator

from monitor.errors import StoreError
from monitor.store.base import StoreBase, parse_ts, ts

# every table of the data, parents before children
TABLES = (
    "sources",
    "items",
    "hits",
    "hit_notes",
    "outbox",
    "silences",
    "story_bands",
    "users",
    "web_sessions",
    "api_tokens",
    "edits",
    "meta",
)
BATCH = 1000
_MOD = 1 << 256


@dataclass(frozen=True)
class TableCopy:
    name: str
    rows: int
    checksum: str  # hex, the same on both sides


@dataclass
class CopyReport:
    tables: list[TableCopy] = field(default_factory=list)
    emptied: dict[str, int] = field(default_factory=dict)  # --force: rows the target had

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


class TargetNotEmpty(StoreError):
    """The target database already holds data."""


def _neutral(value: Any, kind: str) -> str:
    if value is None:
        return "\x00"
    if kind == "time":
        dt = value if isinstance(value, datetime) else parse_ts(str(value))
        return str(ts(dt))
    if kind == "json":
        data = json.loads(value) if isinstance(value, (str, bytes)) else value
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 1800.0 from one side, 1800 from the other
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _row_digest(values: tuple[Any, ...], kinds: list[str]) -> int:
    text = "\x1f".join(_neutral(v, k) for v, k in zip(values, kinds))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")


class _Sum:
    def __init__(self) -> None:
        self.rows = 0
        self.total = 0

    def add(self, digest: int) -> None:
        self.rows += 1
        self.total = (self.total + digest) % _MOD

    @property
    def hex(self) -> str:
        return f"{self.total:064x}"


def _target_columns(c: Any) -> dict[str, dict[str, str]]:
    """Table → column → kind (time, json, other) of the target, generated columns left out."""
    rows = c.rows(
        """SELECT table_name, column_name, data_type, is_generated FROM information_schema.columns
           WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"""
    )
    out: dict[str, dict[str, str]] = {}
    for r in rows:
        if r["is_generated"] == "ALWAYS":
            continue
        dtype = str(r["data_type"])
        kind = "time" if dtype.startswith("timestamp") else "json" if "json" in dtype else "other"
        out.setdefault(r["table_name"], {})[r["column_name"]] = kind
    return out


def _source_columns(conn: Any, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})").fetchall()]


def _batches(cursor: Any) -> Iterator[list[tuple[Any, ...]]]:
    while True:
        rows = cursor.fetchmany(BATCH)
        if not rows:
            return
        yield [tuple(r) for r in rows]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_database(source: StoreBase, target: StoreBase, *, force: bool = False) -> CopyReport:
    """Copy every table of the data from a SQLite store into a PostgreSQL store (see the
    module docstring); raises TargetNotEmpty, or StoreError when a table does not verify."""
    conn = getattr(source, "conn", None)
    if source.dialect.name != "sqlite" or conn is None:
        raise StoreError("the database to copy from must be a SQLite file (storage.path)")
    if target.dialect.name != "postgresql":
        raise StoreError("the database to copy to must be PostgreSQL (postgresql://…)")
    report = CopyReport()
    with source.lock:
        conn.execute("BEGIN")  # one read snapshot of the whole source
        try:
            with target.transaction() as c:
                _copy_all(conn, c, target, force, report)
        finally:
            conn.execute("ROLLBACK")
    return report


def _copy_all(conn: Any, c: Any, target: StoreBase, force: bool, report: CopyReport) -> None:
    columns = _target_columns(c)
    missing = [t for t in TABLES if t not in columns]
    if missing:
        raise StoreError(f"the target has no table {missing[0]}: is its schema up to date?")
    live = int(
        c.execute(
            "SELECT COUNT(*) FROM daemons WHERE stopped_at IS NULL AND expires_at > ?",
            (ts(datetime.now().astimezone()),),
        ).fetchone()[0]
    )
    if live:
        raise StoreError(
            f"{live} daemon(s) are running on the target database: stop them before copying into it"
        )
    held = {t: int(c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES}
    held = {t: n for t, n in held.items() if n}
    if held and not force:
        what = ", ".join(f"{t} {n}" for t, n in held.items())
        raise TargetNotEmpty(
            f"the target database is not empty ({what} rows): copying into it would mix two "
            "databases. Copy into a new, empty database, or pass --force to empty this one first"
        )
    for t in reversed(TABLES):
        if held.get(t):
            c.execute(f"DELETE FROM {t}")
    report.emptied = held
    for t in TABLES:
        have = _source_columns(conn, t)
        if not have:
            continue  # a table the source's schema does not have yet: nothing to copy
        kinds = columns[t]
        extra = [col for col in have if col not in kinds]
        if extra:
            raise StoreError(f"the target's table {t} has no column {extra[0]}")
        cols = ", ".join(_quote(col) for col in have)
        insert = f"INSERT INTO {t} ({cols}) VALUES ({', '.join('?' * len(have))})"
        col_kinds = [kinds[col] for col in have]
        copied = _Sum()
        for rows in _batches(conn.execute(f"SELECT {cols} FROM {t}")):
            c.executemany(insert, rows)
            for r in rows:
                copied.add(_row_digest(r, col_kinds))
        seq = target.dialect.after_copy(t) if "id" in have else None
        if seq:
            c.execute(seq)
        landed = _Sum()
        for r in c.execute(f"SELECT {cols} FROM {t}").fetchall():
            landed.add(_row_digest(tuple(r), col_kinds))
        if (landed.rows, landed.hex) != (copied.rows, copied.hex):
            raise StoreError(
                f"table {t} did not verify: {copied.rows} rows read, {landed.rows} in the target"
                + ("" if landed.rows != copied.rows else ", with different contents")
                + "; nothing was copied"
            )
        report.tables.append(TableCopy(t, copied.rows, copied.hex))
