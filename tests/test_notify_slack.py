"""Slack webhooks and bot tokens, the channel's base_url pointed at a local HTTP server
(pytest-httpserver, as a Slack-compatible host would be): rate limit with Retry-After, a
server error, success."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from helpers_notify import T0, Clock, make_config, record_hit
from monitor.notify import Dispatcher
from monitor.store import open_store

HOOK = "/services/T0AAAA/B0BBBB/cccccccccccccccccccc"


@pytest.fixture
def slack_base(httpserver):
    return httpserver


def _setup(where, server, fmt="markdown"):
    config = make_config(
        where,
        {
            "slack": {
                "urls": ["slack://T0AAAA/B0BBBB/cccccccccccccccccccc"],
                "format": fmt,
                "base_url": server.url_for("/services"),
            }
        },
    )
    return config, open_store(config)


def test_429_then_500_then_ok_sends_exactly_one_message_after_retry_after(
    backend, tmp_path, slack_base
):
    slack_base.expect_ordered_request(HOOK, method="POST").respond_with_data(
        "rate_limited", status=429, headers={"Retry-After": "120"}
    )
    slack_base.expect_ordered_request(HOOK, method="POST").respond_with_data(
        "server_error", status=500
    )
    slack_base.expect_ordered_request(HOOK, method="POST").respond_with_data("ok", status=200)
    config, store = _setup(backend, slack_base)
    hit = record_hit(
        store,
        config,
        title="Baku <!channel> frees <@U024BE7LH> Russians",
        snippet="Moscow says <https://evil.example|your bank> will **free** the <!here> **Russians**",
        url="https://news.example.org/a?id=1&lang=en",
    )
    clock = Clock()
    d = Dispatcher(config, store, clock=clock)

    assert d.run_once().retried == 1
    row = store.deliveries_for_hit(hit.id)[0]
    assert row.next_attempt_at >= T0 + timedelta(seconds=120)  # backoff alone would be ≤ 10 s
    assert "429" in row.last_error

    clock.now = T0 + timedelta(seconds=119)
    assert d.run_once().claimed == 0
    assert len(slack_base.log) == 1  # nothing sent before Retry-After allowed

    clock.now = row.next_attempt_at
    assert d.run_once().retried == 1
    row = store.deliveries_for_hit(hit.id)[0]
    assert "500" in row.last_error and row.next_attempt_at > clock.now

    clock.now = row.next_attempt_at
    assert d.run_once().sent == 1
    clock.advance(days=1)
    assert d.run_once().claimed == 0

    assert len(slack_base.log) == 3
    slack_base.check_assertions()
    assert store.deliveries_for_hit(hit.id)[0].status == "sent"
    request = slack_base.log[-1][0]
    raw = request.get_data(as_text=True)
    for forbidden in ("<!channel>", "<!here>", "<@U024BE7LH>", "<https://evil.example|your bank>"):
        assert forbidden not in raw
    zw = "\u200b"
    assert json.loads(raw) == {
        "text": (
            f"*[HIGH] Russians jailed in Baku — release or return — newswire: Baku &lt;!{zw}channel&gt; frees &lt;@U024BE7LH&gt; Russians*\n"
            f"Moscow says &lt;https://evil.example|your bank&gt; will *free* the &lt;!{zw}here&gt; *Russians*\n"
            "\n"
            f"Link: <https://news.example.org/a?id=1&amp;lang=en|Baku &lt;!{zw}channel&gt; frees &lt;@U024BE7LH&gt; Russians>\n"
            "Source: newswire\n"
            "Published: 2026-11-20 08:30 UTC\n"
            "Rule: Russians jailed in Baku — release or return (detainees-release-return, high)\n"
            "Why: all of: russian citizens, Baku, release words\n"
            "Matched: Russians, Baku, free"
        ),
        "mrkdwn": True,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def test_slack_4xx_other_than_429_is_permanent(backend, tmp_path, slack_base):
    slack_base.expect_request(HOOK, method="POST").respond_with_data("invalid_token", status=403)
    config, store = _setup(backend, slack_base)
    hit = record_hit(store, config)
    clock = Clock()
    d = Dispatcher(config, store, clock=clock)
    assert d.run_once().failed == 1
    clock.advance(days=1)
    d.run_once()
    assert len(slack_base.log) == 1
    row = store.deliveries_for_hit(hit.id)[0]
    assert row.status == "failed" and "403 invalid_token" in row.last_error


def test_bot_token_posts_to_chat_postmessage_with_bearer(backend, tmp_path, httpserver):
    httpserver.expect_ordered_request("/api/chat.postMessage", method="POST").respond_with_json(
        {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "30"}
    )
    httpserver.expect_ordered_request(
        "/api/chat.postMessage",
        method="POST",
        headers={"Authorization": "Bearer xoxb-1234-5678-abcdef"},
    ).respond_with_json({"ok": True})
    config = make_config(
        backend,
        {
            "slack": {
                "urls": ["slack://xoxb-1234-5678-abcdef/#alerts"],
                "format": "markdown",
                "base_url": httpserver.url_for("/api"),
            }
        },
    )
    store = open_store(config)
    hit = record_hit(store, config)
    clock = Clock()
    d = Dispatcher(config, store, clock=clock)
    assert d.run_once().retried == 1
    row = store.deliveries_for_hit(hit.id)[0]
    assert row.next_attempt_at >= T0 + timedelta(seconds=30)
    clock.now = row.next_attempt_at
    assert d.run_once().sent == 1
    httpserver.check_assertions()
    assert json.loads(httpserver.log[-1][0].get_data())["channel"] == "#alerts"
    assert "xoxb-1234-5678-abcdef" not in (row.last_error or "")
