"""The team web app in real Chromium beside a real running daemon: sign in as each role,
edit a rule with live checking, try it, save it and see the daemon fire it on a new feed
item (shown on the open hit list without a reload), add a source and see its first items,
silence a rule from its page, read a rule's Atom feed.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from werkzeug.wrappers import Response

from helpers_hits import HitsDB, serve_review_page
from helpers_ops import MonitorProcess
from monitor.config import load_config
from monitor.store import Store
from test_web_browser import CHROMIUM, browser  # noqa: F401 (fixture)
from web_helpers import PASSWORD, RULE_FILE, add_team

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]

OTTER_RULE = """\
  - id: otter-watch
    title: Otters on the river
    severity: {severity}
    match:
      any: [otter]
"""


class Feed:
    """An RSS feed on the local test server whose items a test can add to."""

    def __init__(self, title: str):
        self.title, self.items = title, []

    def add(self, key: str, title: str, text: str) -> None:
        self.items.append((key, title, text, datetime.now(timezone.utc)))

    def __call__(self, request) -> Response:
        entries = "".join(
            f"<item><title>{t}</title><link>https://example.org/{k}</link><guid>{k}</guid>"
            f"<description>{x}</description><pubDate>{format_datetime(d)}</pubDate></item>"
            for k, t, x, d in self.items
        )
        body = f"<?xml version='1.0'?><rss version='2.0'><channel><title>{self.title}</title>{entries}</channel></rss>"
        return Response(body, content_type="application/rss+xml")


def wait_until(check, timeout: float = 30.0, what: str = "it"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout}s")


@pytest.fixture
def deployment(tmp_path: Path, httpserver):
    wire, second = Feed("wire"), Feed("second")
    wire.add("w1", "River report", "Ducks and a quillwort by the river.")
    second.add("s1", "First item of the second feed", "Nothing about animals.")
    httpserver.expect_request("/wire.xml").respond_with_handler(wire)
    httpserver.expect_request("/second.xml").respond_with_handler(second)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "plants.yaml").write_text(RULE_FILE, encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""\
# the deployment's config: this comment must survive edits from the page
storage:
  path: monitor.db
rules:
  paths: [rules]
http:
  allow_private_networks: true   # the feeds are on this machine's loopback
sources:
  - name: wire
    kind: feed
    url: {httpserver.url_for("/wire.xml")}
    interval: 1s
channels:
  console: {{type: console}}
routes:
  - channels: [console]
notify: {{interval: 1s}}
daemon: {{watch_interval: 0.2s, heartbeat: 1s, stop_timeout: 10s}}
web: {{live_interval: 1s}}
""",
        encoding="utf-8",
    )
    Store(tmp_path / "monitor.db").close()
    db = HitsDB(path=tmp_path / "monitor.db", config_path=config, now=datetime.now(timezone.utc))
    tokens = add_team(db)
    with MonitorProcess(tmp_path, config) as daemon:
        daemon.wait_for("monitor running")
        with serve_review_page(db, config=load_config(config), poll=True) as served:
            yield served, daemon, tokens, wire, second, httpserver
        daemon.stop()


def sign_in(browser, url: str, role: str):  # noqa: F811
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(10000)
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.goto(url + "/rules")
    page.wait_for_url("**/login?next=/rules")
    page.fill("input[name=name]", role)
    page.fill("input[name=password]", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(url + "/rules")
    assert page.locator(".who").inner_text() == role
    return page


def test_each_role_sees_only_what_it_may(browser, deployment):  # noqa: F811
    served, *_ = deployment
    seen = {}
    for role in ("viewer", "analyst", "admin"):
        page = sign_in(browser, served.url, role)
        can = {"new file": page.locator("#new-file").count() == 1}
        page.goto(served.url + "/rules/quillwort-watch")
        can["silence"] = page.locator("#silence").count() == 1
        page.goto(served.url + "/rules/files/plants.yaml/edit")
        can["save"] = page.locator("#save").count() == 1
        page.goto(served.url + "/sources")
        can["retry"] = page.locator("button.retry").count() == 1
        can["add source"] = page.locator("#add-source").count() == 1
        can["channels"] = page.locator("#nav-channels").count() == 1
        can["users"] = page.locator("#nav-users").count() == 1
        assert page.errors == [], page.errors
        answer = page.goto(served.url + "/users")  # last: a refusal is a console error
        can["manage users"] = answer.status == 200 and page.locator("#add-user").count() == 1
        if not can["manage users"]:
            assert answer.status == 403 and "needs the admin role" in page.content()
        seen[role] = {k for k, v in can.items() if v}
        page.context.close()
    assert seen == {
        "viewer": set(),
        "analyst": {"new file", "silence", "save", "retry"},
        "admin": {
            "new file",
            "silence",
            "save",
            "retry",
            "add source",
            "channels",
            "users",
            "manage users",
        },
    }


def test_edit_check_try_save_and_the_daemon_fires_it(browser, deployment, tmp_path: Path):  # noqa: F811
    served, daemon, tokens, wire, *_ = deployment
    inbox = sign_in(browser, served.url, "analyst")
    inbox.goto(
        served.url + "/"
    )  # the hit list stays open: new hits must appear in it by themselves
    editor = inbox.context.new_page()
    editor.set_default_timeout(10000)
    editor.goto(served.url + "/rules/files/plants.yaml/edit")
    text = editor.locator("#yaml")
    text.click()
    editor.keyboard.press("Control+End")
    editor.keyboard.insert_text(OTTER_RULE.format(severity="huge"))
    problem = editor.locator("#problems li").first
    problem.wait_for()
    assert re.match(
        rf"{re.escape(str(tmp_path / 'rules' / 'plants.yaml'))}:\d+:\d+: rule 'otter-watch': severity",
        problem.inner_text(),
    )
    text.fill(text.input_value().replace("severity: huge", "severity: high"))
    editor.locator("#checked", has_text="No problems").wait_for()
    assert editor.locator("#problems li").count() == 0
    editor.fill("#try-text", "An otter was seen near the weir at dawn.")
    editor.click("#try")
    editor.wait_for_selector("#try-result li")
    assert (
        editor.locator("#try-result li").first.inner_text().startswith("otter-watch (high, active)")
    )
    assert (
        "otter-watch" not in (tmp_path / "rules" / "plants.yaml").read_text()
    )  # nothing saved yet
    mark = daemon.mark()
    editor.click("#save")
    editor.wait_for_selector("#saved")
    saved = (tmp_path / "rules" / "plants.yaml").read_text()
    assert "otter-watch" in saved and "# the rare fern" in saved  # the comments are kept
    daemon.wait_for("reloaded", since=mark)
    wire.add("w2", "Otter spotted at the weir", "An otter was seen near the weir at dawn.")
    fresh = inbox.locator("#fresh li", has_text="Otter spotted at the weir")
    fresh.wait_for(timeout=30000)
    with Store(served.db.path) as store:
        (hit,) = store.list_hits(rule=["otter-watch"])
    assert fresh.get_attribute("data-id") == str(hit.id)
    assert inbox.locator("#live-count").inner_text() == "1"
    assert inbox.errors == [], inbox.errors
    inbox.context.close()


def test_add_a_source_and_see_its_first_items(browser, deployment, tmp_path: Path):  # noqa: F811
    served, daemon, tokens, wire, second, httpserver = deployment
    page = sign_in(browser, served.url, "admin")
    page.goto(served.url + "/sources")
    mark = daemon.mark()
    page.fill("#add-source input[name=name]", "second")
    page.fill("#add-source input[name=url]", httpserver.url_for("/second.xml"))
    page.fill("#add-source input[name=interval]", "1s")
    page.click("#add-source button[type=submit]")
    page.wait_for_selector("#added")
    config = (tmp_path / "config.yaml").read_text()
    assert (
        "# the deployment's config: this comment must survive" in config
        and "name: second" in config
    )
    daemon.wait_for("reloaded", since=mark)

    def items_of_second():
        page.reload()
        row = page.locator("tr", has=page.locator("strong", has_text=re.compile(r"^second$")))
        return row.count() == 1 and int(row.locator("td.n").all_inner_texts()[-1]) > 0

    wait_until(items_of_second, what="the new source's first items")
    # retry now: polls at once and says what came of it
    page.click("button.retry[data-source=second]")
    page.wait_for_selector("#retried")
    assert page.locator("#retried").inner_text().startswith("Polled second now: 0 new items")
    page.context.close()


def test_silence_a_rule_from_its_page_and_read_its_feed(browser, deployment):  # noqa: F811
    served, daemon, tokens, *_ = deployment
    page = sign_in(browser, served.url, "analyst")
    wait_until(
        lambda: Store(served.db.path).list_hits(rule=["quillwort-watch"]), what="the quillwort hit"
    )
    page.goto(served.url + "/rules/quillwort-watch")
    page.fill("#silence-form input[name=comment]", "survey week")
    page.click("#silence")
    page.wait_for_selector(".silence")
    assert "by analyst: survey week" in page.locator(".silence").inner_text()
    with Store(served.db.path) as store:
        assert [s.comment for s in store.list_silences(datetime.now(timezone.utc))] == [
            "survey week"
        ]
    # the rule's Atom feed, as a reader would fetch it with the user's token
    feed = page.context.request.get(
        served.url + "/feeds/hits.atom",
        params={"rule": "quillwort-watch", "token": tokens["viewer"]},
    )
    assert feed.status == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.body())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert titles == ["[high] River report"]
    link = root.find("a:entry/a:link[@rel='alternate']", ns).get("href")
    page.goto(link)
    assert page.locator("h1").inner_text() == "River report"
    assert (
        page.context.request.get(served.url + "/feeds/hits.atom", params={"token": "wrong"}).status
        == 401
    )
    page.context.close()


def test_an_admin_tests_disables_and_adds_channels(
    browser, deployment, tmp_path: Path, monkeypatch
):  # noqa: F811
    served, daemon, *_ = deployment
    config_file = tmp_path / "config.yaml"
    page = sign_in(browser, served.url, "admin")
    page.click("#nav-channels")
    page.wait_for_url(served.url + "/channels")
    row = page.locator("tr[data-channel=console]")
    assert row.locator(".health").inner_text() == "enabled"
    row.locator("button.test").click()
    page.wait_for_selector("#tested")
    assert page.locator("#tested li").all_inner_texts() == ["console: delivered"]
    mark = daemon.mark()
    page.locator("tr[data-channel=console] button.toggle").click()
    page.wait_for_selector("#saved")
    assert page.locator("tr[data-channel=console] .health").inner_text() == "disabled"
    text = config_file.read_text()
    assert (
        "# the deployment's config: this comment must survive" in text and "enabled: false" in text
    )
    daemon.wait_for("reloaded", since=mark)
    # a secret written out is refused, and the form keeps what was typed
    page.fill("#add-channel input[name=name]", "team-mail")
    page.fill(
        "#add-channel textarea[name=urls]",
        "mailtos://alerts:swordfish99@smtp.example.org?to=team@example.org",
    )
    page.click("#add-channel button[type=submit]")
    problem = page.locator("#problems li").first
    problem.wait_for()
    assert "a secret is written out in it" in problem.inner_text()
    assert "swordfish99" not in config_file.read_text()
    # written as a reference it is saved, and shown as the reference
    monkeypatch.setenv("TEAM_SMTP_PASSWORD", "not-shown-anywhere")
    page.fill(
        "#add-channel textarea[name=urls]",
        "mailtos://alerts:${TEAM_SMTP_PASSWORD}@smtp.example.org?to=team@example.org",
    )
    page.click("#add-channel button[type=submit]")
    page.wait_for_selector("#saved")
    urls = page.locator("tr[data-channel=team-mail] .url").all_inner_texts()
    assert urls == ["mailtos://alerts:${TEAM_SMTP_PASSWORD}@smtp.example.org?to=team@example.org"]
    assert "not-shown-anywhere" not in page.content()
    assert "${TEAM_SMTP_PASSWORD}" in config_file.read_text()
    # the one refusal (422) is all the browser reported
    assert page.errors == ["Failed to load resource: the server responded with a status of 422 ()"]
    page.context.close()


def test_an_admin_adds_an_account_issues_its_token_and_disables_it(browser, deployment):  # noqa: F811
    import httpx

    served, *_ = deployment
    page = sign_in(browser, served.url, "admin")
    page.goto(served.url + "/users")
    page.fill("#add-user input[name=name]", "nina")
    page.select_option("#add-user select[name=role]", "analyst")
    page.fill("#add-user input[name=password]", "correct horse battery staple")
    page.click("#add-user button[type=submit]")
    page.wait_for_selector("#done")
    row = page.locator("tr[data-user=nina]")
    assert row.locator("select[name=role]").input_value() == "analyst"
    row.locator("button.issue").click()
    page.wait_for_selector("#secret")
    token = page.locator("#secret code").inner_text().strip()
    api = {"Authorization": f"Bearer {token}"}
    assert httpx.get(served.url + "/api/v1/hits?limit=1", headers=api).status_code == 200
    page.goto(served.url + "/users")  # the token is shown once, never again
    assert token not in page.content()
    assert page.locator("tr[data-user=nina] .tokens").inner_text() == "1"
    page.locator("tr[data-user=nina] button.toggle").click()
    page.wait_for_selector("#done")
    assert page.locator("tr[data-user=nina] .health").inner_text() == "disabled"
    assert httpx.get(served.url + "/api/v1/hits?limit=1", headers=api).status_code == 401
    assert page.errors == [], page.errors
    page.context.close()
