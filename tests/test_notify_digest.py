"""Digest routes: one message per period with every hit of it, most severe first, nothing twice."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from helpers_notify import Clock, ScriptedSmtp, make_config, parts, record_hit
from monitor.config import DigestConfig
from monitor.notify import Dispatcher
from monitor.notify.digest import period_end, period_start
from monitor.store import open_store

MSK = ZoneInfo("Europe/Moscow")


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=MSK).astimezone(timezone.utc)


def test_period_end_daily_in_a_timezone_and_every():
    daily = DigestConfig(daily="08:00", timezone="Europe/Moscow")
    assert period_end(daily, at(20, 7, 59)) == at(20, 8)
    assert period_end(daily, at(20, 8, 0)) == at(
        21, 8
    )  # a hit at the boundary opens the next period
    assert period_end(daily, at(20, 23, 30)) == at(21, 8)
    assert period_start(daily, at(21, 8)) == at(20, 8)
    every = DigestConfig(every="6h")
    assert period_end(every, datetime(2026, 11, 20, 5, 59, tzinfo=timezone.utc)) == datetime(
        2026, 11, 20, 6, tzinfo=timezone.utc
    )
    assert period_end(every, datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)) == datetime(
        2026, 11, 20, 12, tzinfo=timezone.utc
    )


def test_daily_digest_holds_every_hit_of_its_period_and_nothing_twice(backend, tmp_path):
    smtp = ScriptedSmtp().start()
    try:
        config = make_config(
            backend,
            {"email": {"urls": [smtp.url()], "format": "html"}},
            [
                {
                    "name": "morning",
                    "channels": ["email"],
                    "digest": {"daily": "08:00", "timezone": "Europe/Moscow"},
                }
            ],
        )
        store = open_store(config)
        # period 1: 19 Nov 08:00 → 20 Nov 08:00 (Moscow)
        low = record_hit(
            store, config, when=at(19, 9), severity="low", title="Transit talks resume"
        )
        crit = record_hit(
            store, config, when=at(19, 22), severity="critical", title="Eleven Russians handed over"
        )
        med = record_hit(
            store, config, when=at(20, 7, 59), severity="medium", title="Baku hints at a release"
        )
        # period 2 starts at 08:00
        late = record_hit(
            store, config, when=at(20, 8, 0), severity="high", title="Second group freed"
        )
        clock = Clock(
            at(
                20,
                7,
                59,
            )
        )
        d = Dispatcher(config, store, clock=clock)

        assert d.run_once().claimed == 0  # not yet 08:00
        assert smtp.messages == []
        clock.now = at(20, 8)
        report = d.run_once()
        assert report.sent == 3
        assert len(smtp.messages) == 1
        msg = smtp.messages[0]
        assert msg["Subject"].startswith("Digest morning: 3 alerts")
        text = parts(msg)["text/plain"]
        titles = re.findall(r"^\d+\. \[(\w+)\] .*?: (.+)$", text, re.M)
        assert titles == [
            ("CRITICAL", "Eleven Russians handed over"),
            ("MEDIUM", "Baku hints at a release"),
            ("LOW", "Transit talks resume"),
        ]
        html = parts(msg)["text/html"]
        assert (
            html.index("Eleven Russians handed over")
            < html.index("Baku hints at a release")
            < html.index("Transit talks resume")
        )
        assert "Second group freed" not in text

        clock.now = at(20, 12)
        assert d.run_once().claimed == 0  # nothing twice
        clock.now = at(21, 8)
        assert d.run_once().sent == 1
        assert len(smtp.messages) == 2
        second = parts(smtp.messages[1])["text/plain"]
        assert "Second group freed" in second
        for title in (
            "Eleven Russians handed over",
            "Baku hints at a release",
            "Transit talks resume",
        ):
            assert title not in second
        for hit in (low, crit, med, late):
            assert [r.status for r in store.deliveries_for_hit(hit.id)] == ["sent"]
    finally:
        smtp.stop()


def test_digest_retries_as_one_message(backend, tmp_path):
    smtp = ScriptedSmtp(data_replies=["451 busy"]).start()
    try:
        config = make_config(
            backend,
            {"email": {"urls": [smtp.url()]}},
            [{"name": "hourly", "channels": ["email"], "digest": {"every": "1h"}}],
        )
        store = open_store(config)
        base = datetime(2026, 11, 20, 9, 10, tzinfo=timezone.utc)
        for minute in (0, 20, 40):
            record_hit(
                store, config, when=base.replace(minute=10 + minute), title=f"Item at {minute}"
            )
        clock = Clock(datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc))
        d = Dispatcher(config, store, clock=clock)
        assert d.run_once().retried == 3
        rows = store.query("SELECT next_attempt_at, attempts, status FROM outbox")
        assert len({r["next_attempt_at"] for r in rows}) == 1 and {r["attempts"] for r in rows} == {
            1
        }
        clock.advance(hours=1)
        assert d.run_once().sent == 3
        assert len(smtp.messages) == 1
        assert parts(smtp.messages[0])["text/plain"].count("Item at") == 3
    finally:
        smtp.stop()
