"""Shared fixtures: a project folder laid out like the repository, a real local SMTP server,
a real threaded local HTTP server, a throwaway PostgreSQL cluster, a hit log."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from helpers_hits import HitsDB, build_hits_db
from helpers_notify import ScriptedSmtp, free_port  # noqa: F401  (free_port: for the tests)

ROOT = Path(__file__).resolve().parent.parent

# The words analysed for the rules are kept on disk between processes (see
# monitor.matching.wordparts): here in a folder of this test process's own, inherited by the
# daemons and commands it starts, and removed at the end, never the user's ~/.cache.
_CACHE_DIR = tempfile.mkdtemp(prefix="monitor-test-cache-")
os.environ["MONITOR_CACHE_DIR"] = _CACHE_DIR
atexit.register(shutil.rmtree, _CACHE_DIR, True)


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


# -- a real headless Chromium (the browser tests skip without it) ---------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


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


# -- the store on both backends --------------------------------------------------------------


@dataclass
class Backend:
    """Where a test's store lives: a SQLite file in ``folder``, or a fresh PostgreSQL
    database (``url``) copied from the migrated template. ``storage`` is the config's
    ``storage:`` section for it (``make_config`` takes a Backend in place of a folder)."""

    name: str
    folder: Path
    url: str | None = None

    @property
    def storage(self) -> dict[str, str]:
        return {"url": self.url} if self.url else {"path": str(self.folder / "monitor.db")}

    @property
    def target(self) -> str | Path:
        return self.url or self.folder / "monitor.db"

    def open(self, **kw):
        from monitor.store import Store

        return Store(self.target, **kw)


@pytest.fixture(scope="session")
def pg_template(pg_cluster) -> str:
    """A database with the schema applied, which each test's database is copied from."""
    from monitor.store import Store

    pg_cluster.sql('CREATE DATABASE "monitor_template"')
    Store(pg_cluster.url("monitor_template")).close()
    return "monitor_template"


def _pg_database(request, template: str):
    cluster = request.getfixturevalue("pg_cluster")
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = cluster.clone(template, name)
    request.addfinalizer(lambda: cluster.drop(name))
    return url


@pytest.fixture(scope="session")
def pg_scratch(pg_cluster, pg_template) -> str:
    """The database the PostgreSQL leg's tests use in turn, emptied before each test."""
    pg_cluster.clone(pg_template, "monitor_scratch")
    return "monitor_scratch"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path: Path) -> Backend:
    """The store's backends, one test run each: SQLite, then PostgreSQL (a real server;
    skipped, saying so, only where no server binary exists). The PostgreSQL database is
    migrated and empty: the scratch database with every table but the migration history
    truncated, identities restarted and any session a previous test left ended."""
    if request.param == "sqlite":
        return Backend("sqlite", tmp_path)
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.empty(request.getfixturevalue("pg_scratch"), keep=("schema_migrations",))
    return Backend("postgresql", tmp_path, url)


@pytest.fixture
def store(backend: Backend):
    """An empty, migrated store on each backend."""
    s = backend.open()
    yield s
    s.close()


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
    return _sqlite_hits_db(hits_template, tmp_path)


def _sqlite_hits_db(hits_template: HitsDB, tmp_path: Path) -> HitsDB:
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


PG_HITS_TEMPLATE = "hits_template"


@pytest.fixture(scope="session")
def pg_hits_template(pg_cluster, pg_template, hits_template: HitsDB) -> HitsDB:
    """The same hit log built on PostgreSQL (the same recording, so the same ids)."""
    url = pg_cluster.clone(pg_template, PG_HITS_TEMPLATE)
    manifest = build_hits_db(url, hits_template.now)
    return HitsDB(path=None, url=url, config_path=None, now=hits_template.now, hits=manifest)


@pytest.fixture(params=["sqlite", "postgresql"])
def hits_db_both(request, tmp_path: Path) -> HitsDB:
    """``hits_db`` on each backend: a private copy of the session's hit log."""
    if request.param == "sqlite":
        return _sqlite_hits_db(request.getfixturevalue("hits_template"), tmp_path)
    template: HitsDB = request.getfixturevalue("pg_hits_template")
    url = _pg_database(request, PG_HITS_TEMPLATE)
    (tmp_path / "rules").mkdir()
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  url: {url}\nrules:\n  paths: [rules]\n", encoding="utf-8")
    return HitsDB(
        path=None,
        url=url,
        config_path=config,
        now=template.now,
        hits=[dict(h) for h in template.hits],
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
