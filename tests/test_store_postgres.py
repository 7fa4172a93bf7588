"""PostgreSQL as the store: ``storage.url`` in config.yaml (checked, its password from the
environment and never shown), the ``monitor db`` commands, status and hits on it, the same
schema meaning as SQLite's, and full-text search through tsvector (Russian and English)."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest
from click.testing import CliRunner

from helpers_notify import T0, make_config, record_hit
from monitor.cli import cli
from monitor.config import load_config
from monitor.errors import ConfigError, StoreError
from monitor.store import PostgresStore, SqliteStore, Store, open_store

SECRET = "pw-Zq81-not-for-logs"


def _write(tmp_path, storage: str):
    path = tmp_path / "config.yaml"
    path.write_text(f"# a config\nstorage:\n{storage}\nrules:\n  paths: [rules]\n", "utf-8")
    (tmp_path / "rules").mkdir(exist_ok=True)
    return path


@pytest.mark.parametrize(
    "storage,words",
    [
        ("  url: postgresql://mon:hunter2@db/monitor", "the password is written out"),
        ("  url: mysql://mon@db/monitor", "not a PostgreSQL URL"),
        ("  url: postgresql://mon@db.example.org", "names no database"),
        (
            "  url: postgresql://mon:${MONITOR_TEST_UNSET}@db/monitor",
            "MONITOR_TEST_UNSET is not set",
        ),
        ("  url: postgresql://mon@db:port/monitor", "cannot read"),
        ("  path: x.db\n  url: postgresql://mon@db/monitor", "not both"),
    ],
)
def test_a_bad_storage_url_is_a_config_error_at_its_line(tmp_path, storage, words):
    path = _write(tmp_path, storage)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    line = 2 if words == "not both" else 3  # the section, or the url's own line
    assert words in text and f"{path}:{line}:" in text, text
    assert "hunter2" not in text


def test_the_url_selects_postgresql_and_the_password_comes_from_the_environment(
    pg_cluster, pg_scratch, tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("MONITOR_TEST_DB_PASSWORD", SECRET)
    user = pg_cluster.db_user
    url = f"postgresql://{user}:${{MONITOR_TEST_DB_PASSWORD}}@/{pg_scratch}?host={pg_cluster.socket_dir}"
    config = load_config(_write(tmp_path, f"  url: {url}"))
    assert config.storage.url == url  # kept as written: the expansion is made when opening
    assert SECRET in config.storage_url() and SECRET not in config.storage_label
    with open_store(config) as store:
        assert isinstance(store, PostgresStore) and isinstance(store, Store)
        assert SECRET not in store.location and "****" in store.location
        assert store.schema_info()["backend"] == "postgresql"
    missing = config.storage_url().replace(f"/{pg_scratch}?", "/no_such_db?")
    with pytest.raises(StoreError) as info:
        Store(missing)
    assert "no_such_db" in str(info.value) and SECRET not in str(info.value)
    assert SECRET not in caplog.text
    assert isinstance(Store(tmp_path / "m.db"), SqliteStore)  # a path is still SQLite


def test_db_commands_status_and_hits_work_on_postgresql(pg_cluster, pg_template, tmp_path):
    pg_cluster.sql('CREATE DATABASE "cli_fresh"')  # empty: no schema yet
    try:
        path = _write(tmp_path, f"  url: {pg_cluster.url('cli_fresh')}")
        run = CliRunner().invoke
        migrated = run(cli, ["--config", str(path), "db", "migrate"])
        assert migrated.exit_code == 0 and "applied: p001_initial" in migrated.output
        again = run(cli, ["--config", str(path), "db", "migrate"])
        assert again.exit_code == 0 and "the schema is up to date" in again.output
        info = run(cli, ["--config", str(path), "db", "info", "--json"])
        data = json.loads(info.output)
        assert data["backend"] == "postgresql" and data["migrations_pending"] == []
        assert [m["name"] for m in data["migrations_applied"]] == [
            "p001_initial",
            "p002_user_disabled",
            "p003_cluster",
        ]
        assert data["rows"] == {"sources": 0, "items": 0, "hits": 0, "outbox": 0}
        text = run(cli, ["--config", str(path), "db", "info"])
        assert "PostgreSQL 15" in text.output, text.output
        config = load_config(path)
        with open_store(config) as store:
            record_hit(store, make_config(tmp_path, {"console": {"type": "console"}}))
        hits = run(cli, ["--config", str(path), "hits", "--json"])
        assert hits.exit_code == 0 and [h["rule"] for h in json.loads(hits.output)] == [
            "detainees-release-return"
        ]
        status = run(cli, ["--config", str(path), "status", "--json", "--no-daemon"])
        report = json.loads(status.output)
        assert report["database"] == config.storage_label and report["outbox"]["pending"] == 1
        backup = run(cli, ["--config", str(path), "db", "backup", str(tmp_path / "b.db")])
        assert backup.exit_code == 2 and "pg_dump" in backup.output
    finally:
        pg_cluster.drop("cli_fresh")


def _sqlite_columns(store: SqliteStore) -> dict[str, set[str]]:
    tables = [
        r["name"]
        for r in store.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not r["name"].startswith(("items_fts", "_sqlite", "sqlite_"))
    ]
    return {t: {r["name"] for r in store.query(f"PRAGMA table_info([{t}])")} for t in tables}


def test_both_migration_histories_make_the_same_tables_and_columns(
    pg_cluster, pg_scratch, tmp_path
):
    with Store(tmp_path / "m.db") as lite, Store(pg_cluster.url(pg_scratch)) as pg:
        rows = pg.query(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'"
        )
        pg_columns: dict[str, set[str]] = {}
        for r in rows:
            pg_columns.setdefault(r["table_name"], set()).add(r["column_name"])
        assert pg_columns.pop("items") - _sqlite_columns(lite)["items"] == {"search"}
        sqlite_columns = _sqlite_columns(lite)
        sqlite_columns.pop("items")
        assert pg_columns == sqlite_columns


def test_russian_and_english_words_are_found_by_their_forms(backend, tmp_path):
    config = make_config(backend, {"console": {"type": "console"}})
    with open_store(config) as store:
        ru = record_hit(
            store,
            config,
            title="Баку передал задержанных россиян",
            text="Азербайджан освободил одиннадцать граждан России.",
        )
        en = record_hit(store, config, title="Rail transit resumes", text="Freight trains resumed.")
        assert [h.id for h in store.list_hits(search="россиян")] == [ru.id]
        assert [h.id for h in store.list_hits(search="задержан")] == [ru.id]  # a prefix
        assert [h.id for h in store.list_hits(search="freight -Баку")] == [en.id]
        assert store.count_hits(search="transit OR россиян") == 2
        assert store.list_hits(search='"transit rail"') == []  # a phrase keeps its order
    if backend.url:  # the stemmed forms are PostgreSQL's own: россиянам → россиян
        with open_store(config) as store:
            assert [h.id for h in store.list_hits(search="россиянам")] == [ru.id]
            assert [h.id for h in store.list_hits(search="trains")] == [en.id]


def test_the_unit_of_work_sees_its_own_writes_and_a_failed_one_leaves_nothing(backend, tmp_path):
    config = make_config(backend, {"console": {"type": "console"}})
    with open_store(config) as store:
        with pytest.raises(StoreError), store.transaction() as c:
            c.execute(
                "INSERT INTO silences(rule_id, expires_at, created_at) VALUES (?, ?, ?)",
                ("r", "2026-12-01T00:00:00.000000+00:00", "2026-11-20T00:00:00.000000+00:00"),
            )
            assert store.scalar("SELECT COUNT(*) FROM silences") == 1  # inside: seen
            c.execute("INSERT INTO no_such_table VALUES (1)")
        assert store.list_silences() == []  # rolled back whole
        sid = store.add_silence(
            rule_id="r", source=None, expires_at=T0 + timedelta(days=1), comment="", now=T0
        )
        (s,) = store.list_silences(T0)
        assert s.id == sid and s.expires_at == T0 + timedelta(days=1) and s.created_at == T0
        (row,) = store.query("SELECT expires_at FROM silences")
        assert row["expires_at"] == "2026-11-21T09:00:00.000000+00:00"  # the same text on both


def test_sqlite_is_untouched_by_the_second_backend(tmp_path):
    with Store(tmp_path / "m.db") as store:
        assert isinstance(store.conn, sqlite3.Connection)
        assert store.scalar("PRAGMA journal_mode") == "wal"
        assert store.schema_info()["backend"] == "sqlite"
