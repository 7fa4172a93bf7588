"""The wall clock jumping forwards and backwards (NTP corrections, a VM resumed, a wrong
RTC fixed by hand): no duplicate polls, no duplicate alerts, no lost schedule.

The clock is injected where the project takes one (``run_source``, ``Dispatcher``,
``Daemon``); the servers are real."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.daemon import Daemon
from monitor.models import utcnow
from monitor.notify import Dispatcher
from monitor.pipeline import Runtime, open_store, recover, run_source
from reliability.helpers import Db, FeedServer, WebhookSink, daemon_config, rss, zebra_items

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


class JumpingClock:
    """Wall time plus an offset the test changes: the clock "jumps"."""

    def __init__(self, base: datetime | None = None) -> None:
        self.base = base  # a fixed time (pipeline tests) or None: the real time plus offset
        self.offset = timedelta(0)
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            return (self.base or utcnow()) + self.offset

    def jump(self, delta: timedelta) -> None:
        with self.lock:
            self.offset += delta


def _config(tmp_path: Path, feeds: FeedServer, webhook: WebhookSink, interval: str = "10m") -> Path:
    return daemon_config(
        tmp_path,
        sources=[
            {
                "name": "wire",
                "kind": "feed",
                "url": feeds.url("/wire.xml"),
                "interval": interval,
                "jitter": 0,
            }
        ],
        channels={"hook": {"urls": [webhook.url()]}},
        routes=[{"channels": ["hook"]}],
    )


def test_polls_and_sends_across_jumps_record_and_deliver_each_alert_once(
    tmp_path: Path, feeds, webhook
):
    cfg = _config(tmp_path, feeds, webhook)
    runtime = Runtime.load(cfg)
    source = runtime.config.source("wire")
    clock = JumpingClock(T0)
    store = open_store(runtime.config)
    try:
        recover(runtime, store)
        steps = [
            (timedelta(0), range(3)),
            (-DAY, range(4)),
            (2 * DAY, range(5)),
            (-3 * DAY, range(5)),
        ]
        for jump, numbers in steps:
            clock.jump(jump)
            feeds.set_feed("/wire.xml", rss(zebra_items("wire", numbers)))
            report = run_source(runtime, store, source, clock=clock)
            assert report.ok and report.next_poll_at == clock() + timedelta(minutes=10)
            row = store.source_row("wire")
            assert row.next_poll_at == report.next_poll_at  # the schedule follows the clock
            Dispatcher(runtime.config, store, clock=clock).run_once()
        assert [store.count_hits()] == [5]
        assert store.outbox_counts() == {"sent": 5}
    finally:
        store.close()
    assert webhook.tag_counts() == {f"wire-{i}": 1 for i in range(5)}


@pytest.mark.parametrize("jump", [DAY, -DAY], ids=["forwards", "backwards"])
def test_daemon_keeps_its_poll_interval_when_the_clock_jumps(tmp_path: Path, feeds, webhook, jump):
    """A source polled every second keeps being polled every second after the daemon's
    clock jumps a day: not a day later (lost schedule), not in a tight loop (duplicate polls)."""
    feeds.set_feed("/wire.xml", rss(zebra_items("wire", range(2))))
    cfg = _config(tmp_path, feeds, webhook, interval="1s")
    clock = JumpingClock()
    daemon = Daemon(cfg, Runtime.load(cfg), clock=clock)
    daemon.start()
    try:
        feeds.wait(lambda: feeds.requests["/wire.xml"] >= 2, timeout=10, what="two polls")
        clock.jump(jump)
        jumped = feeds.count("/wire.xml")
        feeds.wait(
            lambda: feeds.requests["/wire.xml"] >= jumped + 3,
            timeout=10,
            what="three polls after the jump",
        )
    finally:
        assert daemon.stop()
    times = feeds.times["/wire.xml"]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(g >= 0.8 for g in gaps), f"polled sooner than the 1 s interval: {gaps}"
    with Db(tmp_path / "data" / "monitor.db") as db:
        assert db.hit_tags() == {"wire-0": 1, "wire-1": 1}


def test_a_schedule_stored_under_a_clock_that_was_a_day_ahead_does_not_delay_the_next_start(
    tmp_path: Path, feeds, webhook
):
    """The clock was a day fast when the source was last polled, then corrected; at the
    next start the source is polled within its interval, not a day later."""
    feeds.set_feed("/wire.xml", rss(zebra_items("wire", range(1))))
    cfg = _config(tmp_path, feeds, webhook, interval="1s")
    runtime = Runtime.load(load_config(cfg).path)
    store = open_store(runtime.config)
    try:
        recover(runtime, store)
        run_source(runtime, store, runtime.config.source("wire"), clock=lambda: utcnow() + DAY)
        assert store.source_row("wire").next_poll_at > utcnow() + DAY - timedelta(minutes=1)
    finally:
        store.close()
    daemon = Daemon(cfg, runtime)
    daemon.start()
    try:
        feeds.wait(
            lambda: feeds.requests["/wire.xml"] >= 2, timeout=10, what="a poll after the start"
        )
    finally:
        assert daemon.stop()


def test_an_alert_due_before_the_clock_is_put_back_is_still_sent_at_once(
    tmp_path: Path, feeds, webhook
):
    cfg = _config(tmp_path, feeds, webhook)
    runtime = Runtime.load(cfg)
    clock = JumpingClock(T0)
    store = open_store(runtime.config)
    try:
        recover(runtime, store)
        feeds.set_feed("/wire.xml", rss(zebra_items("wire", range(2))))
        assert run_source(runtime, store, runtime.config.source("wire"), clock=clock).hits == 2
        clock.jump(-timedelta(hours=1))  # the clock was an hour fast; NTP puts it right
        assert Dispatcher(runtime.config, store, clock=clock).run_once().sent == 2
    finally:
        store.close()
    assert webhook.tag_counts() == {"wire-0": 1, "wire-1": 1}
