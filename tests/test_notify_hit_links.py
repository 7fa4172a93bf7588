"""Every alert links to its hit on the review page when ``web.base_url`` is set: the email
(text and HTML, through a real local SMTP server), Slack (the request to a local
Slack-compatible host, asserted whole) and digests; without it, no link at all."""

from __future__ import annotations

import json
import re

from helpers_notify import Clock, ScriptedSmtp, make_config, parts, record_hit
from monitor.notify import Dispatcher
from monitor.store import Store

REVIEW = "https://review.example.org/team/"
HOOK = "/services/T0AAAA/B0BBBB/cccccccccccccccccccc"


def with_base_url(config, base_url: str | None):
    return config.model_copy(update={"web": config.web.model_copy(update={"base_url": base_url})})


def test_the_email_links_the_hit_in_its_text_and_html(tmp_path):
    smtp = ScriptedSmtp().start()
    try:
        config = with_base_url(
            make_config(tmp_path, {"email": {"urls": [smtp.url()], "format": "html"}}), REVIEW
        )
        store = Store(config.db_path)
        hit = record_hit(store, config)
        assert Dispatcher(config, store, clock=Clock()).run_once().sent == 1
        (msg,) = smtp.messages
        body = parts(msg)
        link = f"https://review.example.org/team/hits/{hit.id}"
        assert f"\nReview: {link}\n" in body["text/plain"]
        assert f'<a href="{link}">hit #{hit.id}</a>' in body["text/html"]
        store.close()
    finally:
        smtp.stop()


def test_without_a_base_url_the_email_has_no_review_link(tmp_path):
    smtp = ScriptedSmtp().start()
    try:
        config = make_config(tmp_path, {"email": {"urls": [smtp.url()], "format": "html"}})
        assert config.web.base_url is None
        store = Store(config.db_path)
        record_hit(store, config)
        assert Dispatcher(config, store, clock=Clock()).run_once().sent == 1
        body = parts(smtp.messages[0])
        assert "Review" not in body["text/plain"] and "Review" not in body["text/html"]
        assert "/hits/" not in body["text/plain"] + body["text/html"]
        store.close()
    finally:
        smtp.stop()


def test_the_slack_message_links_the_hit(tmp_path, httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("ok", status=200)
    config = with_base_url(
        make_config(
            tmp_path,
            {
                "slack": {
                    "urls": ["slack://T0AAAA/B0BBBB/cccccccccccccccccccc"],
                    "format": "markdown",
                    "base_url": httpserver.url_for("/services"),
                }
            },
        ),
        REVIEW,
    )
    store = Store(config.db_path)
    hit = record_hit(store, config)
    assert Dispatcher(config, store, clock=Clock()).run_once().sent == 1
    (entry,) = httpserver.log
    request = entry[0]
    assert request.path == HOOK
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert re.fullmatch(r"sm-[0-9a-f]{32}", request.headers["Idempotency-Key"])
    assert json.loads(request.get_data(as_text=True)) == {
        "text": (
            "*[HIGH] Russians jailed in Baku — release or return — newswire: Baku agrees to free the eleven Russians*\n"
            "Baku agrees in principle to *free* the eleven *Russians*\n"
            "\n"
            "Link: <https://news.example.org/a/1|Baku agrees to free the eleven Russians>\n"
            f"Review: <https://review.example.org/team/hits/{hit.id}|hit #{hit.id}>\n"
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
    store.close()


def test_a_digest_links_each_of_its_hits(tmp_path):
    smtp = ScriptedSmtp().start()
    try:
        config = with_base_url(
            make_config(
                tmp_path,
                {"email": {"urls": [smtp.url()], "format": "html"}},
                [{"channels": ["email"], "digest": {"every": "1h"}}],
            ),
            REVIEW,
        )
        store = Store(config.db_path)
        hits = [
            record_hit(store, config, title=f"Baku agrees to free the Russians, day {n}")
            for n in (1, 2)
        ]
        clock = Clock()
        clock.advance(hours=2)
        assert Dispatcher(config, store, clock=clock).run_once().sent == 2
        (msg,) = smtp.messages
        body = parts(msg)
        for hit in hits:
            link = f"https://review.example.org/team/hits/{hit.id}"
            assert f"   Review: {link}\n" in body["text/plain"]
            assert f'<a href="{link}">hit #{hit.id}</a>' in body["text/html"]
        store.close()
    finally:
        smtp.stop()
