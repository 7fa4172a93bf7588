"""Accounts managed by an admin through the API, and what each change does to the account's
own sign-ins and tokens, on a real server and database."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner

from helpers_hits import HitsDB
from monitor.cli import cli
from web_helpers import PASSWORD, csrf_of, serve_team

NEW_PASSWORD = "correct horse battery staple"


@pytest.fixture
def team(hits_db: HitsDB):
    with serve_team(hits_db) as t:
        yield t


def bearer(team, token: str) -> httpx.Client:
    return httpx.Client(base_url=team.url, headers={"Authorization": f"Bearer {token}"}, timeout=20)


def signs_in(team, name: str, password: str) -> bool:
    with httpx.Client(base_url=team.url) as browser:
        csrf = csrf_of(browser.get("/login").text)
        r = browser.post("/login", data={"csrf": csrf, "name": name, "password": password})
        return r.status_code == 303


def test_add_an_account_issue_a_token_change_its_role(team):
    with team.client("admin") as admin:
        added = admin.post(
            "/api/v1/users", json={"name": "nina", "role": "viewer", "password": NEW_PASSWORD}
        )
        taken = admin.post(
            "/api/v1/users", json={"name": "nina", "role": "viewer", "password": NEW_PASSWORD}
        )
        issued = admin.post("/api/v1/users/nina/tokens")
        listed = admin.get("/api/v1/users")
    assert added.status_code == 201, added.text
    assert {k: added.json()[k] for k in ("name", "role", "disabled", "tokens")} == {
        "name": "nina",
        "role": "viewer",
        "disabled": False,
        "tokens": [],
    }
    assert taken.status_code == 409
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert len(token) >= 40 and issued.json()["id"] > 0
    nina = next(u for u in listed.json()["users"] if u["name"] == "nina")
    assert [t["id"] for t in nina["tokens"]] == [issued.json()["id"]]
    for secret in (token, NEW_PASSWORD, "argon2"):
        assert secret not in listed.text
    assert signs_in(team, "nina", NEW_PASSWORD)
    with bearer(team, token) as nina_client:
        assert nina_client.get("/api/v1/hits?limit=1").status_code == 200
        assert nina_client.post("/api/v1/rules/test", json={"text": "x"}).status_code == 200
        hit = team.db.where(status="new")[0]["id"]
        assert nina_client.post(f"/api/v1/hits/{hit}/ack", json={}).status_code == 403
        with team.client("admin") as admin:
            r = admin.patch("/api/v1/users/nina", json={"role": "analyst"})
        assert r.status_code == 200 and r.json()["role"] == "analyst"
        assert nina_client.post(f"/api/v1/hits/{hit}/ack", json={}).status_code == 200
    with team.db.open() as store:
        trail = [(e["action"], e["by"], e["detail"]) for e in store.list_edits("user", "nina")]
    assert trail == [
        ("role", "admin", "viewer → analyst"),
        ("token", "admin", f"token #{issued.json()['id']}"),
        ("add", "admin", "role viewer"),
    ]


def test_disable_ends_sign_ins_and_refuses_tokens_until_enabled(team):
    with httpx.Client(base_url=team.url) as browser:
        csrf = csrf_of(browser.get("/login").text)
        browser.post("/login", data={"csrf": csrf, "name": "viewer", "password": PASSWORD})
        assert browser.get("/api/v1/hits?limit=1").status_code == 200  # the session works
        with team.client("admin") as admin:
            off = admin.patch("/api/v1/users/viewer", json={"disabled": True})
        assert off.status_code == 200 and off.json()["disabled"] is True
        assert browser.get("/api/v1/hits?limit=1").status_code == 401  # the session ended
    with team.client("viewer") as c:
        assert c.get("/api/v1/hits?limit=1").status_code == 401
    assert not signs_in(team, "viewer", PASSWORD)
    listed = CliRunner().invoke(cli, ["--config", str(team.db.config_path), "users", "list"])
    assert "viewer\tviewer\t1 token\tdisabled" in listed.output.splitlines()
    with team.client("admin") as admin:
        assert admin.patch("/api/v1/users/viewer", json={"disabled": False}).status_code == 200
    with team.client("viewer") as c:
        assert c.get("/api/v1/hits?limit=1").status_code == 200
    assert signs_in(team, "viewer", PASSWORD)


def test_reset_a_password_set_or_generated(team):
    with team.client("admin") as admin:
        given = admin.post("/api/v1/users/analyst/password", json={"password": NEW_PASSWORD})
        assert given.json() == {"name": "analyst", "reset": True, "password": None}
        assert signs_in(team, "analyst", NEW_PASSWORD) and not signs_in(team, "analyst", PASSWORD)
        generated = admin.post("/api/v1/users/analyst/password", json={})
        missing = admin.post("/api/v1/users/nobody/password", json={})
    new = generated.json()["password"]
    assert generated.status_code == 200 and len(new) >= 16
    assert signs_in(team, "analyst", new) and not signs_in(team, "analyst", NEW_PASSWORD)
    assert missing.status_code == 404
    with team.db.open() as store:
        assert new not in str(store.query("SELECT * FROM users"))
        assert new not in str(store.query("SELECT * FROM edits"))


def test_revoke_one_token_or_all(team):
    with team.client("admin") as admin:
        first = admin.post("/api/v1/users/analyst/tokens").json()
        second = admin.post("/api/v1/users/analyst/tokens").json()
        one = admin.delete(f"/api/v1/users/analyst/tokens/{first['id']}")
        gone = admin.delete(f"/api/v1/users/analyst/tokens/{first['id']}")
    assert one.json() == {"name": "analyst", "revoked": 1} and gone.status_code == 404
    with bearer(team, first["token"]) as c:
        assert c.get("/api/v1/hits?limit=1").status_code == 401
    with bearer(team, second["token"]) as c:
        assert c.get("/api/v1/hits?limit=1").status_code == 200
    with team.client("admin") as admin:
        every = admin.delete("/api/v1/users/analyst/tokens")
    assert every.json() == {"name": "analyst", "revoked": 2}  # the team's own and the second
    for token in (second["token"], team.tokens["analyst"]):
        with bearer(team, token) as c:
            assert c.get("/api/v1/hits?limit=1").status_code == 401


def test_the_last_admin_stays_an_enabled_admin(team):
    with team.client("admin") as admin:
        demote = admin.patch("/api/v1/users/admin", json={"role": "viewer"})
        disable = admin.patch("/api/v1/users/admin", json={"disabled": True})
        assert demote.status_code == 409 and "last enabled admin" in demote.json()["detail"]
        assert disable.status_code == 409
        assert admin.patch("/api/v1/users/analyst", json={"role": "admin"}).status_code == 200
        assert admin.patch("/api/v1/users/admin", json={"role": "viewer"}).status_code == 200
    with team.client("admin") as former:
        assert former.get("/api/v1/users").status_code == 403


def test_accounts_need_an_admin(team):
    for role in ("viewer", "analyst"):
        with team.client(role) as c:
            assert c.get("/api/v1/users").status_code == 403
            r = c.post("/api/v1/users/viewer/tokens")
            assert r.status_code == 403 and "needs the admin role" in r.json()["detail"]
