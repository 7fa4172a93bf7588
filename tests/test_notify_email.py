"""Email through a real local SMTP server (aiosmtpd): the issue's acceptance cases."""

from __future__ import annotations

import pytest

from helpers_notify import Clock, ScriptedSmtp, make_config, parts, record_hit, statuses
from monitor.notify import Dispatcher
from monitor.store import open_store


@pytest.fixture
def servers():
    made: list[ScriptedSmtp] = []
    yield made
    for s in made:
        s.stop()


def _setup(where, smtp: ScriptedSmtp, fmt: str = "html", **notify):
    channels = {"email": {"urls": [smtp.url()], "format": fmt}, "ops": {"type": "console"}}
    config = make_config(
        where, channels, [{"channels": ["email"]}], operations_channel="ops", **notify
    )
    store = open_store(config)
    return config, store


def test_smtp_down_then_up_delivers_exactly_one_email(backend, tmp_path, servers, capsys):
    smtp = ScriptedSmtp()  # not started: the port refuses connections
    servers.append(smtp)
    config, store = _setup(backend, smtp)
    hit = record_hit(store, config)
    clock = Clock()
    d = Dispatcher(config, store, clock=clock)

    first = d.run_once()
    assert (first.sent, first.retried) == (0, 1)
    row = store.deliveries_for_hit(hit.id)[0]
    assert row.status == "pending" and row.attempts == 1
    assert "cannot reach the SMTP server" in row.last_error
    assert row.next_attempt_at > clock.now  # backoff, not a hot loop

    smtp.start()
    assert d.run_once().claimed == 0  # not due yet
    clock.now = row.next_attempt_at
    second = d.run_once()
    assert second.sent == 1
    clock.advance(days=1)
    assert d.run_once().claimed == 0
    assert len(smtp.messages) == 1
    msg = smtp.messages[0]
    assert (
        msg["Subject"]
        == "[HIGH] Russians jailed in Baku — release or return — newswire: Baku agrees to free the eleven Russians"
    )
    body = parts(msg)
    assert "<mark>free</mark>" in body["text/html"] and "<mark>Russians</mark>" in body["text/html"]
    assert "https://news.example.org/a/1" in body["text/plain"]
    assert "Why: all of: russian citizens, Baku, release words" in body["text/plain"]
    assert store.deliveries_for_hit(hit.id)[0].status == "sent"


def test_451_then_success_delivers_exactly_one(backend, tmp_path, servers):
    smtp = ScriptedSmtp(data_replies=["451 4.3.0 Try again later"]).start()
    servers.append(smtp)
    config, store = _setup(backend, smtp)
    hit = record_hit(store, config)
    clock = Clock()
    d = Dispatcher(config, store, clock=clock)

    assert d.run_once().retried == 1
    row = store.deliveries_for_hit(hit.id)[0]
    assert row.status == "pending" and "SMTP 451" in row.last_error
    clock.now = row.next_attempt_at
    assert d.run_once().sent == 1
    clock.advance(hours=3)
    d.run_once()
    assert smtp.data_attempts == 2
    assert len(smtp.messages) == 1
    assert store.deliveries_for_hit(hit.id)[0].status == "sent"


def test_550_fails_for_good_and_is_announced(backend, tmp_path, servers, capsys):
    smtp = ScriptedSmtp(rcpt_reply="550 5.1.1 No such user here").start()
    servers.append(smtp)
    config, store = _setup(backend, smtp)
    hit = record_hit(store, config)
    clock = Clock()
    d = Dispatcher(config, store, clock=clock)

    report = d.run_once()
    assert report.failed == 1 and report.retried == 0
    row = store.deliveries_for_hit(hit.id)[0]
    assert row.status == "failed" and "550" in row.last_error
    for _ in range(3):  # never retried, however long we wait
        clock.advance(days=1)
        d.run_once()
    assert smtp.messages == []
    assert store.deliveries_for_hit(hit.id)[0].attempts == 1
    # announced once on the operations channel (the console here)
    out = capsys.readouterr().out
    assert out.count("Delivery failed: email") == 1
    assert "550 5.1.1 No such user here" in out
    assert ("ops", "ops", "sent") in statuses(store)


def test_past_max_age_becomes_failed_not_retried_forever(backend, tmp_path, servers):
    smtp = ScriptedSmtp()  # never started
    servers.append(smtp)
    config, store = _setup(backend, smtp, max_age="1h")
    hit = record_hit(store, config)
    clock = Clock()
    d = Dispatcher(config, store, clock=clock)
    attempts = 0
    for _ in range(50):
        report = d.run_once()
        attempts += report.retried
        row = store.deliveries_for_hit(hit.id)[0]
        if row.status != "pending":
            break
        clock.now = row.next_attempt_at
    assert row.status == "failed"
    assert "notify.max_age" in row.last_error and "cannot reach the SMTP server" in row.last_error
    assert 3 <= attempts < 50


def test_html_email_cannot_carry_injected_markup(backend, tmp_path, servers):
    smtp = ScriptedSmtp().start()
    servers.append(smtp)
    config, store = _setup(backend, smtp)
    record_hit(
        store,
        config,
        title='Baku <script>alert(1)</script> frees "Russians"',
        snippet='<img src=x onerror=alert(1)> Baku will **free** them <a href="https://evil">bank</a>',
        url="javascript:alert(document.cookie)",
    )
    assert Dispatcher(config, store, clock=Clock()).run_once().sent == 1
    html = parts(smtp.messages[0])["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<a href="https://evil">' not in html
    assert "javascript:" not in html
    assert "<mark>free</mark>" in html
