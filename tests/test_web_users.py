"""Accounts from the command line, and what each role sees and may do on the pages."""

from __future__ import annotations

from contextlib import contextmanager

import httpx
from click.testing import CliRunner

from helpers_hits import HitsDB, serve_review_page
from monitor.cli import cli
from web_helpers import PASSWORD, csrf_of, serve_team


def run(db: HitsDB, *args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["--config", str(db.config_path), "users", *args], input=input)


def test_users_add_token_list_remove(hits_db: HitsDB):
    added = run(hits_db, "add", "anna", "--role", "analyst", input="correct horse battery\n")
    assert added.exit_code == 0, added.output
    assert (
        run(hits_db, "add", "anna", "--role", "viewer", input="another password\n").exit_code == 1
    )
    assert run(hits_db, "add", "bob", "--role", "boss", input="whatever it is\n").exit_code == 2
    assert run(hits_db, "add", "../x", "--role", "viewer", input="whatever it is\n").exit_code == 2
    assert run(hits_db, "add", "carl", "--role", "viewer", input="short\n").exit_code == 1
    with hits_db.open() as store:
        user = store.get_user("anna")
        assert user.role == "analyst" and user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
    token = run(hits_db, "token", "anna").output.strip()
    assert len(token) >= 40
    with hits_db.open() as store:  # only a digest is kept
        assert token not in str(store.query("SELECT * FROM api_tokens"))
    with serve_review_page(hits_db) as served:
        r = httpx.get(
            served.url + "/api/v1/hits",
            params={"limit": 1},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200
        assert (
            httpx.get(served.url + "/api/v1/hits").status_code == 401
        )  # accounts exist: no longer open
        listed = run(hits_db, "list").output
        assert listed.strip() == "anna\tanalyst\t1 token"
        assert run(hits_db, "token", "anna", "--revoke").exit_code == 0
        assert (
            httpx.get(
                served.url + "/api/v1/hits", headers={"Authorization": f"Bearer {token}"}
            ).status_code
            == 401
        )
    assert run(hits_db, "token", "nobody").exit_code == 1
    assert run(hits_db, "remove", "anna").exit_code == 0
    assert run(hits_db, "remove", "anna").exit_code == 1
    with hits_db.open() as store:
        assert [e["action"] for e in store.list_edits("user", "anna")] == [
            "remove",
            "revoke tokens",
            "token",
            "add",
        ]


@contextmanager
def sign_in(url: str, name: str):
    with httpx.Client(base_url=url) as browser:
        token = csrf_of(browser.get("/login").text)
        r = browser.post(
            "/login", data={"csrf": token, "name": name, "password": PASSWORD, "next": "/rules"}
        )
        assert r.status_code == 303 and r.headers["location"] == "/rules"
        yield browser


def test_pages_need_sign_in_and_follow_the_role(hits_db: HitsDB):
    with serve_team(hits_db) as team:
        anon = httpx.get(team.url + "/sources")
        assert anon.status_code == 303 and anon.headers["location"] == "/login?next=/sources"
        hit = team.db.where(status="new")[0]["id"]
        with sign_in(team.url, "viewer") as viewer:
            page = viewer.get(f"/hits/{hit}")
            assert page.status_code == 200 and ">viewer<" in page.text
            assert 'id="ack"' not in page.text and "/hits/bulk" in viewer.get("/").text
            assert 'value="ack"' not in viewer.get("/").text
            refused = viewer.post(f"/hits/{hit}/ack", data={"csrf": csrf_of(page.text)})
            assert refused.status_code == 403 and "needs the analyst role" in refused.text
        with sign_in(team.url, "analyst") as analyst:
            page = analyst.get(f"/hits/{hit}")
            assert 'id="ack"' in page.text
            assert (
                analyst.post(f"/hits/{hit}/ack", data={"csrf": csrf_of(page.text)}).status_code
                == 303
            )
            # signing out ends the session on the server too
            session = analyst.cookies["monitor_session"]
            analyst.post("/logout", data={"csrf": csrf_of(page.text)})
            again = httpx.get(team.url + "/", cookies={"monitor_session": session})
            assert again.status_code == 303
        with team.db.open() as store:
            assert store.get_hit_row(hit).status_by == "analyst"
        wrong = httpx.Client(base_url=team.url)
        token = csrf_of(wrong.get("/login").text)
        r = wrong.post("/login", data={"csrf": token, "name": "analyst", "password": "nope"})
        assert r.status_code == 401 and "monitor_session" not in r.headers.get("set-cookie", "")
