"""Channel URL secrets (issue 13, item 2): a secret from ``${…}`` in a webhook URL's path,
query or header is never stored, shown or logged; one function makes every label."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import monitor_cmd
from helpers_ops import daemon_config
from monitor.config import load_config
from monitor.notify.channels import transports_for
from monitor.urls import redact_url

SECRETS = {
    "HOOK_SECRET": "pathsecret-5f2a9c",
    "HOOK_APIKEY": "querysecret-81d0e7",
    "HOOK_HEADER": "headersecret-c3b4a1",
}


@pytest.mark.parametrize(
    "template, label",
    [
        (
            "json://hooks.example.org:8080/hooks/${HOOK_SECRET}",
            "json://hooks.example.org:8080/hooks/****",
        ),
        ("json://h/p?-apikey=${K}&format=text", "json://h/p?-apikey=****&format=text"),
        ("json://h/?+X-Api-Key=${H}&+X-Plain=hello", "json://h/?+X-Api-Key=****&+X-Plain=hello"),
        ("json://h/?-apikey=written-out", "json://h/?-apikey=****"),
        (
            "mailtos://${SMTP_USER}:${SMTP_PASSWORD}@smtp.example.org:465?from=${SMTP_USER}&to=${ALERT_TO}",
            "mailtos://****:****@smtp.example.org:465?from=****&to=****",
        ),
        ("slack://${SLACK_WEBHOOK_TOKENS}", "slack://****"),
        ("json://user:written-out@[::1]:99/a/b#fragment", "json://user:****@[::1]:99/a/b"),
        ("json://${HOST:-x/y?z=1}/a/${P}b", "json://****/a/****"),
        ("form://h/${A}/${B}?x=${C}", "form://h/****/****?x=****"),
    ],
)
def test_redact_url_masks_what_came_from_the_environment(template, label):
    assert redact_url(template) == label


def _hook_config(tmp_path: Path, server) -> Path:
    url = (
        f"json://127.0.0.1:{server.port}/hooks/${{HOOK_SECRET}}"
        "?-apikey=${HOOK_APIKEY}&+X-Api-Key=${HOOK_HEADER}"
    )
    cfg = daemon_config(
        tmp_path,
        channels={"hook": {"urls": [url]}},
        routes=[{"channels": ["hook"]}],
        notify={"interval": "1s", "backoff_base": "1s"},
    )
    (tmp_path / "inbox" / "a.txt").write_text("Roads\nA zebra crossing opened.\n", encoding="utf-8")
    return cfg


def _run(cfg: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        monitor_cmd("--config", str(cfg), *args),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cfg.parent,
        env={**os.environ, **SECRETS, "COLUMNS": "400"},
    )


def _no_secret(text: str, where: str) -> None:
    for name, value in SECRETS.items():
        assert value not in text, f"{name} shown in {where}:\n{text}"


def test_a_webhook_secret_never_reaches_the_store_the_cli_or_the_log(
    tmp_path: Path, httpserver, monkeypatch
):
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    httpserver.expect_request("/hooks/" + SECRETS["HOOK_SECRET"]).respond_with_data(
        "down", status=500
    )
    cfg = _hook_config(tmp_path, httpserver)
    once = _run(cfg, "--log-level", "DEBUG", "run", "--once")
    assert once.returncode == 0, once.stderr
    assert len(httpserver.log) >= 1  # the secret URL was really used to send
    request = httpserver.log[0][0]
    assert request.headers.get("X-Api-Key") == SECRETS["HOOK_HEADER"]
    _no_secret(once.stdout + once.stderr, "the log of run --once")

    db = load_config(cfg).db_path
    conn = sqlite3.connect(db)
    try:
        dump = "\n".join(conn.iterdump())
        errors = [
            r[0] for r in conn.execute("SELECT last_error FROM outbox WHERE last_error IS NOT NULL")
        ]
    finally:
        conn.close()
    _no_secret(dump, "the database")
    assert errors and all(
        "/hooks/****" in e and "-apikey=****" in e and "X-Api-Key=****" in e for e in errors
    ), errors

    shown = _run(cfg, "hits", "show", "1")
    assert shown.returncode == 0, shown.stderr
    assert "/hooks/****" in shown.stdout
    _no_secret(shown.stdout + shown.stderr, "hits show")

    status = _run(cfg, "status", "--json", "--no-daemon")
    json.loads(status.stdout)
    assert "/hooks/****" in status.stdout
    _no_secret(status.stdout + status.stderr, "status --json")

    test = _run(cfg, "notify", "test", "hook")
    assert "/hooks/****" in test.stdout + test.stderr
    _no_secret(test.stdout + test.stderr, "notify test")

    page = _hit_page(cfg, 1)
    assert "/hooks/****" in page
    _no_secret(page, "the hit page")


def _hit_page(cfg: Path, hit_id: int) -> str:
    """The review page's hit page, served by `monitor web` (a real process) on a free port."""
    import socket
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        monitor_cmd("--config", str(cfg), "web", "--port", str(port)),
        cwd=cfg.parent,
        env={**os.environ, **SECRETS},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/hits/{hit_id}", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        assert r.status_code == 200, r.text[:500]
        return r.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_transports_carry_the_redacted_label_from_the_config(
    tmp_path: Path, monkeypatch, httpserver
):
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    cfg = load_config(_hook_config(tmp_path, httpserver))
    (transport,) = transports_for("hook", cfg.channels["hook"])
    assert transport.label == (
        f"json://127.0.0.1:{httpserver.port}/hooks/****?-apikey=****&+X-Api-Key=****"
    )
    assert (
        cfg.channels["hook"].urls[0].count("secret-") == 3
    )  # the real URL is still what is sent to


def test_secrets_written_out_are_masked_as_the_plugin_would(tmp_path: Path):
    from monitor.config import config_from_dict

    cfg = config_from_dict(
        {
            "channels": {
                "slack": {
                    "urls": [
                        "slack://xoxb-1234-5678-abcdef/#general",
                        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7F",
                    ]
                },
                "mail": {
                    "urls": ["mailtos://alerts:pa55word-written@smtp.example.org?to=a@example.org"]
                },
            }
        }
    )
    labels = [
        t.label for name in ("slack", "mail") for t in transports_for(name, cfg.channels[name])
    ]
    for secret in ("xoxb-1234-5678-abcdef", "TIiajkdnlazkcOXrIdevi7F", "pa55word-written"):
        assert not any(secret in label for label in labels), (secret, labels)
    assert labels[2].startswith("mailtos://alerts:****@smtp.example.org")
