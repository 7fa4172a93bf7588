"""The senders this project owns: channel URLs read by our own parsing, the email subject,
the console on a terminal, Slack-compatible hosts."""

from __future__ import annotations

import io
import json
import re

import pytest

from helpers_notify import Clock, make_config, record_hit
from monitor.notify import Dispatcher
from monitor.notify.channels import (
    BadUrl,
    SlackTransport,
    SmtpTransport,
    WebhookTransport,
    open_transport,
)
from monitor.notify.console import ConsoleTransport
from monitor.notify.render import Message
from monitor.notify.urls import parse_json_url, parse_mailto, parse_slack
from monitor.store import open_store


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "mailto://u:p@example.org",
            ("example.org", 25, "insecure", "u", "u@example.org", ("u@example.org",)),
        ),
        (
            "mailtos://u:p@example.org",
            ("example.org", 587, "starttls", "u", "u@example.org", ("u@example.org",)),
        ),
        (
            "mailtos://u:p@example.org:465?smtp=smtp.example.org&from=monitor@example.org&to=a@example.org,b@example.org",
            (
                "smtp.example.org",
                465,
                "ssl",
                "u",
                "monitor@example.org",
                ("a@example.org", "b@example.org"),
            ),
        ),
        (
            "mailtos://me:pw@gmail.com?to=a@b.org",
            ("smtp.gmail.com", 587, "starttls", "me@gmail.com", "me@gmail.com", ("a@b.org",)),
        ),
        (
            "mailtos://me:pw@fastmail.com?to=a@b.org",
            ("smtp.fastmail.com", 465, "ssl", "me@fastmail.com", "me@fastmail.com", ("a@b.org",)),
        ),
        (
            "mailto://127.0.0.1:2525?from=monitor@example.org&to=analyst@example.org&mode=insecure",
            ("127.0.0.1", 2525, "insecure", None, "monitor@example.org", ("analyst@example.org",)),
        ),
        (
            "mailto://u:p@example.org/x@y.org/z@w.org?mode=starttls",
            ("example.org", 587, "starttls", "u", "u@example.org", ("x@y.org", "z@w.org")),
        ),
    ],
)
def test_email_urls_are_read_by_our_own_parser(url, expected):
    s = parse_mailto(url)
    assert (s.host, s.port, s.mode, s.user, s.from_addr, s.to) == expected


def test_email_url_extras():
    s = parse_mailto(
        "mailto://u:p@example.org?cc=c@d.org&bcc=e@f.org&name=Desk&reply=r@s.org&verify=no&cto=4"
    )
    assert (s.cc, s.bcc, s.reply_to, s.from_name, s.verify, s.timeout) == (
        ("c@d.org",),
        ("e@f.org",),
        ("r@s.org",),
        "Desk",
        False,
        4.0,
    )


def test_slack_urls_keep_their_case_and_channels():
    hook = parse_slack("slack://bot@T0AAAA/B0BBBB/cCcC/#alerts/#Other")
    assert hook.mode == "webhook" and hook.username == "bot"
    assert hook.posts == (
        ("https://hooks.slack.com/services/T0AAAA/B0BBBB/cCcC", "#alerts"),
        ("https://hooks.slack.com/services/T0AAAA/B0BBBB/cCcC", "#Other"),
    )
    bot = parse_slack("slack://xoxb-1234-AbC/#alerts")
    assert (bot.mode, bot.token, bot.posts) == (
        "bot",
        "xoxb-1234-AbC",
        (("https://slack.com/api/chat.postMessage", "#alerts"),),
    )
    other = parse_slack("slack://OneKeyOnly", base_url="https://chat.example.org/hooks/")
    assert other.posts == (("https://chat.example.org/hooks/OneKeyOnly", None),)
    with pytest.raises(ValueError, match="TokenA/TokenB/TokenC"):
        parse_slack("slack://OneKeyOnly")


def test_json_webhook_urls():
    s = parse_json_url("jsons://user:pw@hooks.example.org:8443/in?+X-Token=a+b&-q=1")
    assert s.endpoint == "https://hooks.example.org:8443/in?q=1"
    assert s.headers == (("X-Token", "a+b"),) and s.auth == ("user", "pw")


def test_each_scheme_gets_its_sender_and_a_bad_url_says_so_without_the_secret():
    assert isinstance(open_transport("mailto://u:p@example.org", "text"), SmtpTransport)
    assert isinstance(open_transport("slack://T0AAAA/B0BBBB/cccc", "text"), SlackTransport)
    hook = open_transport("https://hooks.slack.com/services/T0AAAA/B0BBBB/cccc", "text")
    assert isinstance(hook, SlackTransport) and hook.settings.posts[0][0].endswith(
        "/T0AAAA/B0BBBB/cccc"
    )
    assert isinstance(open_transport("json://127.0.0.1/x", "text"), WebhookTransport)
    bad = open_transport("nonsense://hunter2@x", "text", 2, "pager")
    assert (
        isinstance(bad, BadUrl)
        and bad.label == "channels.pager.urls[2]"
        and "hunter2" not in bad.label
    )


def test_a_slack_channel_posts_to_another_hosts_webhook_url(backend, tmp_path, httpserver):
    httpserver.expect_request("/hooks/abc123", method="POST").respond_with_data("ok")
    url = httpserver.url_for("/hooks/abc123")
    config = make_config(backend, {"mm": {"type": "slack", "urls": [url], "format": "markdown"}})
    store = open_store(config)
    record_hit(store, config, title="Baku <!channel> frees Russians")
    assert Dispatcher(config, store, clock=Clock()).run_once().sent == 1
    posted = json.loads(httpserver.log[-1][0].get_data())
    assert posted["text"].startswith("*[HIGH] Russians jailed in Baku")
    assert "<!channel>" not in posted["text"]


def test_a_slack_compatible_host_answering_429_is_retried_after_its_retry_after(
    backend, tmp_path, httpserver
):
    httpserver.expect_request("/hooks/key", method="POST").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "90"}
    )
    config = make_config(
        backend, {"mm": {"type": "slack", "urls": [httpserver.url_for("/hooks/key")]}}
    )
    store = open_store(config)
    hit = record_hit(store, config)
    clock = Clock()
    assert Dispatcher(config, store, clock=clock).run_once().retried == 1
    (row,) = store.deliveries_for_hit(hit.id)
    assert (row.next_attempt_at - clock.now).total_seconds() >= 90


def test_the_email_subject_has_no_empty_encoded_word(backend, tmp_path, smtp_sink):
    # a title the standard library's default folding turns into "=?utf-8?q??="
    title = (
        "a [HIGH] a \u200b "
        + "y" * 50
        + " newswire: é release in «вопрос» [HIGH] [HIGH] Baku é "
        + "x" * 24
        + " "
        + "x" * 24
        + " освободить Russians"
    )
    config = make_config(backend, {"email": {"urls": [smtp_sink.mailto()]}})
    store = open_store(config)
    record_hit(store, config, title=title)
    assert Dispatcher(config, store, clock=Clock()).run_once().sent == 1
    (msg,) = smtp_sink.messages
    raw = smtp_sink.raw[0].decode("ascii", "replace")
    assert not re.search(r"=\?utf-8\?[qb]\?\?=", raw, re.IGNORECASE)
    assert str(msg["Subject"]).endswith(
        "Baku é " + "x" * 24 + " " + "x" * 24 + " освободить Russians"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_console_renders_markdown_on_a_terminal_and_plain_text_elsewhere():
    plain, tty = ConsoleTransport(io.StringIO()), ConsoleTransport(_Terminal())
    assert (plain.dialect, tty.dialect) == ("text", "markdown")
    tty.send(
        Message("[HIGH] Rule — wire: Baku", "Baku agrees to **free** them\n\nRule: x", "markdown")
    )
    out = tty.stream.getvalue()
    assert "\x1b[1m" in out and "free" in out and "**free**" not in out
    plain.send(Message("[HIGH] Rule — wire: Baku", "Baku agrees to **free** them", "text"))
    assert plain.stream.getvalue() == (
        "─" * 72 + "\n[HIGH] Rule — wire: Baku\n\nBaku agrees to **free** them\n" + "─" * 72 + "\n"
    )


def test_the_snippet_puts_the_title_on_its_own_line():
    from monitor.notify.dialects import split_title

    snippet = "**Baku** agrees to free the **eleven** **Russians** Officials in **Azerbaijan** said"
    assert split_title(snippet, "Baku agrees to free the eleven Russians") == (
        "**Baku** agrees to free the **eleven** **Russians**\nOfficials in **Azerbaijan** said"
    )
    assert (
        split_title("…the **eleven** Russians said", "Baku agrees")
        == "…the **eleven** Russians said"
    )
    assert split_title("Baku agrees", "Baku agrees") == "Baku agrees"
