"""The rule pages without a script: save through the form (refused when broken), a new file
from the template, drafts from a pasted brief, silencing a rule from its page."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from conftest import ROOT
from helpers_hits import HitsDB
from test_web_api import BAD_RULE
from web_helpers import PASSWORD, RULE_FILE, csrf_of, serve_team


@pytest.fixture
def analyst(hits_db: HitsDB):
    with serve_team(hits_db) as team, httpx.Client(base_url=team.url, timeout=30) as browser:
        token = csrf_of(browser.get("/login").text)
        browser.post("/login", data={"csrf": token, "name": "analyst", "password": PASSWORD})
        yield team, browser, token


def test_a_broken_save_is_refused_and_shown(analyst):
    team, browser, token = analyst
    target = team.rules_dir / "plants.yaml"
    page = browser.get("/rules/files/plants.yaml/edit")
    assert page.status_code == 200 and "# the rare fern" in page.text
    r = browser.post("/rules/files/plants.yaml/edit", data={"csrf": token, "text": BAD_RULE})
    assert r.status_code == 422
    assert f"{target}:5:5: rule &#39;quillwort-watch&#39;: severity" in r.text
    assert "severity: extreme" in r.text  # what was typed is kept on the page
    assert target.read_text(encoding="utf-8") == RULE_FILE
    fixed = BAD_RULE.replace("extreme", "critical")
    ok = browser.post("/rules/files/plants.yaml/edit", data={"csrf": token, "text": fixed})
    assert (
        ok.status_code == 303 and ok.headers["location"] == "/rules/files/plants.yaml/edit?saved=1"
    )
    assert target.read_text(encoding="utf-8") == fixed
    assert (
        browser.post("/rules/files/plants.yaml/edit", data={"text": fixed}).status_code == 403
    )  # no CSRF token


def test_a_new_file_from_the_template_checks_clean(analyst):
    team, browser, token = analyst
    page = browser.get("/rules/new", params={"file": "otters.yaml"})
    assert page.status_code == 200
    template = html.unescape(
        re.search(r'<textarea name="text" id="yaml"[^>]*>(.*?)</textarea>', page.text, re.S).group(
            1
        )
    )
    assert "id: otters" in template
    saved = browser.post("/rules/files/otters.yaml/edit", data={"csrf": token, "text": template})
    assert saved.status_code == 303
    assert (team.rules_dir / "otters.yaml").read_text(encoding="utf-8") == template
    assert (
        browser.post(
            "/rules/files/..%2Fescape.yaml/edit", data={"csrf": token, "text": template}
        ).status_code
        == 400
    )
    assert not (team.rules_dir.parent / "escape.yaml").exists()


def test_drafts_from_a_pasted_brief(analyst):
    team, browser, token = analyst
    seed = sorted((ROOT / "seeds").glob("*.txt"))[0]
    r = browser.post(
        "/rules/derive",
        data={"csrf": token, "brief": seed.read_text(encoding="utf-8"), "file": "drafts.yaml"},
    )
    assert r.status_code == 200
    assert (
        "status: draft" in r.text
        and "Draft rules derived from a brief pasted in the review page" in r.text
    )
    assert not (team.rules_dir / "drafts.yaml").exists()  # a draft is only saved when you save it


def test_silence_from_the_rule_page(analyst):
    team, browser, token = analyst
    page = browser.get("/rules/quillwort-watch")
    assert "# the rare fern" in page.text and "Not silenced" in page.text
    r = browser.post(
        "/rules/quillwort-watch/silence",
        data={"csrf": token, "hours": "6", "comment": "field trip"},
    )
    assert r.status_code == 303
    assert "by analyst: field trip" in browser.get("/rules/quillwort-watch").text
    assert (
        browser.post(
            "/rules/quillwort-watch/silence", data={"csrf": token, "hours": "6", "comment": ""}
        ).status_code
        == 400
    )
    assert (
        browser.post(
            "/rules/nope/silence", data={"csrf": token, "hours": "6", "comment": "x"}
        ).status_code
        == 404
    )
    assert browser.get("/rules/nope").status_code == 404
