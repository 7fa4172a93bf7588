"""Duplicates a receiver can drop (issue 13, Delivery): every delivery carries one stable
key from its outbox row, the same on every retry and after a restart: the email Message-ID,
and an Idempotency-Key header on webhooks that take headers (json/form/xml, Slack)."""

from __future__ import annotations


from datetime import datetime, timezone

import pytest
from werkzeug import Response

from helpers_notify import Clock, ScriptedSmtp, make_config, record_hit
from monitor.notify import Dispatcher
from monitor.notify.channels import with_header
from monitor.models import Delivery
from monitor.notify.dispatch import delivery_key
from monitor.store import Store


def _rounds(config, store, clock, n):
    """``n`` dispatch rounds, each by a new Dispatcher (as after a restart), the clock moved
    past any backoff between them."""
    for _ in range(n):
        Dispatcher(config, store, clock=clock).run_once()
        clock.advance(hours=1)


def test_an_email_keeps_one_message_id_across_retries_and_restarts(tmp_path):
    smtp = ScriptedSmtp(data_replies=["451 4.3.0 try again later", "451 4.3.0 still busy"]).start()
    try:
        config = make_config(tmp_path, {"email": {"urls": [smtp.url()]}})
        with Store(config.db_path) as store:
            first = record_hit(store, config, title="First alert")
            second = record_hit(store, config, title="Second alert")
            _rounds(config, store, Clock(), 4)
            assert [d.status for h in (first, second) for d in store.deliveries_for_hit(h.id)] == [
                "sent",
                "sent",
            ]
        by_subject: dict[str, set[str]] = {}
        for m in smtp.attempted:
            by_subject.setdefault(str(m["Subject"]), set()).add(str(m["Message-ID"]))
        assert len(smtp.attempted) == 4  # two refused, then one each
        ids = [by_subject[s] for s in sorted(by_subject)]
        assert [len(x) for x in ids] == [1, 1], by_subject  # one id per alert, however often sent
        (a,), (b,) = ids
        assert a != b and a.startswith("<sm-") and a.endswith("@example.org>")
    finally:
        smtp.stop()


def test_a_json_webhook_gets_one_idempotency_key_per_alert_on_every_retry(tmp_path, httpserver):
    answers = iter([500, 500, 200, 200])
    httpserver.expect_request("/hook", method="POST").respond_with_handler(
        lambda request: Response("{}", status=next(answers), content_type="application/json")
    )
    config = make_config(
        tmp_path, {"hook": {"urls": [f"json://127.0.0.1:{httpserver.port}/hook?+X-Other=kept"]}}
    )
    with Store(config.db_path) as store:
        first = record_hit(store, config, title="First alert")
        second = record_hit(store, config, title="Second alert")
        _rounds(config, store, Clock(), 3)
        rows = [
            store.outbox_row(d.id) for h in (first, second) for d in store.deliveries_for_hit(h.id)
        ]
    assert [r.status for r in rows] == ["sent", "sent"]
    posts = [
        (req.json["title"], req.headers.get("Idempotency-Key"), req.headers.get("X-Other"))
        for req, _ in httpserver.log
    ]
    assert len(posts) == 4
    keys = {
        title: {k for t, k, _ in posts if t == title} for title, _, _ in posts
    }  # the item's title
    assert keys == {"First alert": {delivery_key(rows[0])}, "Second alert": {delivery_key(rows[1])}}
    assert delivery_key(rows[0]) != delivery_key(rows[1])
    assert all(other == "kept" for _, _, other in posts)  # the URL's own headers stay


def test_slack_posts_carry_the_key(tmp_path, httpserver):
    hook = "/services/T0AAAA/B0BBBB/cccccccccccccccccccc"
    httpserver.expect_ordered_request(hook, method="POST").respond_with_data("err", status=500)
    httpserver.expect_ordered_request(hook, method="POST").respond_with_data("ok", status=200)
    config = make_config(
        tmp_path,
        {
            "slack": {
                "urls": ["slack://T0AAAA/B0BBBB/cccccccccccccccccccc"],
                "base_url": httpserver.url_for("/services"),
            }
        },
    )
    with Store(config.db_path) as store:
        hit = record_hit(store, config)
        _rounds(config, store, Clock(), 2)
        row = store.outbox_row(store.deliveries_for_hit(hit.id)[0].id)
    assert row.status == "sent"
    assert [req.headers.get("Idempotency-Key") for req, _ in httpserver.log] == [
        delivery_key(row)
    ] * 2


@pytest.mark.parametrize(
    "url, expected",
    [
        ("json://h/p", "json://h/p?+Idempotency-Key=sm-1"),
        ("json://h/p?format=text", "json://h/p?format=text&+Idempotency-Key=sm-1"),
        ("form://h/?a=1#x", "form://h/?a=1&+Idempotency-Key=sm-1#x"),
    ],
)
def test_with_header(url, expected):
    assert with_header(url, "Idempotency-Key", "sm-1") == expected


def test_the_key_depends_on_the_row_only():
    from dataclasses import replace

    row = Delivery(
        id=7,
        hit_id=3,
        channel="email",
        status="sent",
        kind="hit",
        created_at=datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc),
    )
    assert delivery_key(row) == delivery_key(replace(row))
    assert delivery_key(row) != delivery_key(
        replace(row, created_at=datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc))
    )  # another database
    assert delivery_key(row) != delivery_key(replace(row, id=8))
    assert delivery_key(row) == delivery_key(replace(row, status="pending", attempts=5))
