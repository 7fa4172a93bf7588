"""Clean stop: SIGTERM lets a running poll finish (within daemon.stop_timeout) and leaves
no half-written state; a poll that overruns the bound is abandoned, never half-recorded."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug import Request, Response

from conftest import monitor_cmd
from helpers_ops import MonitorProcess, daemon_config
from monitor.config import load_config

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Town wire</title><link>https://wire.example.org/</link>
<description>test</description>
<item><guid>w-1</guid><title>New zebra crossing on Main Street</title>
<link>https://wire.example.org/zebra</link><description>The council painted a zebra crossing.</description></item>
<item><guid>w-2</guid><title>Library opens late on Thursdays</title>
<link>https://wire.example.org/library</link><description>Opening hours change.</description></item>
</channel></rss>"""


class SlowFeed:
    """A feed that answers only when the test says so."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.release = threading.Event()

    def __call__(self, request: Request) -> Response:
        self.requested.set()
        self.release.wait(30)
        return Response(RSS, content_type="application/rss+xml")


def _config(tmp_path: Path, httpserver, stop_timeout: str) -> Path:
    return daemon_config(
        tmp_path,
        sources=[
            {
                "name": "wire",
                "kind": "feed",
                "url": httpserver.url_for("/feed.xml"),
                "interval": "1h",
            }
        ],
        http={"allow_private_networks": True, "timeout": "25s"},
        daemon={"watch_interval": "1s", "heartbeat": "1s", "stop_timeout": stop_timeout},
    )


def _status(cfg: Path) -> tuple[int, dict]:
    done = subprocess.run(
        monitor_cmd("--config", str(cfg), "status", "--json"), capture_output=True, text=True
    )
    return done.returncode, json.loads(done.stdout)


@pytest.mark.slow
def test_sigterm_waits_for_the_running_poll_and_records_it_whole(tmp_path: Path, httpserver):
    feed = SlowFeed()
    httpserver.expect_request("/feed.xml").respond_with_handler(feed)
    cfg = _config(tmp_path, httpserver, "20s")
    try:
        with MonitorProcess(tmp_path, cfg) as mon:
            mon.wait_for("monitor running")
            assert feed.requested.wait(20), "the poll never started"
            code, status = _status(cfg)  # running, heartbeat fresh: healthy
            assert code == 0 and status["daemon"]["running"] is True, status
            at = mon.mark()
            mon.signal(15)
            waiting = mon.wait_for("stopping: waiting up to", since=at)
            assert "poll wire" in waiting["message"]
            feed.release.set()  # the poll may finish now
            assert mon.proc.wait(timeout=20) == 0
            mon.wait_for("stopped", since=at)
            assert any(m.startswith("hit #") and "zebra-crossing" in m for m in mon.messages(at))
    finally:
        feed.release.set()
    db = sqlite3.connect(load_config(cfg).db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT COUNT(*) FROM items WHERE source = 'wire'").fetchone()[0] == 2
    assert db.execute("SELECT rule_id FROM hits").fetchall() == [("zebra-crossing",)]
    assert (
        db.execute(
            "SELECT last_success_at IS NOT NULL FROM sources WHERE name = 'wire'"
        ).fetchone()[0]
        == 1
    )
    db.close()
    code, status = _status(cfg)
    assert code == 1 and status["daemon"]["state"] == "stopped"


@pytest.mark.slow
def test_a_poll_that_overruns_the_stop_bound_is_abandoned_not_half_written(
    tmp_path: Path, httpserver
):
    feed = SlowFeed()
    httpserver.expect_request("/feed.xml").respond_with_handler(feed)
    cfg = _config(tmp_path, httpserver, "1s")
    try:
        with MonitorProcess(tmp_path, cfg) as mon:
            mon.wait_for("monitor running")
            assert feed.requested.wait(20)
            at = mon.mark()
            mon.signal(15)
            assert mon.proc.wait(timeout=15) == 0  # bounded: well before the feed would answer
            assert not feed.release.is_set()
            left = mon.wait_for("still running after", since=at)
            assert "poll wire" in left["message"]
    finally:
        feed.release.set()
    db = sqlite3.connect(load_config(cfg).db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 0  # nothing of the cut poll
    assert db.execute("SELECT COUNT(*) FROM hits").fetchone()[0] == 0
    db.close()
    code, status = _status(cfg)
    assert code == 1 and status["daemon"]["state"] == "stopped"
