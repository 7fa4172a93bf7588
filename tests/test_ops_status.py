"""`monitor status`: exit 0 when healthy, 1 when something needs attention; --json for machines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers_ops import daemon_config
from monitor.cli import cli
from monitor.config import load_config
from monitor.health import evaluate
from monitor.models import utcnow
from monitor.pipeline import Runtime, run_source
from monitor.sources.base import SourceState
from monitor.store import Store


@pytest.fixture
def setup(tmp_path: Path):
    cfg_path = daemon_config(tmp_path, scheduler={"failure_threshold": 3})
    config = load_config(cfg_path)
    store = Store(config.db_path)
    store.sync_sources(config.sources)
    now = utcnow()
    store.record_poll_success("inbox", SourceState(), now, now + timedelta(seconds=60), 2)
    yield cfg_path, config, store
    store.close()


def _status(cfg: Path, *args: str):
    result = CliRunner().invoke(cli, ["--config", str(cfg), "status", *args])
    return result.exit_code, result.output


def _beat(store: Store, now=None) -> None:
    now = now or utcnow()
    store.beat(now - timedelta(hours=1), now, 15.0, pid=os.getpid())


def test_healthy_when_the_daemon_beats_and_sources_are_read(setup):
    cfg, _, store = setup
    _beat(store)
    code, out = _status(cfg)
    assert code == 0, out
    assert "daemon      running" in out and "status: OK" in out
    code, out = _status(cfg, "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] is True and data["problems"] == []
    assert data["daemon"]["running"] is True and data["daemon"]["pid"] == os.getpid()
    assert [(s["name"], s["health"]) for s in data["sources"]] == [("inbox", "ok")]
    for key in ("outbox", "failed_deliveries", "hits_24h", "last_error", "reload"):
        assert key in data


def test_no_database_yet_needs_attention(tmp_path: Path):
    cfg = daemon_config(tmp_path)
    code, out = _status(cfg, "--json")
    assert code == 1
    assert "never run" in json.loads(out)["problems"][0]
    assert not (tmp_path / "data" / "monitor.db").exists(), "status must not create the database"


def test_daemon_not_running_stale_or_stopped(setup):
    cfg, config, store = setup
    code, out = _status(cfg)
    assert code == 1 and "never run on this database" in out
    store.beat(
        utcnow() - timedelta(hours=2), utcnow() - timedelta(minutes=5), 15.0, pid=os.getpid()
    )
    code, out = _status(cfg)
    assert code == 1 and "NOT RUNNING" in out and "the daemon is not running" in out
    _beat(store)
    store.mark_stopped(utcnow(), pid=os.getpid())
    code, out = _status(cfg)
    assert code == 1 and "the daemon stopped at" in out
    # when `monitor run --once` runs from cron, no daemon is expected
    code, out = _status(cfg, "--no-daemon")
    assert code == 0, out


def test_a_heartbeat_from_a_process_that_is_gone_is_not_running(setup):
    cfg, _, store = setup
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    store.beat(utcnow(), utcnow(), 15.0, pid=int(done.stdout))
    code, out = _status(cfg, "--json")
    assert code == 1 and json.loads(out)["daemon"]["state"] == "gone"


def test_failing_source_needs_attention_and_names_the_error(setup):
    cfg, config, store = setup
    _beat(store)
    now = utcnow()
    count = 0
    for _ in range(3):
        count = store.record_poll_failure(
            "inbox", "folder not found: inbox", now, now + timedelta(minutes=1)
        )
    store.set_source_failing("inbox", True)
    assert count == 3
    code, out = _status(cfg)
    assert code == 1
    assert "source inbox failed 3 times in a row: folder not found: inbox" in out
    assert "last error" in out and "folder not found" in out
    # one failure below the threshold is only "retrying"
    store.record_poll_success("inbox", SourceState(), now, now, 0)
    store.record_poll_failure("inbox", "timeout", now, now)
    code, out = _status(cfg, "--json")
    assert code == 0, out
    assert json.loads(out)["sources"][0]["health"] == "retrying"


def test_given_up_delivery_needs_attention_within_the_window_only(setup):
    cfg, config, store = setup
    now = utcnow()
    row = store.enqueue("console", "ops", {"title": "t", "text": "x"}, now)
    store.mark_failed(row, "SMTP 550 mailbox unavailable")
    _beat(store)
    code, out = _status(cfg)
    assert code == 1 and "given up on in the last 24h" in out and "SMTP 550" in out
    # two days later (with a fresh heartbeat then), the old failure no longer counts
    later = now + timedelta(days=2)
    _beat(store, later)
    health = evaluate(store, config, later)
    assert health.ok, health.problems
    assert health.failed_deliveries == []


def test_notifications_stuck_in_the_outbox_need_attention(setup):
    cfg, config, store = setup
    now = utcnow()
    store.enqueue("console", "ops", {"title": "t", "text": "x"}, now - timedelta(hours=1))
    _beat(store, now)
    health = evaluate(store, config, now)
    assert not health.ok
    assert any("due but not sent" in p for p in health.problems)
    assert health.outbox["due"] == 1


def test_refused_reload_needs_attention_until_a_good_one(setup):
    cfg, _, store = setup
    _beat(store)
    store.record_reload(utcnow(), False, ["rules/x.yaml:4:5: rule 'x': severity: bad"])
    code, out = _status(cfg)
    assert code == 1 and "REFUSED" in out and "rules/x.yaml:4:5" in out
    store.record_reload(utcnow(), True)
    code, out = _status(cfg)
    assert code == 0, out


def test_hits_in_the_last_day_are_counted(setup, tmp_path: Path):
    cfg, config, store = setup
    _beat(store)
    (tmp_path / "inbox" / "a.txt").write_text("Roads\nA zebra crossing opens.\n")
    report = run_source(Runtime.from_config(config), store, config.source("inbox"))
    assert report.hits == 1
    code, out = _status(cfg, "--json")
    assert json.loads(out)["hits_24h"] == 1
