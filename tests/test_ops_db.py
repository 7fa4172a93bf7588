"""Data over time: a backup taken while another process writes, an upgrade from a database
made by the first schema version, retention, and the db commands."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from conftest import monitor_cmd
from helpers_ops import daemon_config
from monitor.config import Config, load_config
from monitor.daemon import Daemon
from monitor.models import Item, utcnow
from monitor.pipeline import Runtime, record, run_source
from monitor.store import Entry, Store, ts
from monitor.store.schema import SCHEMA_VERSION_NAMES, migrations

WRITER = textwrap.dedent("""
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    n = 0
    while True:
        conn.execute("BEGIN IMMEDIATE")
        for _ in range(20):
            n += 1
            conn.execute(
                "INSERT INTO items(source, key, title, text, fetched_at) VALUES ('w', ?, 'written meanwhile', ?, '2026-01-01')",
                (f"live-{n}", "x" * 2000))
        conn.execute("COMMIT")
        if n == 20:
            print("writing", flush=True)
""")


def _fill(store: Store, n: int, source: str = "bulk") -> None:
    now = utcnow()
    entries = [
        Entry(item=Item(source=source, key=f"k{i}", title=f"Item {i}", text="lorem ipsum " * 200))
        for i in range(n)
    ]
    record(store, Config(), entries, now=now)


@pytest.mark.slow
def test_backup_while_another_process_writes_is_consistent(tmp_path: Path):
    cfg = daemon_config(tmp_path)
    config = load_config(cfg)
    with Store(config.db_path) as store:
        _fill(store, 2000)  # ~5 MB, so the copy takes a moment
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(config.db_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline().strip() == "writing"  # the writer has committed and goes on
        copies = []
        for i in range(2):
            dest = tmp_path / "backups" / f"copy-{i}.db"
            done = subprocess.run(
                monitor_cmd("--config", str(cfg), "db", "backup", str(dest)),
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr
            assert "backed up" in done.stdout
            copies.append(dest)
        assert writer.poll() is None, "the writer kept writing throughout"
    finally:
        writer.terminate()
        writer.wait()
    live_count = (
        sqlite3.connect(config.db_path)
        .execute("SELECT COUNT(*) FROM items WHERE source = 'w'")
        .fetchone()[0]
    )
    counts = []
    for dest in copies:
        conn = sqlite3.connect(dest)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute(
            "INSERT INTO items_fts(items_fts) VALUES ('integrity-check')"
        )  # the FTS index agrees too
        assert (
            conn.execute("SELECT COUNT(*) FROM items WHERE source = 'bulk'").fetchone()[0] == 2000
        )
        counts.append(conn.execute("SELECT COUNT(*) FROM items WHERE source = 'w'").fetchone()[0])
        # whole transactions only: the writer commits 20 rows at a time
        assert counts[-1] % 20 == 0
        assert (
            conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        )  # one self-contained file
        conn.close()
    assert counts == sorted(counts) and counts[-1] > counts[0], (
        counts
    )  # writes went on between copies
    assert live_count >= counts[-1]
    assert not list((tmp_path / "backups").glob(".*partial*"))


def test_backup_refuses_to_overwrite_without_force(tmp_path: Path):
    cfg = daemon_config(tmp_path)
    with Store(load_config(cfg).db_path):
        pass
    (tmp_path / "existing.db").write_text("keep me")
    done = subprocess.run(
        monitor_cmd("--config", str(cfg), "db", "backup", str(tmp_path / "existing.db")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "--force" in done.stderr
    assert (tmp_path / "existing.db").read_text() == "keep me"


def _m001_database(path: Path) -> None:
    """A database exactly as the first schema version left it, with data in every table."""
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before=SCHEMA_VERSION_NAMES[1])
    assert [m.name for m in migrations.applied(db)] == ["m001_initial"]
    t = "2026-01-05T10:00:00.000000+00:00"
    db.execute(
        "INSERT INTO sources(name, kind, target, interval, consecutive_failures, last_error, last_error_at) "
        "VALUES ('inbox', 'folder', 'inbox', 60, 2, 'disk error', ?)",
        [t],
    )
    db.execute(
        "INSERT INTO items(id, source, key, title, text, fetched_at) "
        "VALUES (1, 'inbox', 'a', 'Zebra crossing opens', 'A new zebra crossing on Main Street', ?)",
        [t],
    )
    db.execute(
        "INSERT INTO hits(id, item_id, rule_id, rule_title, severity, source, created_at) "
        "VALUES (1, 1, 'zebra-crossing', 'Zebra crossings', 'high', 'inbox', ?)",
        [t],
    )
    db.execute(
        "INSERT INTO outbox(hit_id, channel, status, attempts, next_attempt_at, created_at, sent_at) "
        "VALUES (1, 'console', 'sent', 1, ?, ?, ?)",
        [t, t, t],
    )
    db.execute(
        "INSERT INTO outbox(hit_id, channel, status, attempts, next_attempt_at, last_error, created_at) "
        "VALUES (1, 'email', 'failed', 9, ?, 'SMTP 550', ?)",
        [t, t],
    )
    db.execute("INSERT INTO meta(key, value) VALUES ('note', '\"kept\"')")
    db.conn.commit()
    db.conn.close()


def test_upgrade_from_the_first_schema_version_keeps_data_and_applies_new_migrations(
    tmp_path: Path,
):
    cfg = daemon_config(tmp_path)
    config = load_config(cfg)
    config.db_path.parent.mkdir(parents=True)
    _m001_database(config.db_path)

    info = subprocess.run(
        monitor_cmd("--config", str(cfg), "db", "info", "--json"), capture_output=True, text=True
    )
    assert info.returncode == 0, info.stderr
    pending = json.loads(info.stdout)["migrations_pending"]
    assert pending == SCHEMA_VERSION_NAMES[1:] and pending

    with Store(config.db_path) as store:  # opening applies the pending migrations
        assert [m.name for m in migrations.applied(store.db)] == SCHEMA_VERSION_NAMES
        hit = store.get_hit(1)
        assert (
            hit is not None
            and hit.rule_id == "zebra-crossing"
            and hit.title == "Zebra crossing opens"
        )
        assert store.list_hits(search="zebra")[0].id == 1  # the full-text index survived
        assert store.source_row("inbox").last_error == "disk error"
        assert store.get_meta("note") == "kept"
        counts = store.outbox_counts()
        assert counts == {"sent": 1, "failed": 1}
        # the new status_at column was filled in for existing rows, and is kept up to date
        failed = store.failed_deliveries_since(utcnow() - timedelta(days=3650))
        assert [f["last_error"] for f in failed] == ["SMTP 550"]
        assert ts(failed[0]["failed_at"]) == "2026-01-05T10:00:00.000000+00:00"
        new = store.enqueue("console", "ops", {"title": "t", "text": "x"}, utcnow())
        store.mark_failed(new, "gone")
        assert [
            f["id"] for f in store.failed_deliveries_since(utcnow() - timedelta(minutes=1))
        ] == [new]
        assert store.db["hits"].exists() and "hits_item" in {
            i.name for i in store.db["hits"].indexes
        }

    # and the upgraded database works for the pipeline: a new item is matched and recorded
    (tmp_path / "inbox" / "b.txt").write_text("Roads\nAnother zebra crossing.\n")
    with Store(config.db_path) as store:
        report = run_source(Runtime.from_config(config), store, config.source("inbox"))
        assert report.ok and report.hits == 1
    migrate = subprocess.run(
        monitor_cmd("--config", str(cfg), "db", "migrate"), capture_output=True, text=True
    )
    assert migrate.returncode == 0 and "up to date" in migrate.stdout


def _old(store: Store, key: str, days: float, with_hit: bool) -> int:
    now = utcnow() - timedelta(days=days)
    from monitor.models import RuleMatch

    matches = (
        [
            RuleMatch(
                rule_id="zebra-crossing",
                rule_title="Zebra crossings",
                severity="high",
                terms=("zebra",),
                spans=((0, 5),),
                snippet="zebra",
                why="zebra",
            )
        ]
        if with_hit
        else []
    )
    record(
        store,
        Config(),
        [
            Entry(
                item=Item(source="inbox", key=key, title=f"{key} title", text=f"{key} zebra text"),
                matches=matches,
            )
        ],
        now=now,
    )
    return store.scalar("SELECT id FROM items WHERE key = ?", (key,))


def test_retention_prunes_old_items_but_keeps_hits_and_recent_items(tmp_path: Path):
    cfg = daemon_config(tmp_path, storage={"path": "data/monitor.db", "retention": "30d"})
    daemon = Daemon(cfg, Runtime.load(cfg))
    try:
        store = daemon.store
        old_plain = _old(store, "old-plain", 40, with_hit=False)
        old_hit = _old(store, "old-hit", 40, with_hit=True)
        recent = _old(store, "recent", 10, with_hit=False)
        assert daemon.prune() == 1
        ids = {r["id"] for r in store.query("SELECT id FROM items")}
        assert ids == {old_hit, recent} and old_plain not in ids
        assert store.get_hit(store.list_hits()[0].id).title == "old-hit title"
        assert [
            h.title for h in store.list_hits(search="plain")
        ] == []  # gone from the search index
        assert store.scalar("SELECT COUNT(*) FROM items_fts WHERE items_fts MATCH 'plain'") == 0
        assert store.get_meta("retention")["pruned"] == 1
        assert daemon.prune() == 0  # nothing more to do
    finally:
        daemon.store.close()


def test_db_prune_command_uses_the_configured_retention_or_the_option(tmp_path: Path):
    cfg = daemon_config(tmp_path, storage={"path": "data/monitor.db", "retention": "30d"})
    with Store(load_config(cfg).db_path) as store:
        _old(store, "a", 40, with_hit=False)
        _old(store, "b", 20, with_hit=False)
    done = subprocess.run(
        monitor_cmd("--config", str(cfg), "db", "prune"), capture_output=True, text=True
    )
    assert done.returncode == 0 and "pruned 1 item(s)" in done.stdout, done.stderr
    done = subprocess.run(
        monitor_cmd("--config", str(cfg), "db", "prune", "--older-than", "7d"),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "pruned 1 item(s)" in done.stdout, done.stderr
