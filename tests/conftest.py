"""Shared fixtures: a project folder laid out like the repository, a real local SMTP server,
a real threaded local HTTP server, a throwaway PostgreSQL cluster, a hit log."""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from helpers_hits import HitsDB, build_hits_db
from helpers_notify import ScriptedSmtp, free_port  # noqa: F401  (free_port: for the tests)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A temporary copy of the shipped rules and seeds, with the default config beside them."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    return tmp_path


class SmtpSink(ScriptedSmtp):
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that accepts and keeps every message."""

    def mailto(self, to: str = "analyst@example.org") -> str:
        return self.url(to)

    @staticmethod
    def body(msg) -> str:
        parts = [p.get_content() for p in msg.walk() if p.get_content_maintype() == "text"]
        return "\n".join(parts)


@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


# -- a real threaded local HTTP server (pytest-httpserver) ------------------------------------


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown: handlers that stall wait on it (never a sleep)."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture(scope="session")
def threaded_server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def server(threaded_server: HTTPServer, release: threading.Event) -> Iterator[HTTPServer]:
    """A real threaded local HTTP server (pytest-httpserver), so one stalled handler does
    not hold up the others. Stalled handlers are released, and handlers cleared, after each test."""
    yield threaded_server
    release.set()
    threaded_server.clear()


def monitor_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", *args]


@pytest.fixture(scope="session")
def pg_cluster():
    """A real throwaway PostgreSQL cluster (tests/pgcluster.py), one per test session."""
    from pgcluster import MISSING, server_bindir, start_cluster

    if server_bindir() is None:
        pytest.skip(MISSING)
    cluster = start_cluster()
    yield cluster
    cluster.stop()


# -- a hit log of 320 hits (tests/helpers_hits.py builds it once per session) --------------


@pytest.fixture(scope="session")
def hits_template(tmp_path_factory) -> HitsDB:
    folder = tmp_path_factory.mktemp("hits-template")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    path = folder / "monitor.db"
    manifest = build_hits_db(path, now)
    return HitsDB(path=path, config_path=folder / "config.yaml", now=now, hits=manifest)


@pytest.fixture
def hits_db(hits_template: HitsDB, tmp_path: Path) -> HitsDB:
    """A private copy of the session's hit database, with a config.yaml pointing at it."""
    path = tmp_path / "monitor.db"
    shutil.copy(hits_template.path, path)
    (tmp_path / "rules").mkdir()
    config = tmp_path / "config.yaml"
    config.write_text("storage:\n  path: monitor.db\nrules:\n  paths: [rules]\n", encoding="utf-8")
    return HitsDB(
        path=path,
        config_path=config,
        now=hits_template.now,
        hits=[dict(h) for h in hits_template.hits],
    )


def tel_river_rule():
    """A rule on "Tel" and "river": "Tel"'s stem begins "tell", "televisions", "telltale" too,
    which the matcher learns to skip (the learning tests, in the matcher and the daemon)."""
    from monitor.rules import Group, Rule, Term

    return Rule(
        id="tel",
        title="t",
        path="gen",
        match=Group(
            "all",
            (
                Group("any", (Term(text="Tel", words=("tel",)),)),
                Group("any", (Term(text="river", words=("river",)),)),
            ),
        ),
    )
