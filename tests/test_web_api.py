"""The JSON API: every endpoint, as each role and as nobody, on a real server and database."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from helpers_hits import HitsDB
from web_helpers import RULE_FILE, ROLES, serve_team

BAD_RULE = RULE_FILE.replace("severity: high", "severity: extreme")


# the keys of a hit in GET /api/v1/hits: the contract scripts rely on
HIT_KEYS = {
    "id",
    "title",
    "url",
    "rule",
    "rules",
    "severity",
    "source",
    "published",
    "status",
    "snippet",
}


@pytest.fixture
def team(hits_db: HitsDB):
    with serve_team(hits_db, "channels:\n  console: {type: console}\n") as t:
        yield t


def some_hit(team, status="new") -> int:
    return team.db.where(status=status)[0]["id"]


# (method, path, json body, the least role that may) — every endpoint of the API
def endpoints(team):
    hit = some_hit(team)
    return [
        ("GET", "/api/v1/hits?status=new&limit=5", None, "viewer"),
        ("GET", f"/api/v1/hits/{hit}", None, "viewer"),
        ("POST", f"/api/v1/hits/{hit}/ack", {"note": "seen"}, "analyst"),
        ("POST", f"/api/v1/hits/{hit}/reopen", {}, "analyst"),
        ("POST", f"/api/v1/hits/{hit}/dismiss", {"reason": "duplicate"}, "analyst"),
        ("POST", f"/api/v1/hits/{hit}/note", {"text": "a note"}, "analyst"),
        ("POST", "/api/v1/hits/bulk", {"ids": [hit], "action": "reopen"}, "analyst"),
        ("GET", "/api/v1/rules", None, "viewer"),
        ("GET", "/api/v1/rules/quillwort-watch", None, "viewer"),
        ("GET", "/api/v1/rules/files/plants.yaml", None, "viewer"),
        ("PUT", "/api/v1/rules/files/plants.yaml", {"text": RULE_FILE}, "analyst"),
        ("POST", "/api/v1/rules/check", {}, "viewer"),
        ("POST", "/api/v1/rules/test", {"text": "quillwort"}, "viewer"),
        ("POST", "/api/v1/rules/backtest", {"days": 7}, "viewer"),
        ("GET", "/api/v1/sources", None, "viewer"),
        ("POST", "/api/v1/sources/test", {"url": "http://127.0.0.1:9/feed"}, "admin"),
        (
            "POST",
            "/api/v1/sources",
            {"name": "new-wire", "url": "https://example.org/rss"},
            "admin",
        ),
        ("PATCH", "/api/v1/sources/new-wire", {"enabled": False}, "admin"),
        ("POST", "/api/v1/sources/no-such/retry", None, "analyst"),
        ("GET", "/api/v1/silences", None, "viewer"),
        (
            "POST",
            "/api/v1/silences",
            {"rule": "quillwort-watch", "hours": 2, "comment": "busy"},
            "analyst",
        ),
        ("GET", "/api/v1/status", None, "viewer"),
        ("GET", "/api/v1/channels", None, "admin"),
        ("GET", "/api/v1/channels/console", None, "admin"),
        ("POST", "/api/v1/channels", {"name": "pager", "type": "console"}, "admin"),
        ("PATCH", "/api/v1/channels/pager", {"enabled": False}, "admin"),
        ("POST", "/api/v1/channels/console/test", None, "admin"),
        ("GET", "/api/v1/users", None, "admin"),
        ("GET", "/api/v1/users/viewer", None, "admin"),
        (
            "POST",
            "/api/v1/users",
            {"name": "newcomer", "role": "viewer", "password": "long enough password"},
            "admin",
        ),
        ("PATCH", "/api/v1/users/newcomer", {"role": "analyst"}, "admin"),
        ("POST", "/api/v1/users/newcomer/password", {}, "admin"),
        ("POST", "/api/v1/users/newcomer/tokens", None, "admin"),
        ("DELETE", "/api/v1/users/newcomer/tokens/1", None, "admin"),
        ("DELETE", "/api/v1/users/newcomer/tokens", None, "admin"),
        ("DELETE", "/api/v1/silences/1", None, "analyst"),
    ]


def test_every_endpoint_refuses_nobody_and_the_roles_below_it(team):
    for method, path, body, least in endpoints(team):
        with team.client(None) as anon:
            r = anon.request(method, path, json=body)
            assert r.status_code == 401, (method, path, r.text)
            assert r.headers["www-authenticate"].startswith("Bearer")
        for role in ROLES:
            with team.client(role) as c:
                r = c.request(method, path, json=body)
            allowed = ROLES.index(role) >= ROLES.index(least)
            if allowed:
                assert r.status_code not in (401, 403), (role, method, path, r.text)
            else:
                assert r.status_code == 403, (role, method, path, r.status_code)
                assert f"needs the {least} role" in r.json()["detail"]
    with team.client(None) as anon:
        assert anon.delete("/api/v1/silences/1").status_code == 401
    with team.client("viewer") as c:
        assert c.delete("/api/v1/silences/1").status_code == 403


def test_the_endpoint_list_covers_every_route_the_api_describes(team):
    """A new route cannot slip past the role checks above: each one the OpenAPI description
    names is in ``endpoints``."""
    import re

    with team.client(None) as c:
        spec = c.get("/api/v1/openapi.json").json()
    listed = [(m, p.split("?")[0]) for m, p, _, _ in endpoints(team)]
    missing = []
    for path, operations in spec["paths"].items():
        pattern = re.compile(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)))
        for method in operations:
            if not any(m == method.upper() and pattern.fullmatch(p) for m, p in listed):
                missing.append(f"{method.upper()} {path}")
    assert missing == []


# (method, path, a body that does not validate, where the 422 points)
BAD_BODIES = [
    ("POST", "/api/v1/hits/{hit}/ack", {"note": 5}, ["body", "note"]),
    ("POST", "/api/v1/hits/{hit}/dismiss", {"reason": "bored"}, ["body", "reason"]),
    ("POST", "/api/v1/hits/{hit}/shelve", {}, ["path", "action"]),
    ("POST", "/api/v1/hits/bulk", {"ids": [], "action": "ack"}, ["body", "ids"]),
    ("PUT", "/api/v1/rules/files/plants.yaml", {}, ["body", "text"]),
    ("POST", "/api/v1/rules/check", {"yaml": 5}, ["body", "yaml"]),
    ("POST", "/api/v1/rules/test", {"title": "no text"}, ["body", "text"]),
    ("POST", "/api/v1/rules/backtest", {"days": -1}, ["body", "days"]),
    ("POST", "/api/v1/sources/test", {"url": "file:///etc/passwd"}, ["body", "url"]),
    ("POST", "/api/v1/sources", {"name": "../up", "url": "https://e.org/"}, ["body", "name"]),
    ("PATCH", "/api/v1/sources/wire", {"interval": [1]}, ["body", "interval", "str"]),
    ("POST", "/api/v1/silences", {"rule": "r", "hours": 0, "comment": "c"}, ["body", "hours"]),
    ("POST", "/api/v1/channels", {"name": "x", "type": "pigeon"}, ["body", "type"]),
    ("PATCH", "/api/v1/channels/console", {"format": "pdf"}, ["body", "format"]),
    (
        "POST",
        "/api/v1/users",
        {"name": "x y", "role": "viewer", "password": "p" * 9},
        ["body", "name"],
    ),
    ("PATCH", "/api/v1/users/viewer", {"role": "boss"}, ["body", "role"]),
    ("POST", "/api/v1/users/viewer/password", {"password": "short"}, ["body", "password"]),
]


@pytest.mark.parametrize(
    "method, path, body, loc", BAD_BODIES, ids=[f"{m} {p}" for m, p, _, _ in BAD_BODIES]
)
def test_a_body_that_does_not_validate_is_422_naming_the_field(team, method, path, body, loc):
    before = team.db.config_path.read_text(encoding="utf-8")
    with team.client("admin") as c:
        r = c.request(method, path.format(hit=some_hit(team)), json=body)
        broken = c.request(
            method,
            path.format(hit=some_hit(team)),
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
    assert r.status_code == 422, r.text
    assert loc in [e["loc"] for e in r.json()["detail"]], r.json()
    assert all(e["msg"] for e in r.json()["detail"])
    assert broken.status_code == 422, broken.text
    assert team.db.config_path.read_text(encoding="utf-8") == before


def test_a_wrong_token_is_401(team):
    with team.client(None) as c:
        r = c.get("/api/v1/hits", headers={"Authorization": "Bearer not-a-token"})
        assert r.status_code == 401


def test_hit_list_contract_and_cursor(team):
    with team.client("viewer") as c:
        r = c.get("/api/v1/hits", params={"status": "new", "limit": 7})
        assert r.status_code == 200
        body = r.json()
        assert set(body) == {"hits", "next"}
        assert all(set(h) == HIT_KEYS for h in body["hits"])
        new = sorted(
            team.db.where(status="new"), key=lambda h: (h["created_at"], h["id"]), reverse=True
        )
        assert [h["id"] for h in body["hits"]] == [h["id"] for h in new[:7]]
        assert all(h["status"] == "new" and h["rules"] == [h["rule"]] for h in body["hits"])
        seen, cursor = [], None
        while True:
            page = c.get(
                "/api/v1/hits",
                params={"status": "new", "limit": 50, **({"cursor": cursor} if cursor else {})},
            ).json()
            seen += [h["id"] for h in page["hits"]]
            cursor = page["next"]
            if cursor is None:
                break
        assert seen == [h["id"] for h in new]
        assert c.get("/api/v1/hits", params={"cursor": "garbage!"}).status_code == 400
        assert c.get("/api/v1/hits", params={"limit": 0}).status_code == 422
        assert c.get("/api/v1/hits", params={"status": "bogus"}).status_code == 400
        high = c.get(
            "/api/v1/hits",
            params={"severity": "high", "source": "seeds", "status": "all", "limit": 500},
        ).json()
        assert {h["id"] for h in high["hits"]} == {
            h["id"] for h in team.db.hits if h["severity"] == "high" and h["source"] == "seeds"
        }
        found = c.get("/api/v1/hits", params={"q": "quillwort", "status": "all"}).json()["hits"]
        assert [h["id"] for h in found] == [
            h["id"] for h in team.db.hits if h["key"] == "rail-quillwort"
        ]


def _record_new_hits(team, count: int) -> list[int]:
    """Hits recorded now (newer than every hit in the database), as a running daemon would."""
    from datetime import timedelta

    from monitor.config import Config
    from monitor.models import Entry, Item, RuleMatch
    from monitor.pipeline import record

    ids = []
    with team.db.open() as store:
        for n in range(count):
            item = Item(
                source="seeds",
                key=f"late-{n}",
                title=f"Late item {n}",
                text="Baku frees the Russians",
                url=None,
                published=None,
                language="en",
            )
            match = RuleMatch(
                rule_id="detainees-release",
                rule_title="Russians jailed in Baku",
                severity="high",
                terms=("Baku",),
                spans=(),
                snippet="**Baku** frees the Russians",
                why="any: Baku",
                tags=(),
            )
            now = team.db.now + timedelta(minutes=1 + n)
            ids += [
                h.id for h in record(store, Config(), [Entry(item=item, matches=[match])], now).hits
            ]
    return ids


def test_the_cursor_is_a_keyset_that_hits_recorded_meanwhile_do_not_shift(team):
    with team.client("viewer") as c:
        first = c.get("/api/v1/hits", params={"status": "new", "limit": 5}).json()
        expected = c.get("/api/v1/hits", params={"status": "new", "limit": 10}).json()["hits"]
        late = _record_new_hits(team, 3)
        second = c.get(
            "/api/v1/hits", params={"status": "new", "limit": 5, "cursor": first["next"]}
        ).json()
        # an offset would now repeat the last three hits of the first page
        assert [h["id"] for h in first["hits"] + second["hits"]] == [h["id"] for h in expected]
        assert set(second) == {"hits", "next"} and isinstance(second["next"], str)
        fresh = c.get("/api/v1/hits", params={"status": "new", "limit": 3}).json()["hits"]
        assert [h["id"] for h in fresh] == late[::-1]
        # a cursor is opaque and checked: a forged or offset-style one is refused
        for forged in ("bzUw", "WyJ4IiwgMV0", "WzEsMl0", "W251bGwsMV0"):
            r = c.get("/api/v1/hits", params={"cursor": forged})
            assert r.status_code == 400, forged
            assert r.json()["detail"] == "That cursor is not one this API gave out."


def test_hit_detail_and_triage_record_who(team):
    hit = some_hit(team)
    with team.client("analyst") as c:
        detail = c.get(f"/api/v1/hits/{hit}").json()
        assert detail["id"] == hit and detail["text"] and detail["spans"] and detail["deliveries"]
        r = c.post(
            f"/api/v1/hits/{hit}/dismiss", json={"reason": "false-positive", "note": "wire noise"}
        )
        assert r.status_code == 200 and r.json()["status"] == "dismissed"
        assert r.json()["status_by"] == "analyst" and r.json()["status_reason"] == "false-positive"
        assert c.post(f"/api/v1/hits/{hit}/dismiss", json={"reason": "nonsense"}).status_code == 422
        assert c.post(f"/api/v1/hits/{hit}/dismiss", json={}).status_code == 400
        assert c.post(f"/api/v1/hits/{hit}/note", json={"text": "  "}).status_code == 400
        assert c.post("/api/v1/hits/999999/ack", json={}).status_code == 404
        assert c.get("/api/v1/hits/999999").status_code == 404
        others = [h["id"] for h in team.db.where(status="new")[1:4]]
        bulk = c.post("/api/v1/hits/bulk", json={"ids": others + [999999], "action": "ack"}).json()
        assert bulk == {"changed": others, "unchanged": [], "missing": [999999]}
    with team.db.open() as store:
        assert [n.action for n in store.hit_notes(hit)] == ["dismiss"]
        assert all(store.get_hit_row(i).status_by == "analyst" for i in others)


def test_rules_test_has_the_shape_of_the_cli(team):
    text = "A quillwort was seen near the lake again."
    with team.client("viewer") as c:
        api = c.post("/api/v1/rules/test", json={"text": text}).json()
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(team.db.config_path),
            "rules",
            "test",
            "--json",
            "-",
        ],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    assert api["hits"] == json.loads(cli.stdout)["hits"]
    assert [h["rule"] for h in api["hits"]] == ["quillwort-watch"]


def test_a_bad_rule_is_422_with_file_line_col(team):
    target = team.rules_dir / "plants.yaml"
    with team.client("analyst") as c:
        r = c.post("/api/v1/rules/check", json={"file": "plants.yaml", "yaml": BAD_RULE})
        assert r.status_code == 422
        (problem,) = r.json()["detail"]
        assert problem.startswith(f"{target}:5:5: ") and "severity" in problem
        saved = c.put("/api/v1/rules/files/plants.yaml", json={"text": BAD_RULE})
        assert saved.status_code == 422 and saved.json()["detail"] == [problem]
        assert target.read_text(encoding="utf-8") == RULE_FILE  # never written
        assert c.post("/api/v1/rules/check", json={}).json() == {
            "ok": True,
            "rules": 1,
            "problems": [],
        }
        assert c.put("/api/v1/rules/files/..%2Fconfig.yaml", json={"text": "x"}).status_code == 400
        assert (
            c.post(
                "/api/v1/rules/test", json={"text": "x", "file": "plants.yaml", "yaml": BAD_RULE}
            ).status_code
            == 422
        )
    cli = subprocess.run(
        [sys.executable, "-m", "monitor", "rules", "check", str(team.rules_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0
    # the message is the CLI's own, word for word, for the same text
    elsewhere = team.rules_dir.parent / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "plants.yaml").write_text(BAD_RULE, encoding="utf-8")
    cli = subprocess.run(
        [sys.executable, "-m", "monitor", "rules", "check", str(elsewhere)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 1
    assert cli.stdout.splitlines() == [problem.replace(str(team.rules_dir), str(elsewhere))]


def test_save_a_rule_file_and_see_it_listed(team):
    edited = RULE_FILE.replace(
        "  - id: quillwort-watch   # the rare fern",
        "  - id: quillwort-watch   # the rare fern\n    description: edited in the browser",
    )
    with team.client("analyst") as c:
        r = c.put("/api/v1/rules/files/plants.yaml", json={"text": edited})
        assert r.status_code == 200 and r.json()["saved"] is True
        one = c.get("/api/v1/rules/quillwort-watch").json()
        assert "# the rare fern" in one["yaml"] and "edited in the browser" in one["yaml"]
        assert one["file"] == "plants.yaml" and one["edits"][0]["by"] == "analyst"
        listed = c.get("/api/v1/rules").json()
        assert [r["id"] for r in listed["rules"]] == ["quillwort-watch"] and listed[
            "problems"
        ] == []
        assert c.get("/api/v1/rules/nope").status_code == 404
    assert (team.rules_dir / "plants.yaml").read_text(encoding="utf-8") == edited


def test_backtest_over_stored_items(team):
    with team.client("viewer") as c:
        r = c.post("/api/v1/rules/backtest", json={"days": 60, "rule": ["quillwort-watch"]})
        assert r.status_code == 200
        body = r.json()
    assert body["items"] > 0
    quill = [ch for ch in body["changes"] if ch["rule"] == "quillwort-watch"]
    assert [ch["key"] for ch in quill] == ["rail-quillwort"] and quill[0]["change"] == "new"


def test_silences_add_list_remove(team):
    with team.client("analyst") as c:
        made = c.post(
            "/api/v1/silences",
            json={"rule": "quillwort-watch", "hours": 2, "comment": "storm week"},
        )
        assert made.status_code == 201
        sid = made.json()["id"]
        assert made.json()["created_by"] == "analyst"
        assert [s["id"] for s in c.get("/api/v1/silences").json()["silences"]] == [sid]
        assert c.post("/api/v1/silences", json={"hours": 2, "comment": "x"}).status_code == 400
        assert (
            c.post("/api/v1/silences", json={"rule": "x", "hours": -1, "comment": "x"}).status_code
            == 422
        )
        assert c.delete(f"/api/v1/silences/{sid}").json() == {"removed": sid}
        assert c.delete(f"/api/v1/silences/{sid}").status_code == 404
        assert c.get("/api/v1/silences").json()["silences"] == []


def test_sources_and_status(team):
    with team.client("admin") as c:
        sources = c.get("/api/v1/sources").json()["sources"]
        failing = next(s for s in sources if s["name"] == "baku-bulletin")
        assert failing["failing"] and failing["last_error"] == "HTTP 503 Service Unavailable"
        status = c.get("/api/v1/status").json()
        assert "problems" in status and "daemon" in status
        refused = c.post("/api/v1/sources/test", json={"url": "http://127.0.0.1:9/feed"})
        assert refused.status_code == 502 and "127.0.0.1" in refused.json()["detail"]
        assert c.post("/api/v1/sources/test", json={"url": "file:///etc/passwd"}).status_code == 422


def test_sources_test_reads_a_feed(hits_db: HitsDB, httpserver):
    feed = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
        "<item><title>Quillwort found</title><link>https://example.org/q</link><guid>q1</guid></item>"
        "</channel></rss>"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed, content_type="application/rss+xml"
    )
    with (
        serve_team(hits_db, "http:\n  allow_private_networks: true\n") as team,
        team.client("admin") as c,
    ):
        r = c.post("/api/v1/sources/test", json={"url": httpserver.url_for("/feed.xml")})
    assert r.status_code == 200, r.text
    assert [i["title"] for i in r.json()["items"]] == ["Quillwort found"]


def test_openapi_describes_every_route(team):
    with team.client(None) as c:
        spec = c.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in (
        "/api/v1/hits",
        "/api/v1/hits/{hit_id}",
        "/api/v1/hits/bulk",
        "/api/v1/rules/test",
        "/api/v1/rules/check",
        "/api/v1/silences",
        "/api/v1/status",
        "/api/v1/sources",
    ):
        assert path in paths, path
    assert not any(p == "/" or p.startswith("/hits") for p in paths)  # the pages are not the API
    hit_list = paths["/api/v1/hits"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    schema = {**spec["components"]["schemas"]["HitList"], "components": spec["components"]}
    assert hit_list == {"$ref": "#/components/schemas/HitList"}
    with team.client("viewer") as c:
        jsonschema.validate(c.get("/api/v1/hits?limit=3").json(), schema)
    required = spec["components"]["schemas"]["HitSummary"]["required"]
    assert set(required) >= HIT_KEYS


def test_a_page_script_needs_the_csrf_header(team):
    """A signed-in browser (session cookie) may call the API only with the page's CSRF token."""
    import httpx

    from web_helpers import PASSWORD, csrf_of

    with httpx.Client(base_url=team.url) as browser:
        token = csrf_of(browser.get("/login").text)
        assert (
            browser.post(
                "/login", data={"csrf": token, "name": "analyst", "password": PASSWORD}
            ).status_code
            == 303
        )
        hit = some_hit(team)
        assert browser.get(f"/api/v1/hits/{hit}").status_code == 200
        assert browser.post(f"/api/v1/hits/{hit}/ack", json={}).status_code == 403
        ok = browser.post(f"/api/v1/hits/{hit}/ack", json={}, headers={"X-CSRF-Token": token})
        assert ok.status_code == 200 and ok.json()["status_by"] == "analyst"


def test_a_search_the_store_cannot_read_is_a_400_that_says_why(team):
    """``Armenia OR`` in the page's search box or the API's ``q`` is refused in plain words
    (not an error page or a 500); a search that reads is answered."""
    with team.client("viewer") as c:
        r = c.get("/api/v1/hits", params={"q": "Armenia OR"})
        assert r.status_code == 400
        assert "OR needs a word on each side" in r.text
        page = c.get("/", params={"q": "Armenia OR", "status": "all"})
        assert page.status_code == 400
        assert "OR needs a word on each side" in page.text
        assert c.get("/api/v1/hits", params={"q": "quillwort OR Baku"}).status_code == 200
