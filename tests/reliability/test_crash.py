"""The daemon killed with SIGKILL at each step of the way, then restarted: no hit lost, the
database intact, and a duplicate alert only for a row that was in flight at the kill
(the documented window: sent, but the process died before recording it).

Each kill lands at a known step without any hook in the product: the test's own servers
and its own connection to the database hold the daemon exactly where the step is.

    after a fetch          the feed answered in full, but the test holds the database's
                           write lock: the poll is stuck before it can record anything
    after hits are written the dispatcher is stuck sending an earlier alert (the webhook
                           holds it), while a second source's hits are committed, pending
    during a send          the webhook holds the request, then refuses it: not delivered
    after a send           the webhook accepts the message and, before answering, takes
                           the write lock: the dispatcher cannot record "sent"
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

from helpers_ops import MonitorProcess
from reliability.helpers import (
    Db,
    FeedServer,
    WebhookSink,
    blocked_on_lock,
    daemon_config,
    respond,
    rss,
    tags_in,
    wait_until,
    zebra_items,
)

QUIET = {
    "heartbeat": "60s",
    "watch_interval": "60s",
    "stop_timeout": "5s",
}  # after start, only polls and sends write


def _config(tmp_path: Path, feeds: FeedServer, webhook: WebhookSink, sources: list[str]) -> Path:
    return daemon_config(
        tmp_path,
        sources=[
            {"name": s, "kind": "feed", "url": feeds.url(f"/{s}.xml"), "interval": "1h"}
            for s in sources
        ],
        channels={"hook": {"urls": [webhook.url()]}},
        routes=[{"channels": ["hook"]}],
        daemon=QUIET,
    )


def _kill(mon: MonitorProcess) -> None:
    mon.proc.kill()
    assert mon.proc.wait(timeout=10) == -9


def _restart_and_drain(tmp_path: Path, cfg: Path, expected: set[str]) -> Counter[str]:
    """Start the daemon again with every server behaving; wait until the outbox is drained;
    check the database. Returns how many times the webhook has received each alert."""
    db_path = tmp_path / "data" / "monitor.db"
    with Db(db_path) as db:
        assert db.integrity() == "ok"
    with MonitorProcess(tmp_path, cfg) as mon:
        mon.wait_for("monitor running")
        with Db(db_path) as db:
            wait_until(lambda: db.outbox() == {"sent": len(expected)}, 30, what="every alert sent")
            assert mon.stop() == 0
            assert db.hit_tags() == dict.fromkeys(expected, 1)  # every hit recorded, once
            assert db.integrity() == "ok"


def _check(received: Counter[str], expected: set[str], window: set[str]) -> None:
    """Every alert delivered; more than once only if it was in flight at the kill."""
    assert set(received) == expected, (received, expected)
    duplicated = {t for t, n in received.items() if n > 1}
    assert duplicated <= window, (duplicated, window)
    assert all(n <= 2 for n in received.values()), received


def test_kill_after_a_fetch_before_anything_is_recorded(
    tmp_path: Path, feeds: FeedServer, webhook: WebhookSink
):
    db_path = tmp_path / "data" / "monitor.db"
    go, served = threading.Event(), threading.Event()
    body = rss(zebra_items("wire", range(4)))

    def feed(h) -> None:
        go.wait(20)
        respond(h, 200, body)
        served.set()

    feeds.set_handler("/wire.xml", feed)
    cfg = _config(tmp_path, feeds, webhook, ["wire"])
    with MonitorProcess(tmp_path, cfg) as mon:
        mon.wait_for("monitor running")
        feeds.wait(lambda: feeds.requests["/wire.xml"] == 1, what="the first poll")
        db = Db(db_path)
        try:
            wait_until(
                lambda: db.scalar("SELECT value FROM meta WHERE key = 'daemon'"),
                10,
                what="the first heartbeat",
            )
            db.hold_write_lock()
            go.set()
            assert served.wait(10)
            wait_until(lambda: blocked_on_lock(mon.proc.pid), 10, what="the poll waiting to record")
            assert db.count("items") == 0 and db.count("hits") == 0
            _kill(mon)
        finally:
            db.close()  # rolls back: the lock is gone with the daemon that wanted it
    feeds.set_feed("/wire.xml", body)
    expected = {f"wire-{i}" for i in range(4)}
    _restart_and_drain(tmp_path, cfg, expected)
    assert feeds.count("/wire.xml") == 2  # polled again after the restart, since nothing was kept
    _check(webhook.tag_counts(), expected, window=set())
    assert webhook.tag_counts() == dict.fromkeys(expected, 1)


def test_kill_after_hits_are_written_and_during_an_earlier_send(
    tmp_path: Path, feeds: FeedServer, webhook: WebhookSink
):
    """``first``'s alert is held by the webhook (in flight); ``second``'s hits are committed
    meanwhile and wait, pending, behind it. Kill: no hit is lost, and only the alert in
    flight may arrive twice."""
    db_path = tmp_path / "data" / "monitor.db"
    holding, hold = threading.Event(), threading.Event()

    def gate(payload: dict[str, Any]) -> int:
        if tags_in(payload.get("title", ""))[:1] == ["first-0"] and not hold.is_set():
            holding.set()
            hold.wait(20)  # released after the kill: the receiver did get this message
        return 200

    webhook.gate = gate
    second_go = threading.Event()
    second_body = rss(zebra_items("second", range(3)))

    def second(h) -> None:
        second_go.wait(20)
        respond(h, 200, second_body)

    feeds.set_feed("/first.xml", rss(zebra_items("first", range(1))))
    feeds.set_handler("/second.xml", second)
    cfg = _config(tmp_path, feeds, webhook, ["first", "second"])
    with MonitorProcess(tmp_path, cfg) as mon:
        mon.wait_for("monitor running")
        assert holding.wait(20), "the first alert never reached the webhook"
        second_go.set()
        db = Db(db_path)
        try:
            wait_until(lambda: db.count("hits", "source = 'second'") == 3, 20, what="second's hits")
            assert db.outbox_tags("inflight") == {"first-0"}
            assert db.outbox_tags("pending") == {"second-0", "second-1", "second-2"}
            assert db.count("outbox", "status = 'sent'") == 0
            _kill(mon)
        finally:
            db.close()
    hold.set()
    webhook.wait(
        lambda: any(t == "first-0" for t, _ in webhook.answered), what="the held request answered"
    )
    feeds.set_feed("/second.xml", second_body)
    expected = {"first-0", "second-0", "second-1", "second-2"}
    _restart_and_drain(tmp_path, cfg, expected)
    received = webhook.tag_counts()
    _check(received, expected, window={"first-0"})
    assert received == {"first-0": 2, "second-0": 1, "second-1": 1, "second-2": 1}


def test_kill_during_a_send_that_is_never_accepted(
    tmp_path: Path, feeds: FeedServer, webhook: WebhookSink
):
    db_path = tmp_path / "data" / "monitor.db"
    holding, hold = threading.Event(), threading.Event()

    def gate(payload: dict[str, Any]) -> int:
        if not hold.is_set():
            holding.set()
            hold.wait(20)
            return 503  # the receiver refuses it: not delivered
        return 200

    webhook.gate = gate
    feeds.set_feed("/wire.xml", rss(zebra_items("wire", range(3))))
    cfg = _config(tmp_path, feeds, webhook, ["wire"])
    with MonitorProcess(tmp_path, cfg) as mon:
        mon.wait_for("monitor running")
        assert holding.wait(20)
        with Db(db_path) as db:
            assert db.outbox() == {"inflight": 1, "pending": 2}
        _kill(mon)
    hold.set()
    webhook.wait(lambda: len(webhook.answered) == 1, what="the held request refused")
    expected = {f"wire-{i}" for i in range(3)}
    _restart_and_drain(tmp_path, cfg, expected)
    assert webhook.tag_counts() == dict.fromkeys(expected, 1)


def test_kill_after_a_send_before_it_is_recorded(
    tmp_path: Path, feeds: FeedServer, webhook: WebhookSink
):
    db_path = tmp_path / "data" / "monitor.db"
    feeds.set_feed("/wire.xml", rss(zebra_items("wire", range(3))))
    cfg = _config(tmp_path, feeds, webhook, ["wire"])
    locker: dict[str, Db] = {}
    accepted = threading.Event()

    def gate(payload: dict[str, Any]) -> int:
        if not accepted.is_set():
            db = locker["db"] = Db(db_path)
            db.hold_write_lock()  # before the answer: the daemon cannot record "sent"
            accepted.set()
        return 200

    webhook.gate = gate
    with MonitorProcess(tmp_path, cfg) as mon:
        mon.wait_for("monitor running")
        assert accepted.wait(20)
        db = locker["db"]
        try:
            wait_until(
                lambda: blocked_on_lock(mon.proc.pid), 10, what="the dispatcher waiting to record"
            )
            inflight = db.outbox_tags("inflight")
            assert len(inflight) == 1 and db.count("outbox", "status = 'sent'") == 0
            assert set(webhook.tag_counts()) == inflight  # delivered, not recorded
            _kill(mon)
        finally:
            db.close()
    expected = {f"wire-{i}" for i in range(3)}
    _restart_and_drain(tmp_path, cfg, expected)
    received = webhook.tag_counts()
    _check(received, expected, window=inflight)
    (dup,) = inflight
    assert received == {t: 2 if t == dup else 1 for t in expected}  # the documented window, exactly
    # ...and the receiver can drop the copy: both carry the first one's Idempotency-Key
    assert webhook.unkeyed_copies() == 0
    keys = [k for p, k in zip(webhook.received, webhook.keys) if dup in tags_in(p.get("title", ""))]
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0].startswith("sm-")
