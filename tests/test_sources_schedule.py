"""Scheduling arithmetic (pure) and a source failing then recovering against a real server."""

from __future__ import annotations

import random

import pytest

from helpers_sources import LOCAL, rss, source_cfg, story_items
from monitor.errors import FetchError
from monitor.sources import make_source
from monitor.sources.base import SourceState
from monitor.sources.schedule import health_change, next_delay


def test_success_is_interval_within_jitter():
    rng = random.Random(7)
    delays = [next_delay(600, 60, 0, rng=rng) for _ in range(500)]
    assert all(540 <= d <= 660 for d in delays)
    assert max(delays) - min(delays) > 100  # really jittered


def test_default_jitter_is_ten_percent():
    rng = random.Random(1)
    delays = [next_delay(1000, None, 0, rng=rng) for _ in range(300)]
    assert all(900 <= d <= 1100 for d in delays) and len(set(delays)) > 1


def test_no_jitter_is_exact():
    assert next_delay(300, 0, 0) == 300


def test_failures_back_off_exponentially_up_to_the_cap():
    delays = [next_delay(60, 0, n, backoff_max=1000) for n in range(1, 8)]
    assert delays == [60, 120, 240, 480, 960, 1000, 1000]
    assert next_delay(60, 0, 10_000, backoff_max=1000) == 1000  # no overflow


def test_backoff_is_jittered_but_never_past_the_cap():
    rng = random.Random(3)
    delays = [next_delay(60, 30, 3, backoff_max=200, rng=rng) for _ in range(300)]
    assert all(200 - 30 <= d <= 200 for d in delays) and len(set(delays)) > 1


def test_never_earlier_than_retry_after_or_min_next_poll():
    assert next_delay(60, 0, 1, retry_after=900, backoff_max=3600) == 900
    assert next_delay(60, 0, 0, min_next_poll=1800, backoff_max=3600) == 1800
    assert (
        next_delay(600, 0, 0, retry_after=10, min_next_poll=20) == 600
    )  # shorter hints don't hurry us


def test_absurd_server_hints_are_capped():
    assert next_delay(60, 0, 0, retry_after=10**9, backoff_max=3600) == 3600
    assert next_delay(7200, 0, 0, min_next_poll=10**9, backoff_max=3600) == 7200


def test_invalid_interval():
    with pytest.raises(ValueError):
        next_delay(0, 0, 0)


def test_health_change_alerts_once_each_way():
    assert [health_change(b, a, 3) for b, a in [(1, 2), (2, 3), (3, 4), (4, 0), (2, 0)]] == [
        None,
        "failing",
        None,
        "recovered",
        None,
    ]


def test_500_then_recovery_drives_backoff_and_reset(server):
    """The source raises FetchError on 500s; the scheduler's arithmetic backs off, then resets."""
    calls = []

    def flaky(request):
        from werkzeug import Response

        calls.append(1)
        if len(calls) <= 2:
            return Response("down", status=500)
        return Response(rss(story_items(2)), content_type="application/rss+xml")

    server.expect_request("/flaky").respond_with_handler(flaky)
    source = make_source(source_cfg("feed", url=server.url_for("/flaky")), LOCAL)
    failures, delays, state = 0, [], SourceState()
    for _ in range(3):
        try:
            result = source.fetch(state)
        except FetchError as exc:
            assert exc.status == 500
            failures += 1
        else:
            state, failures = result.state, 0
        delays.append(next_delay(300, 0, failures, backoff_max=3600))
    assert delays == [300, 600, 300]
    assert len(result.items) == 2


def test_429_retry_after_delays_the_next_poll(server):
    server.expect_request("/limited").respond_with_data(
        "", status=429, headers={"Retry-After": "1200"}
    )
    source = make_source(source_cfg("feed", url=server.url_for("/limited")), LOCAL)
    with pytest.raises(FetchError) as err:
        source.fetch(SourceState())
    assert next_delay(300, 30, 1, retry_after=err.value.retry_after, backoff_max=3600) == 1200
