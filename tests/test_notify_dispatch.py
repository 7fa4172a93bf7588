"""The dispatcher: the console channel, per-URL progress, rate-limit summaries, recovery,
operations notices."""

from __future__ import annotations

import json
from datetime import timedelta

from helpers_notify import T0, Clock, make_config, record_hit, statuses
from monitor.notify import Dispatcher, announce
from monitor.store import open_store


def test_console_prints_a_readable_alert(backend, tmp_path, capsys):
    config = make_config(backend, {"console": {"type": "console"}})
    store = open_store(config)
    hit = record_hit(store, config)
    assert Dispatcher(config, store, clock=Clock()).run_once().sent == 1
    out = capsys.readouterr().out
    assert (
        "[HIGH] Russians jailed in Baku — release or return — newswire: Baku agrees to free the eleven Russians"
        in out
    )
    assert "Baku agrees in principle to **free** the eleven **Russians**" in out
    assert "Link: https://news.example.org/a/1" in out
    assert "Why: all of: russian citizens, Baku, release words" in out
    assert store.deliveries_for_hit(hit.id)[0].status == "sent"


def test_each_url_of_a_channel_gets_the_message_once(backend, tmp_path, httpserver):
    httpserver.expect_ordered_request("/a", method="POST").respond_with_data("", status=200)
    httpserver.expect_ordered_request("/b", method="POST").respond_with_data("", status=500)
    httpserver.expect_ordered_request("/b", method="POST").respond_with_data("", status=200)
    base = f"json://127.0.0.1:{httpserver.port}"
    config = make_config(backend, {"hooks": {"urls": [f"{base}/a", f"{base}/b"]}})
    store = open_store(config)
    hit = record_hit(store, config)
    clock = Clock()
    d = Dispatcher(config, store, clock=clock)
    assert d.run_once().retried == 1
    clock.now = store.deliveries_for_hit(hit.id)[0].next_attempt_at
    assert d.run_once().sent == 1
    httpserver.check_assertions()
    assert [r.path for r, _ in httpserver.log] == ["/a", "/b", "/b"]
    sent = json.loads(httpserver.log[-1][0].get_data())
    # the structured alert (issue 17 item 8), not apprise's generic {"title", "message", "type"}
    assert sent == {
        "id": hit.id,
        "rule": "detainees-release-return",
        "rules": ["detainees-release-return"],
        "severity": "high",
        "title": "Baku agrees to free the eleven Russians",
        "url": "https://news.example.org/a/1",
        "source": "newswire",
        "published": "2026-11-20T08:30:00+00:00",
        "snippet": "Baku agrees in principle to **free** the eleven **Russians**",
        "why": "all of: russian citizens, Baku, release words",
        "hit_url": None,
    }


def test_the_webhook_links_the_hit_on_the_review_page_when_web_base_url_is_set(
    backend, tmp_path, httpserver
):
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=200)
    config = make_config(
        backend, {"hooks": {"urls": [f"json://127.0.0.1:{httpserver.port}/hook?+X-Token=t0k"]}}
    )
    config = config.model_copy(
        update={"web": config.web.model_copy(update={"base_url": "https://review.example.org/"})}
    )
    store = open_store(config)
    hit = record_hit(store, config)
    assert Dispatcher(config, store, clock=Clock()).run_once().sent == 1
    request = httpserver.log[-1][0]
    assert json.loads(request.get_data())["hit_url"] == f"https://review.example.org/hits/{hit.id}"
    assert request.headers["X-Token"] == "t0k"


def test_rate_limit_folds_the_overflow_into_one_summary(backend, tmp_path, capsys):
    config = make_config(
        backend, {"console": {"type": "console", "rate_limit": 2, "rate_window": "1h"}}
    )
    store = open_store(config)
    hits = [record_hit(store, config, title=f"Story number {i}") for i in range(5)]
    clock = Clock()
    d = Dispatcher(config, store, clock=clock)
    report = d.run_once()
    assert (report.sent, report.suppressed) == (2, 3)
    clock.advance(minutes=10)
    more = record_hit(store, config, when=clock.now, title="Story number 5")
    assert d.run_once().suppressed == 1  # joins the same pending summary
    summaries = store.query("SELECT * FROM outbox WHERE kind = 'summary'")
    assert len(summaries) == 1 and json.loads(summaries[0]["payload"])["hits"] == [
        h.id for h in hits[2:]
    ] + [more.id]
    assert summaries[0]["next_attempt_at"] == (T0 + timedelta(hours=1)).isoformat(
        timespec="microseconds"
    )
    capsys.readouterr()

    clock.now = T0 + timedelta(minutes=59)
    assert d.run_once().claimed == 0
    clock.now = T0 + timedelta(hours=1)
    assert d.run_once().sent == 1
    out = capsys.readouterr().out
    assert out.count("─" * 72) == 2  # one message
    assert "4 more alerts held back by the rate limit" in out
    assert all(f"Story number {i}" in out for i in (2, 3, 4, 5))
    assert "Story number 0" not in out
    folded = store.deliveries_for_hit(hits[3].id)[0]
    assert folded.status == "suppressed" and f"summary #{summaries[0]['id']}" in folded.last_error


def test_recover_resends_rows_left_in_flight(backend, tmp_path, capsys):
    config = make_config(backend, {"console": {"type": "console"}})
    store = open_store(config)
    hit = record_hit(store, config)
    row = store.deliveries_for_hit(hit.id)[0]
    assert store.mark_inflight(row.id, T0)  # a crash right after the claim
    d = Dispatcher(config, store, clock=Clock())
    assert d.run_once().claimed == 0  # in flight rows are not due
    assert d.recover() == 1
    assert d.run_once().sent == 1
    assert capsys.readouterr().out.count("Baku agrees to free the eleven Russians") == 1


def test_a_channel_removed_from_the_config_fails_visibly(backend, tmp_path, capsys):
    old = make_config(
        backend,
        {"slack": {"type": "console"}, "ops": {"type": "console"}},
        [{"channels": ["slack"]}],
    )
    store = open_store(old)
    hit = record_hit(store, old)
    new = make_config(
        backend, {"ops": {"type": "console"}}, [{"channels": ["ops"]}], operations_channel="ops"
    )
    d = Dispatcher(new, store, clock=Clock())
    assert d.run_once().failed == 1
    assert "no longer in the configuration" in store.deliveries_for_hit(hit.id)[0].last_error
    d.run_once()
    assert "Delivery failed: slack" in capsys.readouterr().out


def test_announce_goes_to_the_operations_channel(backend, tmp_path, capsys):
    config = make_config(backend, {"ops": {"type": "console"}}, [], operations_channel="ops")
    store = open_store(config)
    assert announce(
        store,
        config,
        "Source civilnet has failed 5 times in a row.",
        title="Source failing: civilnet",
        now=T0,
    )
    assert Dispatcher(config, store, clock=Clock()).run_once().sent == 1
    out = capsys.readouterr().out
    assert "Source failing: civilnet" in out and "failed 5 times in a row" in out
    assert statuses(store) == [("ops", "ops", "sent")]
    quiet = make_config(backend, {"c": {"type": "console"}}, [])
    assert announce(store, quiet, "x", title="y", now=T0) is None


def test_backoff_grows_with_jitter_and_honours_retry_after(backend, tmp_path):
    config = make_config(backend, {"c": {"type": "console"}}, backoff_base=10, backoff_max=100)
    d = Dispatcher(config, open_store(config))
    for attempt, full in ((1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (9, 100)):
        delays = {d.backoff(attempt) for _ in range(20)}
        assert all(full / 2 <= x <= full for x in delays) and len(delays) > 1
    assert d.backoff(1, retry_after=300) == 300
