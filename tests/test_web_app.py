"""The review page over HTTP: a real local server on a real database, driven with httpx."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import httpx
import pytest
from click.testing import CliRunner

from helpers_hits import FAILING_SOURCE, QUILLWORT_KEY, XSS_TITLE, HitsDB, serve_review_page
from monitor.cli import cli
from monitor.errors import ConfigError
from monitor.models import Item, RuleMatch
from monitor.config import ChannelConfig, Config, RouteConfig
from monitor.models import Entry
from monitor.pipeline import record
from monitor.web.app import Access
from monitor.web.server import access_from_env, is_loopback


@pytest.fixture
def hits_db(hits_db_both: HitsDB) -> HitsDB:
    """The review page on each backend: SQLite and PostgreSQL."""
    return hits_db_both


def ids_in(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="hit [^"]*" data-id="(\d+)"', html)]


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def newest_first(rows):
    return [h["id"] for h in sorted(rows, key=lambda h: (h["created_at"], h["id"]), reverse=True)]


@pytest.fixture
def site(hits_db: HitsDB):
    with (
        serve_review_page(hits_db) as served,
        httpx.Client(base_url=served.url, timeout=10) as client,
    ):
        yield served, client


def test_list_defaults_to_new_hits_newest_first_with_paging(site):
    served, client = site
    r = client.get("/")
    assert r.status_code == 200
    new = newest_first(served.db.where(status="new"))
    assert ids_in(r.text) == new[:50]
    assert f"1–50 of {len(new)}" in r.text
    page2 = client.get("/", params={"page": 2})
    assert ids_in(page2.text) == new[50:100]
    everything = client.get("/", params={"status": "all"})
    assert f"of {len(served.db.hits)}" in everything.text


def test_filters_and_full_text_search(site):
    served, client = site
    r = client.get(
        "/", params={"severity": "high", "source": "seeds", "since": "7d", "status": "all"}
    )
    expected = [
        h
        for h in served.db.hits
        if h["severity"] == "high"
        and h["source"] == "seeds"
        and h["created_at"] >= served.db.now - timedelta(days=7)
    ]
    assert expected and ids_in(r.text) == newest_first(expected)[:50]
    (target,) = [h for h in served.db.hits if h["key"] == QUILLWORT_KEY]
    found = client.get("/", params={"q": "quillwort", "status": "all"})
    assert ids_in(found.text) == [target["id"]]
    by_tag = client.get("/", params={"tag": "csto", "status": "all"})
    assert set(ids_in(by_tag.text)) <= {h["id"] for h in served.db.where(rule="eaeu-pressure")}
    assert client.get("/", params={"since": "whenever"}).status_code == 400


def test_detail_shows_item_rule_marks_and_deliveries(site):
    served, client = site
    with served.db.open() as store:
        failed = store.query("SELECT hit_id FROM outbox WHERE status = 'failed' LIMIT 1")[0][
            "hit_id"
        ]
    h = next(h for h in served.db.hits if h["id"] == failed)
    r = client.get(f"/hits/{failed}")
    assert r.status_code == 200
    for expected in (h["rule"], h["source"], "SMTP 550: mailbox unavailable", "email", "console"):
        assert expected in r.text
    assert f'href="{h["url"]}"' in r.text
    assert "<mark>" in r.text
    assert client.get("/hits/999999").status_code == 404


def test_item_text_is_escaped_and_script_links_are_not_clickable(site):
    served, client = site
    (xss,) = [h for h in served.db.hits if h["title"] == XSS_TITLE]
    for page in (f"/hits/{xss['id']}", "/?" + "q=owned&status=all"):
        r = client.get(page)
        assert r.status_code == 200
        assert "<script>alert" not in r.text and "<img src=x" not in r.text
        assert 'href="javascript:' not in r.text
    assert (
        "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;"
        in client.get(f"/hits/{xss['id']}").text
    )
    csp = client.get("/").headers["content-security-policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp


def test_ack_needs_the_csrf_token_and_records_who(site):
    served, client = site
    hit_id = served.db.where(status="new")[0]["id"]
    page = client.get(f"/hits/{hit_id}")
    token = csrf_of(page.text)
    # no token, a wrong token, a foreign origin: refused, nothing written
    assert client.post(f"/hits/{hit_id}/ack", data={}).status_code == 403
    assert client.post(f"/hits/{hit_id}/ack", data={"csrf": "x" * 43}).status_code == 403
    foreign = client.post(
        f"/hits/{hit_id}/ack", data={"csrf": token}, headers={"Origin": "http://evil.example"}
    )
    assert foreign.status_code == 403
    # another client (no cookie) replaying the token
    with httpx.Client(base_url=served.url) as other:
        assert other.post(f"/hits/{hit_id}/ack", data={"csrf": token}).status_code == 403
    with served.db.open() as store:
        assert store.get_hit(hit_id).status == "new"
    r = client.post(
        f"/hits/{hit_id}/ack",
        data={"csrf": token, "next": f"/hits/{hit_id}"},
        headers={"Origin": served.url},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/hits/{hit_id}"
    with served.db.open() as store:
        row = store.get_hit_row(hit_id)
    assert (row.hit.status, row.status_by) == ("acked", "tester")
    assert "acknowledged" in client.get(f"/hits/{hit_id}").text


def test_dismiss_note_reopen_and_bulk(site):
    served, client = site
    a, b, c = (h["id"] for h in served.db.where(status="new")[:3])
    token = csrf_of(client.get("/").text)
    assert (
        client.post(f"/hits/{a}/dismiss", data={"csrf": token, "reason": "nonsense"}).status_code
        == 400
    )
    client.post(
        f"/hits/{a}/dismiss",
        data={"csrf": token, "reason": "duplicate", "note": "same as the wire"},
    )
    client.post(f"/hits/{a}/note", data={"csrf": token, "text": "<b>checked</b> twice"})
    assert client.post(f"/hits/{a}/note", data={"csrf": token, "text": "  "}).status_code == 400
    r = client.post(
        "/hits/bulk",
        data={"csrf": token, "action": "ack", "ids": [str(b), str(c)], "next": "/?status=new"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/?status=new"
    evil_next = client.post(f"/hits/{b}/reopen", data={"csrf": token, "next": "//evil.example/"})
    assert evil_next.headers["location"] == f"/hits/{b}"
    with served.db.open() as store:
        assert (store.get_hit(a).status, store.get_hit_row(a).status_reason) == (
            "dismissed",
            "duplicate",
        )
        assert [n.action for n in store.hit_notes(a)] == ["dismiss", "note"]
        assert (store.get_hit(b).status, store.get_hit(c).status) == ("new", "acked")
    detail = client.get(f"/hits/{a}").text
    assert "&lt;b&gt;checked&lt;/b&gt; twice" in detail and "same as the wire" in detail


def test_sees_what_the_daemon_writes_while_it_runs(site):
    served, client = site
    client.get("/")
    with served.db.open() as daemon_store:  # another connection, as the daemon's
        item = Item(
            source="caucasus-wire",
            key="fresh-1",
            title="Fresh: Baku release confirmed",
            text="Officials in Baku confirmed the release.",
            url="https://caucasus-wire.example.org/fresh",
        )
        match = RuleMatch(
            rule_id="detainees-release",
            rule_title="Russians jailed in Baku",
            severity="critical",
            terms=("Baku", "release"),
            spans=((7, 11), (12, 19)),
            snippet="**Baku** **release**",
        )
        now = served.db.now + timedelta(minutes=1)
        to_console = Config(
            channels={"console": ChannelConfig(type="console")},
            routes=[RouteConfig(channels=["console"])],
        )
        (hit,) = record(daemon_store, to_console, [Entry(item=item, matches=[match])], now=now).hits
    assert ids_in(client.get("/").text)[0] == hit.id


def test_rules_and_sources_pages(site):
    served, client = site
    rules = client.get("/rules").text
    noise = served.db.where(rule="stock-noise")
    share = round(100 * len([h for h in noise if h["status"] == "dismissed"]) / len(noise))
    assert re.search(rf"stock-noise.*?{share}%", rules, re.S)
    assert "quiet-rule" in rules and "never" in rules
    sources = client.get("/sources").text
    assert (
        FAILING_SOURCE in sources
        and "failing" in sources
        and "HTTP 503 Service Unavailable" in sources
    )


def test_unknown_pages_and_methods(site):
    _, client = site
    assert client.get("/nope").status_code == 404
    assert client.post("/rules").status_code == 405
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/..%2fapp.py").status_code == 404


def test_password_protects_every_page_and_names_the_user(hits_db: HitsDB):
    access = Access(password="s3cret")
    with serve_review_page(hits_db, access=access) as served:
        anon = httpx.get(served.url + "/")
        assert anon.status_code == 401 and anon.headers["www-authenticate"].startswith("Basic")
        assert httpx.get(served.url + "/", auth=("anna", "wrong")).status_code == 401
        with httpx.Client(base_url=served.url, auth=("anna", "s3cret")) as client:
            page = client.get("/")
            assert page.status_code == 200 and ">anna<" in page.text
            hit_id = ids_in(page.text)[0]
            client.post(f"/hits/{hit_id}/ack", data={"csrf": csrf_of(page.text)})
        with served.db.open() as store:
            assert store.get_hit_row(hit_id).status_by == "anna"


def test_token_by_header_or_login_cookie(hits_db: HitsDB):
    with serve_review_page(hits_db, access=Access(token="t0ken-abc")) as served:
        assert httpx.get(served.url + "/rules").status_code == 401
        assert (
            httpx.get(
                served.url + "/rules", headers={"Authorization": "Bearer t0ken-abc"}
            ).status_code
            == 200
        )
        with httpx.Client(base_url=served.url, follow_redirects=True) as client:
            assert client.get("/login", params={"token": "wrong"}).status_code == 401
            assert client.get("/login", params={"token": "t0ken-abc"}).status_code == 200
            assert client.get("/sources").status_code == 200


def test_public_address_needs_a_secret():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    with pytest.raises(ConfigError, match="MONITOR_WEB_PASSWORD"):
        access_from_env("0.0.0.0", {})
    assert access_from_env("0.0.0.0", {"MONITOR_WEB_PASSWORD": "pw"}).password == "pw"
    assert access_from_env("127.0.0.1", {}).open
    # a secret, once set, is required on loopback too
    assert not access_from_env("127.0.0.1", {"MONITOR_WEB_TOKEN": "t"}).open


def test_web_command_refuses_a_public_address_without_a_secret(hits_db: HitsDB):
    result = CliRunner().invoke(
        cli,
        ["--config", str(hits_db.config_path), "web", "--host", "0.0.0.0", "--port", "0"],
        env={"MONITOR_WEB_PASSWORD": "", "MONITOR_WEB_TOKEN": ""},
    )
    assert result.exit_code == 2
    assert "refusing to serve the review page on 0.0.0.0" in result.output


def test_basic_auth_header_garbage_is_refused(hits_db: HitsDB):
    with serve_review_page(hits_db, access=Access(password="pw")) as served:
        bad = base64.b64encode(b"\xff\xfe").decode()
        assert (
            httpx.get(served.url + "/", headers={"Authorization": f"Basic {bad}"}).status_code
            == 401
        )
