"""The review page's server under attack (issue 13, items 8 and 9): half-sent requests,
password guessing, credentials in logs, header injection through ``next``, DNS rebinding.

Each runs against the real server: Hypercorn in this process on a free port, or
``monitor web`` as its own process where threads are counted.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from helpers_hits import HitsDB, serve_review_page
from monitor.accounts import hash_password
from monitor.config import load_config
from monitor.models import utcnow
from monitor.web.auth import Access
from monitor.web.guard import LoginLimiter, local_path


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def threads_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))


@pytest.fixture
def web_process(hits_db: HitsDB):
    """``monitor web`` on a free port, as its own process, with a 1 s header timeout."""
    hits_db.config_path.write_text(
        "storage:\n  path: monitor.db\nrules:\n  paths: [rules]\n"
        "web:\n  timeout: 1s\n  workers: 4\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "MONITOR_WEB_PASSWORD": "",
        "MONITOR_WEB_TOKEN": "",
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(hits_db.config_path),
            "web",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", line).group(1))
        yield proc, port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_half_sent_requests_hold_no_thread_and_are_closed(web_process):
    proc, port = web_process
    idle = threads_of(proc.pid)
    held = []
    try:
        for _ in range(1500):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # never finished
            held.append(s)
        time.sleep(0.3)
        assert threads_of(proc.pid) <= idle + 8  # the bounded pool, not a thread per connection
        # the page still answers while they wait
        started = time.monotonic()
        assert httpx.get(f"http://127.0.0.1:{port}/rules", timeout=5).status_code == 200
        assert time.monotonic() - started < 5
        # and the server hangs up on every one of them once the header timeout passes
        time.sleep(2.5)
        closed = 0
        for s in held:
            s.settimeout(2)
            try:
                closed += s.recv(1) == b""
            except ConnectionResetError:
                closed += 1
            except socket.timeout:
                pass
        assert closed == len(held)
    finally:
        for s in held:
            s.close()


def test_config_bounds_the_server(tmp_path: Path):
    cfg_path = tmp_path / "config.yaml"
    cfg_path.write_text(
        "web:\n  workers: 3\n  timeout: 2s\n  hosts: [monitor.example.org]\n", encoding="utf-8"
    )
    web = load_config(cfg_path).web
    assert (web.workers, web.timeout, web.hosts) == (3, 2.0, ["monitor.example.org"])
    cfg_path.write_text("web:\n  workers: 0\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"config.yaml:2"):
        load_config(cfg_path)


def test_failed_sign_ins_are_rate_limited(hits_db: HitsDB):
    limiter = LoginLimiter(attempts=5, window=300)
    with serve_review_page(hits_db, access=Access(password="right-pw"), limiter=limiter) as served:
        for _ in range(5):
            assert httpx.get(served.url + "/", auth=("anna", "guess")).status_code == 401
        refused = httpx.get(served.url + "/", auth=("anna", "right-pw"))
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert (
            httpx.get(served.url + "/rules", headers={"Authorization": "Bearer x"}).status_code
            == 429
        )
        # the window passes: the right password works again
        limiter.clock = lambda: time.monotonic() + 301
        assert httpx.get(served.url + "/", auth=("anna", "right-pw")).status_code == 200


def test_failed_form_sign_ins_are_rate_limited(hits_db: HitsDB):
    with hits_db.open() as store:
        store.add_user("anna", "analyst", hash_password("correct horse"), utcnow())
    with (
        serve_review_page(hits_db, limiter=LoginLimiter(attempts=3, window=300)) as served,
        httpx.Client(base_url=served.url) as client,
    ):
        token = csrf_of(client.get("/login").text)
        for _ in range(3):
            r = client.post("/login", data={"csrf": token, "name": "anna", "password": "battery"})
            assert r.status_code == 401 and "do not match" in r.text
        r = client.post("/login", data={"csrf": token, "name": "anna", "password": "correct horse"})
        assert r.status_code == 429 and "Too many failed sign-ins" in r.text
        assert "monitor_session" not in r.headers.get("set-cookie", "")


def test_no_credential_reaches_any_log_at_any_level(hits_db: HitsDB):
    secrets = {
        "token": "tok-7f3a9c1e55",
        "password": "pw-4d2b8e0a77",
        "user_password": "up-91c3e5a7b2",
    }
    with hits_db.open() as store:
        store.add_user("anna", "analyst", hash_password(secrets["user_password"]), utcnow())
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root, handler = logging.getLogger(), Keep(level=logging.DEBUG)
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        access = Access(password=secrets["password"], token=secrets["token"])
        with (
            serve_review_page(hits_db, access=access) as served,
            httpx.Client(base_url=served.url) as client,
        ):
            client.get("/login", params={"token": secrets["token"]})
            client.get("/login", params={"token": "wrong-" + secrets["token"]})
            client.get("/rules", headers={"Authorization": f"Bearer {secrets['token']}"})
            client.get("/rules", auth=("x", secrets["password"]))
            client.get("/rules", auth=("x", "wrong-" + secrets["password"]))
            page = client.get("/login", headers={"Authorization": "Bearer nope"})
            with httpx.Client(base_url=served.url) as fresh:
                form = fresh.get("/login")
                fresh.post(
                    "/login",
                    data={
                        "csrf": csrf_of(form.text),
                        "name": "anna",
                        "password": secrets["user_password"],
                    },
                )
            assert page.status_code in (200, 401)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    server_side = [
        r for r in records if not r.name.startswith(("httpx", "httpcore"))
    ]  # not the test's client
    assert any(r.name.startswith("monitor.web") for r in server_side)  # the access log did run
    text = "\n".join(r.getMessage() + repr(r.args) for r in server_side)
    for value in secrets.values():
        assert value not in text


def test_redirects_refuse_control_characters(hits_db: HitsDB):
    assert local_path("/hits/1\r\nSet-Cookie: x=1", "/") == "/"
    assert local_path("/\t/evil.example", "/") == "/"
    assert local_path("/?status=new", "/") == "/?status=new"
    with serve_review_page(hits_db) as served, httpx.Client(base_url=served.url) as client:
        hit_id = served.db.where(status="new")[0]["id"]
        token = csrf_of(client.get(f"/hits/{hit_id}").text)
        for evil in ("/hits/1\r\nSet-Cookie: evil=1", "/hits/1\nX-Injected: 1", "/\x00/x", "/\x7f"):
            r = client.post(
                f"/hits/{hit_id}/note", data={"csrf": token, "text": "seen", "next": evil}
            )
            assert r.status_code == 303
            assert r.headers["location"] == f"/hits/{hit_id}"
            assert "evil" not in r.headers.get("set-cookie", "") and "x-injected" not in r.headers
        login = client.get("/login", params={"next": "/\r\nLocation: http://evil.example/"})
        assert 'name="next" value="/"' in login.text


def test_answers_only_to_its_own_host_names(hits_db: HitsDB):
    with serve_review_page(hits_db) as served, httpx.Client(base_url=served.url) as client:
        port = served.url.rsplit(":", 1)[1]
        hit_id = served.db.where(status="new")[0]["id"]
        token = csrf_of(client.get(f"/hits/{hit_id}").text)
        for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}", ""):
            r = client.get("/", headers={"Host": host})
            assert r.status_code == 421, host
            assert '<li class="hit' not in r.text
        rebound = client.post(
            f"/hits/{hit_id}/ack",
            data={"csrf": token},
            headers={"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"},
        )
        assert rebound.status_code == 421
        assert (
            client.get("/api/v1/openapi.json", headers={"Host": f"evil.example:{port}"}).status_code
            == 421
        )
        with served.db.open() as store:
            assert store.get_hit(hit_id).status == "new"
        for host in (
            f"localhost:{port}",
            f"127.0.0.1:{port}",
            f"[::1]:{port}",
            f"LOCALHOST:{port}",
        ):
            assert client.get("/rules", headers={"Host": host}).status_code == 200, host


def test_a_configured_public_name_is_answered(hits_db: HitsDB):
    hits_db.config_path.write_text(
        "storage:\n  path: monitor.db\nweb:\n  hosts: [monitor.example.org]\n", encoding="utf-8"
    )
    config = load_config(hits_db.config_path)
    with serve_review_page(hits_db, config=config) as served:
        ok = httpx.get(served.url + "/rules", headers={"Host": "monitor.example.org"})
        assert ok.status_code == 200
        assert (
            httpx.get(served.url + "/rules", headers={"Host": "other.example.org"}).status_code
            == 421
        )


def test_basic_auth_garbage_counts_as_a_failure(hits_db: HitsDB):
    with serve_review_page(
        hits_db, access=Access(password="pw"), limiter=LoginLimiter(2, 60)
    ) as served:
        bad = base64.b64encode(b"\xff\xfe").decode()
        for _ in range(2):
            assert (
                httpx.get(served.url + "/", headers={"Authorization": f"Basic {bad}"}).status_code
                == 401
            )
        assert httpx.get(served.url + "/", auth=("a", "pw")).status_code == 429


def test_a_huge_body_is_refused_before_it_is_read(hits_db: HitsDB):
    from monitor.web.guard import MAX_BODY

    with serve_review_page(hits_db) as served:
        r = httpx.post(
            served.url + "/api/v1/rules/test",
            content=b"{" + b" " * (MAX_BODY + 10) + b"}",
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 413
        assert httpx.post(served.url + "/api/v1/rules/test", json={"text": "x"}).status_code != 413
