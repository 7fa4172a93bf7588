"""One database, one daemon (issue 13, items 3 and 4): `db backup` never replaces the
database's own files; a second daemon on the same database is refused, while `run --once`
and the CLI keep working beside the running one and leave its in-flight alerts alone."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import monitor_cmd
from helpers_ops import MonitorProcess, daemon_config
from monitor.config import load_config
from monitor.daemon import Daemon
from monitor.dbfiles import AlreadyRunning, InstanceLock, database_files, is_database_file
from monitor.models import utcnow
from monitor.pipeline import Runtime
from monitor.store import Store


def _cli(cfg: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        monitor_cmd("--config", str(cfg), *args),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cfg.parent,
    )


def _hits(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute("SELECT COUNT(*) FROM hits").fetchone()[0]
    finally:
        conn.close()


def _with_a_hit(tmp_path: Path) -> tuple[Path, Path]:
    cfg = daemon_config(tmp_path)
    (tmp_path / "inbox" / "a.txt").write_text("Roads\nA zebra crossing opened.\n", encoding="utf-8")
    done = _cli(cfg, "run", "--once")
    assert done.returncode == 0, done.stderr
    db = load_config(cfg).db_path
    assert _hits(db) == 1
    return cfg, db


def test_backup_refuses_the_database_and_its_companions_even_with_force(tmp_path: Path):
    cfg, db = _with_a_hit(tmp_path)
    holder = Store(db)  # an open connection keeps -wal and -shm in place, as a running daemon does
    try:
        assert db.with_name(db.name + "-wal").exists() and db.with_name(db.name + "-shm").exists()
        (tmp_path / "wal-link").symlink_to(db.with_name(db.name + "-wal"))
        os.link(db, tmp_path / "hard-link.db")
        targets = [str(p) for p in database_files(db)] + [
            str(tmp_path / "wal-link"),
            str(tmp_path / "hard-link.db"),
            str(db.parent / ".." / db.parent.name / (db.name + "-wal")),  # another spelling
            os.path.relpath(db.with_name(db.name + "-shm"), tmp_path),  # relative to the cwd
        ]
        for target in targets:
            done = _cli(cfg, "db", "backup", "--force", target)
            assert done.returncode == 2, (target, done.stdout, done.stderr)
            assert "one of its own files" in done.stderr, done.stderr
            assert _hits(db) == 1, target
    finally:
        holder.close()
    ok = _cli(cfg, "db", "backup", str(tmp_path / "copy.db"))
    assert ok.returncode == 0, ok.stderr
    assert _hits(tmp_path / "copy.db") == 1


def test_is_database_file_by_path_link_and_inode(tmp_path: Path):
    db = tmp_path / "data" / "monitor.db"
    db.parent.mkdir()
    db.write_bytes(b"")
    assert is_database_file(db.parent / "monitor.db-journal", db)  # need not exist
    assert is_database_file(tmp_path / "data" / "." / "monitor.db.lock", db)
    assert not is_database_file(tmp_path / "data" / "monitor.db-wal.bak", db)
    assert not is_database_file(tmp_path / "other.db", db)


def test_the_lock_is_exclusive_across_objects_and_released_with_them(tmp_path: Path):
    db = tmp_path / "monitor.db"
    first, second = InstanceLock(db), InstanceLock(db)
    assert first.acquire("daemon") and first.held
    assert not second.acquire("daemon")
    assert second.holder()["pid"] == os.getpid()
    assert "already running" in str(second.refusal())
    first.release()
    assert second.acquire("daemon")
    del second  # dropped without release: the kernel lock goes with the file
    assert InstanceLock(db).acquire()


@pytest.mark.slow
def test_a_second_daemon_is_refused_and_run_once_works_beside_the_first(tmp_path: Path):
    cfg = daemon_config(tmp_path)
    db = load_config(cfg).db_path
    with MonitorProcess(tmp_path, cfg) as first:
        first.wait_for("monitor running")
        # a second daemon on the same database: refused at once, with a clear message
        second = subprocess.run(
            monitor_cmd("--config", str(cfg), "run"),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert second.returncode == 1, second.stderr
        assert (
            "another monitor daemon" in second.stderr and f"pid {first.proc.pid}" in second.stderr
        )
        assert "Traceback" not in second.stderr

        # an alert the running daemon has in flight (as if mid-send): run --once leaves it alone
        with Store(db) as store:
            row = store.enqueue("console", "ops", {"title": "T", "text": "in flight"}, utcnow())
            assert store.mark_inflight(row, utcnow())
        (tmp_path / "inbox" / "b.txt").write_text(
            "Roads\nAnother zebra crossing.\n", encoding="utf-8"
        )
        once = _cli(cfg, "run", "--once")
        assert once.returncode == 0, once.stderr
        with Store(db) as store:
            assert store.outbox_row(row).status == "inflight"  # not taken for a crash's leftover
        status = _cli(cfg, "status", "--json")
        assert status.returncode in (0, 1) and '"running": true' in status.stdout

        # SIGKILL: the kernel drops the lock, and a new daemon starts
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=30)
    with MonitorProcess(tmp_path, cfg) as again:
        again.wait_for("monitor running")
        again.wait_for("were in flight")  # the killed daemon's row is this one's to resend
        assert again.stop() == 0


def test_without_a_daemon_run_once_recovers_rows_left_in_flight(tmp_path: Path):
    cfg = daemon_config(tmp_path)
    with Store(load_config(cfg).db_path) as store:
        row = store.enqueue("console", "ops", {"title": "T", "text": "left by a crash"}, utcnow())
        assert store.mark_inflight(row, utcnow())
    done = _cli(cfg, "run", "--once")
    assert done.returncode == 0, done.stderr
    with Store(load_config(cfg).db_path) as store:
        assert store.outbox_row(row).status == "sent"


def test_a_daemon_starting_during_run_once_waits_for_it(tmp_path: Path):
    cfg = daemon_config(tmp_path)
    once = InstanceLock(load_config(cfg).db_path)
    assert once.acquire("once")
    daemon = Daemon(cfg, Runtime.load(cfg))
    took = threading.Event()
    errors: list[BaseException] = []

    def take():
        try:
            daemon.take_lock()
            took.set()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    try:
        t = threading.Thread(target=take, daemon=True)
        t.start()
        time.sleep(0.5)
        assert not took.is_set() and not errors
        once.release()
        assert took.wait(5) and daemon.lock.held
        other = Daemon(cfg, Runtime.load(cfg))
        with pytest.raises(AlreadyRunning):
            other.take_lock()  # a daemon holds it: refused at once, no waiting
        other.store.close()
    finally:
        daemon.lock.release()
        daemon.store.close()
