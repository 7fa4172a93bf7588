"""`monitor db copy --to postgresql://…`: the SQLite hit log (320 hits, with notes, a
silence, an account, outbox rows) moved into a real throwaway PostgreSQL database, verified
table by table; a target that holds data is refused unless --force; a daemon running on the
SQLite file is refused; a copy that does not verify leaves the target as it was."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.dbfiles import InstanceLock
from monitor.models import utcnow
from monitor.store import Store
from monitor.store.copy import TABLES

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def source(hits_db):
    """The hit log, with a little of everything else a database holds."""
    with Store(hits_db.path) as store:
        now = utcnow()
        hit = store.list_hits()[0]
        store.add_note(hit.id, "checked with the desk", by="ana", now=now)
        store.add_silence(
            rule_id=hit.rule_id,
            source=None,
            expires_at=now + timedelta(days=1),
            comment="",
            now=now,
            created_by="ana",
        )
        store.enqueue("ops", "ops", {"title": "T", "text": "ü ✓"}, now)
        store.beat(now, now, 15.0)
    return hits_db


@pytest.fixture
def target(pg_cluster):
    name = f"copy_{uuid.uuid4().hex[:8]}"
    url = pg_cluster.createdb(name)  # an empty database: no schema yet
    yield url
    pg_cluster.drop(name)


def _copy(cfg, url: str, *args: str):
    result = CliRunner().invoke(cli, ["--config", str(cfg), "db", "copy", "--to", url, *args])
    return result.exit_code, result.output


def _counts(url_or_path) -> dict[str, int]:
    with Store(url_or_path) as store:
        return {t: int(store.scalar(f"SELECT COUNT(*) FROM {t}")) for t in TABLES}


def test_copy_moves_every_table_verified_and_the_copy_works_as_a_store(source, target):
    before = _counts(source.path)
    assert before["hits"] == 320 and before["hit_notes"] >= 1 and before["silences"] >= 1
    code, out = _copy(source.config_path, target, "--json")
    assert code == 0, out
    report = json.loads(out)
    assert {t["name"]: t["rows"] for t in report["tables"]} == before
    assert all(len(t["checksum"]) == 64 for t in report["tables"])
    assert report["rows"] == sum(before.values()) and report["emptied"] == {}
    assert _counts(target) == before
    with Store(source.path) as old, Store(target) as new:
        a, b = old.list_hits(limit=500), new.list_hits(limit=500)
        assert [h.id for h in a] == [h.id for h in b] and a == b
        assert old.get_hit(a[0].id) == new.get_hit(a[0].id)
        # the search works on the copy (its tsvector is built from the copied rows)
        word = a[0].title.split()[0]
        assert new.count_hits(search=word) == old.count_hits(search=word) > 0
        # and new rows get new ids, after the copied ones
        row = new.enqueue("ops", "ops", {"title": "after", "text": "x"}, utcnow())
        assert row > max(r["id"] for r in old.query("SELECT id FROM outbox"))


def test_a_target_that_holds_data_is_refused_unless_forced(source, target):
    assert _copy(source.config_path, target)[0] == 0
    counts = _counts(target)
    code, out = _copy(source.config_path, target)
    assert code != 0
    assert "the target database is not empty" in out and "--force" in out
    assert "Traceback" not in out
    assert _counts(target) == counts  # untouched
    code, out = _copy(source.config_path, target, "--force")
    assert code == 0, out
    assert "emptied" in out and "every table verified" in out
    assert _counts(target) == counts  # the same rows once, not twice


def test_the_copy_is_refused_while_a_daemon_runs_on_the_sqlite_file(source, target):
    lock = InstanceLock(source.path)
    assert lock.acquire("daemon")
    try:
        code, out = _copy(source.config_path, target)
    finally:
        lock.release()
    assert code != 0 and "is running on" in out and "stop it first" in out
    with psycopg.connect(target) as conn:  # nothing was even created there
        assert conn.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'hits'"
        ).fetchone() == (0,)


def test_a_copy_that_does_not_verify_leaves_the_target_as_it_was(source, target):
    Store(target).close()  # the schema
    with psycopg.connect(target, autocommit=True) as conn:  # a target that alters what it gets
        conn.execute(
            """CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN NEW.title := upper(NEW.title); RETURN NEW; END $$"""
        )
        conn.execute(
            "CREATE TRIGGER shout BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION shout()"
        )
    code, out = _copy(source.config_path, target)
    assert code != 0
    assert "table items did not verify" in out and "different contents" in out
    assert _counts(target) == {t: 0 for t in TABLES}  # rolled back, every table


def test_a_password_written_in_the_url_is_refused(source, target):
    code, out = _copy(source.config_path, target.replace("postgres@", "postgres:secret@"))
    assert code != 0 and "take it from the environment" in out and "secret" not in out
