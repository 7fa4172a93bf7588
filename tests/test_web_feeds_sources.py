"""Atom feeds of hits, and sources added, edited, enabled and polled from the web app
(the config file rewritten with its comments, refused when it would not load)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import httpx
import pytest

from helpers_hits import XSS_TITLE, HitsDB
from monitor.config import load_config
from web_helpers import serve_team

NS = {"a": "http://www.w3.org/2005/Atom"}
CONFIG = """\
# team config: keep this comment
storage:
  path: monitor.db
rules:
  paths: [rules]   # the rule folder
http:
  allow_private_networks: true
sources:
  - name: wire     # the main wire
    kind: feed
    url: {url}
    interval: 30m
"""


@pytest.fixture
def team(hits_db: HitsDB):
    with serve_team(hits_db) as t:
        yield t


def entries(body: bytes) -> list[ET.Element]:
    return ET.fromstring(body).findall("a:entry", NS)


def test_atom_feed_per_rule_tag_and_severity(team):
    token = team.tokens["viewer"]
    r = httpx.get(team.url + "/feeds/hits.atom", params={"rule": "eaeu-pressure", "token": token})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    got = [int(e.findtext("a:id", namespaces=NS).rsplit("/", 1)[1]) for e in entries(r.content)]
    expected = sorted(
        team.db.where(rule="eaeu-pressure"), key=lambda h: (h["created_at"], h["id"]), reverse=True
    )
    assert got == [h["id"] for h in expected][:100]
    by_tag = httpx.get(
        team.url + "/feeds/hits.atom", params={"tag": "csto", "token": token}
    ).content
    assert {c.get("term") for e in entries(by_tag) for c in e.findall("a:category", NS)} >= {"csto"}
    crit = httpx.get(
        team.url + "/feeds/hits.atom", params={"severity": "critical", "token": token}
    ).content
    assert entries(crit) and all(
        e.findtext("a:title", namespaces=NS).startswith("[critical]") for e in entries(crit)
    )


def test_atom_feed_needs_a_token_and_escapes_item_text(team):
    assert httpx.get(team.url + "/feeds/hits.atom").status_code == 401
    assert httpx.get(team.url + "/feeds/hits.atom", params={"token": "wrong"}).status_code == 401
    (xss,) = [h for h in team.db.hits if h["title"] == XSS_TITLE]
    r = httpx.get(
        team.url + "/feeds/hits.atom",
        params={"token": team.tokens["viewer"], "rule": xss["rule"], "source": xss["source"]},
    )
    assert "<script>" not in r.text and "&lt;script&gt;" in r.text
    titles = [
        e.findtext("a:title", namespaces=NS) for e in entries(r.content)
    ]  # parses: well-formed
    assert f"[{xss['severity']}] {XSS_TITLE}" in titles
    javascript_links = [
        ln
        for e in entries(r.content)
        for ln in e.findall("a:link", NS)
        if ln.get("href", "").startswith("javascript:")
    ]
    assert javascript_links == []


def test_sources_added_edited_and_refused_keeping_the_config_comments(hits_db: HitsDB, httpserver):
    httpserver.expect_request("/wire.xml").respond_with_data(
        "<?xml version='1.0'?><rss version='2.0'><channel><title>w</title><item><title>Quillwort found</title>"
        "<link>https://example.org/q</link><guid>q1</guid></item></channel></rss>",
        content_type="application/rss+xml",
    )
    with serve_team(hits_db) as team:
        team.db.config_path.write_text(
            CONFIG.format(url=httpserver.url_for("/wire.xml")), encoding="utf-8"
        )
    # serve again with the config that has a source
    from helpers_hits import serve_review_page

    with (
        serve_review_page(hits_db, config=load_config(hits_db.config_path), poll=True) as served,
        httpx.Client(
            base_url=served.url, headers={"Authorization": f"Bearer {team.tokens['admin']}"}
        ) as admin,
    ):
        added = admin.post(
            "/api/v1/sources",
            json={"name": "second", "url": "https://example.org/feed", "interval": "1h"},
        )
        assert added.status_code == 201 and added.json()["interval"] == 3600
        text = hits_db.config_path.read_text()
        assert (
            "# team config: keep this comment" in text
            and "# the main wire" in text
            and "# the rule folder" in text
        )
        assert [s.name for s in load_config(hits_db.config_path).sources] == ["wire", "second"]
        assert (
            admin.post(
                "/api/v1/sources", json={"name": "second", "url": "https://example.org/x"}
            ).status_code
            == 422
        )
        bad = admin.patch("/api/v1/sources/second", json={"interval": "-5s"})
        assert bad.status_code == 422
        assert (
            bad.json()["detail"][0].startswith(f"{hits_db.config_path}:")
            and "interval" in bad.json()["detail"][0]
        )
        assert hits_db.config_path.read_text() == text  # refused: left as it was
        off = admin.patch("/api/v1/sources/second", json={"enabled": False})
        assert off.status_code == 200 and off.json()["enabled"] is False
        assert load_config(hits_db.config_path).source("second").enabled is False
        assert admin.patch("/api/v1/sources/nope", json={"enabled": True}).status_code == 404
        # retry now: the source is polled at once and its outcome returned
        retried = admin.post("/api/v1/sources/wire/retry")
        assert retried.status_code == 200, retried.text
        assert (
            retried.json()["ok"] is True
            and retried.json()["new_items"] == 1
            and retried.json()["hits"] == 1
        )
        # a source the daemon disabled (HTTP 410, say) is polled again once re-enabled
        served.store.disable_source("wire", "HTTP 410 Gone", datetime.now(timezone.utc))
        assert admin.post("/api/v1/sources/wire/retry").json()["error"] == "disabled: HTTP 410 Gone"
        again = admin.patch("/api/v1/sources/wire", json={"enabled": True})
        assert again.status_code == 200 and again.json()["reenabled"] is True
        assert admin.post("/api/v1/sources/wire/retry").json()["ok"] is True
        listed = {s["name"]: s for s in admin.get("/api/v1/sources").json()["sources"]}
        assert listed["wire"]["disabled_reason"] is None and listed["wire"]["last_success_at"]
        assert listed["second"]["enabled"] is False
    with hits_db.open() as store:
        assert [(e["target"], e["action"], e["by"]) for e in store.list_edits("source")] == [
            ("wire", "retry", "admin"),
            ("wire", "enable", "admin"),
            ("wire", "retry", "admin"),
            ("wire", "retry", "admin"),
            ("second", "disable", "admin"),
            ("second", "add", "admin"),
        ]
