"""Channels edited by admins through the API, on a real server over a real config file:
URLs shown with secrets only as ${VAR} references, a URL that writes a secret out refused,
one sent back as shown kept as the file has it, edits that would not load refused with
file:line:col, a test sent to a real local webhook, a disabled channel routed nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from helpers_hits import HitsDB
from helpers_notify import ScriptedSmtp
from monitor.config import load_config
from monitor.models import Entry, Item, RuleMatch
from monitor.notify import Dispatcher
from monitor.pipeline import record
from web_helpers import serve_team

SMTP_SECRET = "hunter2-is-not-a-password"
HOOK_SECRET = "t0k-abcdef-123456"
SLACK = "slack://T0AAAA/B0BBBB/cccccccccccccccccccc"


def channels_config(smtp: ScriptedSmtp) -> str:
    return f"""\
# channels: this comment must survive edits from the page
channels:
  email:
    urls:
      - mailto://alerts:${{SMTP_PASSWORD}}@127.0.0.1:{smtp.port}?from=monitor@example.org&to=team@example.org&mode=insecure
    format: html
  chat:
    type: slack
    urls: ["{SLACK}"]   # tokens written out: shown masked, never sent to a page
    base_url: https://chat.example.org/hooks
  console: {{type: console}}
routes:
  - name: everything
    channels: [email, console]
"""


@pytest.fixture
def smtp():
    server = ScriptedSmtp().start()
    yield server
    server.stop()


@pytest.fixture
def team(hits_db: HitsDB, smtp, monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_SECRET)
    monkeypatch.setenv("HOOK_TOKEN", HOOK_SECRET)
    with serve_team(hits_db, channels_config(smtp)) as t:
        yield t


def config_text(team) -> str:
    return team.db.config_path.read_text(encoding="utf-8")


def test_channels_are_listed_with_secrets_only_as_references(team, smtp):
    with team.client("admin") as c:
        r = c.get("/api/v1/channels")
        one = c.get("/api/v1/channels/email")
        missing = c.get("/api/v1/channels/nope")
    assert r.status_code == 200 and one.status_code == 200
    assert missing.status_code == 404
    by_name = {ch["name"]: ch for ch in r.json()["channels"]}
    assert list(by_name) == ["email", "chat", "console"]
    email = by_name["email"]
    assert email["urls"] == [
        f"mailto://alerts:${{SMTP_PASSWORD}}@127.0.0.1:{smtp.port}?from=monitor@example.org&to=team@example.org&mode=insecure"
    ]
    assert email["env"] == ["SMTP_PASSWORD"] and email["routes"] == ["everything"]
    assert (email["type"], email["enabled"], email["format"]) == ("apprise", True, "html")
    assert one.json() == email
    assert by_name["chat"]["urls"] == ["slack://****/****/****"]
    assert by_name["chat"]["routes"] == [] and by_name["console"]["urls"] == []
    for text in (r.text, one.text):
        assert SMTP_SECRET not in text and "cccccccccccccccccccc" not in text


def test_a_url_that_writes_a_secret_out_is_refused_and_nothing_is_written(team):
    before = config_text(team)
    with team.client("admin") as c:
        literal = c.patch(
            "/api/v1/channels/email",
            json={"urls": ["mailto://alerts:swordfish99@smtp.example.org?to=a@example.org"]},
        )
        masked = c.patch("/api/v1/channels/chat", json={"urls": ["slack://****/B0BBBB/other"]})
        unset = c.patch(
            "/api/v1/channels/email",
            json={
                "urls": ["mailto://alerts:${NOT_SET_ANYWHERE}@smtp.example.org?to=a@example.org"]
            },
        )
        token = c.post(
            "/api/v1/channels",
            json={"name": "hooks", "urls": ["json://127.0.0.1:9/hook?+X-Token=plain-secret"]},
        )
    assert literal.status_code == 422
    assert literal.json()["detail"] == [
        "urls[0]: a secret is written out in it (it would show as "
        "mailto://alerts:****@smtp.example.org?to=a@example.org); put the secret in an "
        "environment variable and write it as ${NAME}"
    ]
    assert masked.status_code == 422 and "stands for a secret" in masked.json()["detail"][0]
    assert unset.status_code == 422
    assert unset.json()["detail"] == [
        "urls[0]: environment variable NOT_SET_ANYWHERE is not set (where the daemon and this page run)"
    ]
    assert token.status_code == 422 and "+X-Token=****" in token.json()["detail"][0]
    assert config_text(team) == before
    assert "swordfish99" not in literal.text


def test_a_url_sent_back_as_shown_keeps_what_the_file_has(team):
    with team.client("admin") as c:
        shown = c.get("/api/v1/channels/chat").json()["urls"]
        r = c.patch("/api/v1/channels/chat", json={"urls": shown, "format": "markdown"})
    assert r.status_code == 200, r.text
    assert r.json()["urls"] == ["slack://****/****/****"] and r.json()["format"] == "markdown"
    text = config_text(team)
    assert SLACK in text and "# channels: this comment must survive" in text
    assert "# tokens written out" in text
    config = load_config(team.db.config_path)
    assert config.channels["chat"].urls == [SLACK]


def test_an_edit_that_would_not_load_is_refused_with_file_line_col(team):
    before = config_text(team)
    with team.client("admin") as c:
        r = c.patch("/api/v1/channels/email", json={"rate_window": "soon"})
        bad = c.patch("/api/v1/channels/email", json={"format": "pdf"})
    assert r.status_code == 422
    (problem,) = r.json()["detail"]
    assert problem.startswith(f"{team.db.config_path}:") and "rate_window" in problem
    line, col = problem.split(":")[1:3]
    assert line.isdigit() and col.isdigit()
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "format"]
    assert config_text(team) == before


def test_add_test_send_and_disable_a_channel(team, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=200)
    url = f"json://127.0.0.1:{httpserver.port}/hook?+X-Token=${{HOOK_TOKEN}}"
    with team.client("admin") as c:
        added = c.post("/api/v1/channels", json={"name": "hooks", "urls": [url]})
        again = c.post("/api/v1/channels", json={"name": "hooks", "urls": [url]})
        tested = c.post("/api/v1/channels/hooks/test")
        off = c.patch("/api/v1/channels/hooks", json={"enabled": False})
    assert added.status_code == 201, added.text
    assert added.json()["urls"] == [url] and added.json()["enabled"] is True
    assert again.status_code == 409
    assert tested.status_code == 200, tested.text
    assert tested.json() == {
        "name": "hooks",
        "ok": True,
        "results": [
            {
                "url": f"json://127.0.0.1:{httpserver.port}/hook?+X-Token=****",
                "ok": True,
                "error": None,
            }
        ],
    }
    (sent,) = httpserver.log
    assert sent[0].headers["X-Token"] == HOOK_SECRET
    assert json.loads(sent[0].get_data())["title"] == "This is a test alert: the channel works"
    assert HOOK_SECRET not in tested.text
    assert off.status_code == 200 and off.json()["enabled"] is False
    text = config_text(team)
    assert "${HOOK_TOKEN}" in text and HOOK_SECRET not in text
    assert "# channels: this comment must survive" in text
    with team.db.open() as store:
        trail = [(e["action"], e["target"], e["by"]) for e in store.list_edits("channel")]
    assert trail == [
        ("disable", "hooks", "admin"),
        ("test", "hooks", "admin"),
        ("add", "hooks", "admin"),
    ]


def test_a_disabled_channel_is_routed_nothing_and_its_queue_is_given_up(team, smtp):
    config = load_config(team.db.config_path)
    item = Item(source="seeds", key="late-1", title="Baku frees them", text="Baku frees them")
    match = RuleMatch(
        rule_id="detainees-release",
        rule_title="Russians jailed in Baku",
        severity="high",
        terms=("Baku",),
        spans=(),
        snippet="**Baku** frees them",
        why="any: Baku",
        tags=(),
    )
    now = team.db.now + timedelta(minutes=1)
    with team.db.open() as store:
        (queued,) = record(store, config, [Entry(item=item, matches=[match])], now).hits
        assert {d.channel for d in store.deliveries_for_hit(queued.id)} == {"email", "console"}
    with team.client("admin") as c:
        assert c.patch("/api/v1/channels/email", json={"enabled": False}).status_code == 200
    config = load_config(team.db.config_path)
    assert config.channels["email"].enabled is False
    later = Item(source="seeds", key="late-2", title="Baku frees more", text="Baku frees more")
    with team.db.open() as store:
        (hit,) = record(store, config, [Entry(item=later, matches=[match])], now).hits
        assert {d.channel for d in store.deliveries_for_hit(hit.id)} == {"console"}
        with open("/dev/null", "w") as quiet:  # the console channel prints every alert
            dispatcher = Dispatcher(config, store, clock=lambda: now, console=quiet)
            for _ in range(100):  # the database's older rows go first, a batch at a time
                if not dispatcher.run_once().claimed:
                    break
        email = next(d for d in store.deliveries_for_hit(queued.id) if d.channel == "email")
    assert (email.status, email.last_error) == ("failed", "channel 'email' is disabled")
    assert smtp.messages == []


def test_channels_need_an_admin_and_a_config_file(team, hits_db):
    for role in ("viewer", "analyst"):
        with team.client(role) as c:
            assert c.get("/api/v1/channels").status_code == 403
            assert c.post("/api/v1/channels/console/test").status_code == 403
    from helpers_hits import serve_review_page

    with serve_review_page(hits_db) as served:  # no config file behind it: nothing to edit
        import httpx

        bearer = {"Authorization": f"Bearer {team.tokens['admin']}"}
        r = httpx.get(served.url + "/api/v1/channels", headers=bearer)
    assert r.status_code == 409 and "not started from a config file" in r.json()["detail"]
