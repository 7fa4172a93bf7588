"""Delivery under a failing channel, end to end through a running daemon: every alert
arrives exactly once however many dispatch rounds the channel refuses."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from werkzeug import Request, Response

from conftest import free_port, monitor_cmd
from helpers_notify import ScriptedSmtp
from helpers_ops import MonitorProcess
from monitor.daemon import Daemon
from monitor.pipeline import Runtime
from reliability.helpers import Db, daemon_config, rss, tags_in, wait_until, zebra_items

N = 5


def test_smtp_down_for_several_rounds_then_up_delivers_every_alert_exactly_once(
    tmp_path: Path, feeds
):
    feeds.set_feed(
        "/wire.xml",
        rss(zebra_items("wire", range(N)) + zebra_items("wire", range(N, N + 3), match=False)),
    )
    port = free_port()  # nothing listens here yet: every connection is refused
    smtp = ScriptedSmtp(port=port)
    cfg = daemon_config(
        tmp_path,
        sources=[{"name": "wire", "kind": "feed", "url": feeds.url("/wire.xml"), "interval": "1h"}],
        channels={"email": {"urls": [smtp.url()]}},
        routes=[{"channels": ["email"]}],
    )
    db_path = tmp_path / "data" / "monitor.db"
    with MonitorProcess(tmp_path, cfg) as mon:
        mon.wait_for("monitor running")
        db = Db(db_path)
        # at least three refused rounds for every alert, seen in the database itself
        wait_until(
            lambda: db.count("outbox", "kind = 'hit' AND attempts >= 3") == N,
            30,
            what="3 failed attempts each",
        )
        assert db.count("outbox", "status = 'sent'") == 0 and db.count("hits") == N
        assert any("cannot reach the SMTP server" in m for m in mon.messages())
        smtp.start()
        try:
            wait_until(lambda: db.outbox() == {"sent": N}, 30, what="every alert sent")
            assert mon.stop() == 0
            # a fresh process recovers and drains the outbox: nothing is due, nothing sent again
            again = subprocess.run(
                monitor_cmd("--config", str(cfg), "run", "--once"),
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert again.returncode == 0, again.stderr
            subjects = [m["Subject"] for m in smtp.messages]
            assert Counter(t for s in subjects for t in tags_in(s)) == {
                f"wire-{i}": 1 for i in range(N)
            }
            assert db.count("hits") == N and db.outbox() == {"sent": N}
            assert db.integrity() == "ok"
        finally:
            smtp.stop()
            db.close()


HOOK = "/services/T0AAAA/B0BBBB/cccccccccccccccccccc"


class SlackScript:
    """Answers each alert's first post 429 (Retry-After: 1), its second 500, then 200 ok."""

    def __init__(self) -> None:
        self.posts: dict[str, list[tuple[float, int]]] = {}
        self.cond = threading.Condition()

    def __call__(self, request: Request) -> Response:
        tag = tags_in(json.loads(request.get_data())["text"])[0]
        with self.cond:
            tries = self.posts.setdefault(tag, [])
            status = (429, 500, 200)[min(len(tries), 2)]
            tries.append((time.monotonic(), status))
            self.cond.notify_all()
        if status == 429:
            return Response("rate_limited", status=429, headers={"Retry-After": "1"})
        return Response("ok" if status == 200 else "server_error", status=status)

    def done(self, n: int) -> bool:
        return sum(1 for t in self.posts.values() if any(s == 200 for _, s in t)) >= n


@pytest.fixture
def slack(httpserver):
    script = SlackScript()
    httpserver.expect_request(HOOK, method="POST").respond_with_handler(script)
    script.base = httpserver.url_for("/services")
    return script


def test_slack_429_retry_after_then_500_then_ok_gives_one_message_per_alert(
    tmp_path: Path, feeds, slack
):
    feeds.set_feed("/wire.xml", rss(zebra_items("wire", range(3))))
    cfg = daemon_config(
        tmp_path,
        sources=[{"name": "wire", "kind": "feed", "url": feeds.url("/wire.xml"), "interval": "1h"}],
        channels={
            "slack": {
                "urls": ["slack://T0AAAA/B0BBBB/cccccccccccccccccccc"],
                "format": "markdown",
                "base_url": slack.base,
            }
        },
        routes=[{"channels": ["slack"]}],
    )
    daemon = Daemon(
        cfg, Runtime.load(cfg)
    )  # in this process: the webhook base is a class attribute
    daemon.start()
    try:
        with slack.cond:
            assert slack.cond.wait_for(lambda: slack.done(3), 30), slack.posts
    finally:
        assert daemon.stop()
    assert sorted(slack.posts) == ["wire-0", "wire-1", "wire-2"]
    for tag, tries in slack.posts.items():
        assert [s for _, s in tries] == [429, 500, 200], (tag, tries)
        assert tries[1][0] - tries[0][0] >= 1.0, f"{tag}: retried before Retry-After allowed"
    with Db(tmp_path / "data" / "monitor.db") as db:
        assert db.outbox() == {"sent": 3}
        assert (
            db.scalar("SELECT MIN(attempts) FROM outbox")
            == db.scalar("SELECT MAX(attempts) FROM outbox")
            == 3
        )
