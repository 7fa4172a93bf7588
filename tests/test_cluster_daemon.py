"""Daemons dividing the sources by leases (``Daemon(divide=True)``, as on PostgreSQL), here
two in one process on one SQLite database: every source polled once, by one of them, the
polls spread over both; conditional-GET state shared through the store; `monitor status`
lists both and warns when their rule sets differ."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import load_config
from monitor.daemon import Daemon
from monitor.models import utcnow
from monitor.pipeline import Runtime
from monitor.store import Store
from reliability.helpers import (
    Db,
    FeedServer,
    daemon_config,
    respond,
    rss,
    wait_until,
    write_rules,
    zebra_items,
)

SOURCES = 40


@pytest.fixture
def feeds():
    with FeedServer() as server:
        yield server


def _config(tmp_path: Path, feeds: FeedServer, interval: str = "1h", **sections) -> Path:
    for n in range(SOURCES):
        feeds.set_feed(f"/f{n}.xml", rss(zebra_items(f"f{n}", range(2))))
    return daemon_config(
        tmp_path,
        **sections,
        sources=[
            {"name": f"f{n}", "kind": "feed", "url": feeds.url(f"/f{n}.xml"), "interval": interval}
            for n in range(SOURCES)
        ],
        channels={"console": {"type": "console"}},
        routes=[],
        cluster={"claim_interval": "0.1s"},
    )


def _pollers(caplog) -> Counter[str]:
    """Which daemon polled how many sources, from the poll threads' names."""
    out: Counter[str] = Counter()
    for r in caplog.records:
        if r.getMessage().startswith("source f") and " polled in " in r.getMessage():
            m = re.match(r"poll-(.+)_\d+$", r.threadName)
            assert m, r.threadName
            out[m.group(1)] += 1
    return out


def test_two_daemons_divide_the_sources_each_polled_once(tmp_path, feeds, caplog, backend):
    """On PostgreSQL the daemons divide the sources by themselves (``storage.url``); on
    SQLite only when told to (one daemon per file is the rule there)."""
    cfg = _config(tmp_path, feeds, storage=backend.storage)
    both_running = threading.Event()  # the feeds answer once both daemons have started
    for n in range(SOURCES):
        body = rss(zebra_items(f"f{n}", range(2)))
        feeds.set_handler(
            f"/f{n}.xml", lambda h, body=body: (both_running.wait(20), respond(h, 200, body))
        )
    caplog.set_level(logging.DEBUG, logger="monitor.daemon_status")
    divide = None if backend.url else True
    a = Daemon(cfg, Runtime.load(cfg), divide=divide)
    b = Daemon(cfg, Runtime.load(cfg), divide=divide)
    assert a.divide and b.divide
    a.start()
    b.start()  # no instance lock: the second daemon is not refused
    both_running.set()
    try:
        with backend.open() as store:
            wait_until(
                lambda: (
                    store.scalar("SELECT COUNT(*) FROM sources WHERE last_success_at IS NOT NULL")
                    == SOURCES
                ),
                30,
                what="every source polled",
            )
            assert store.scalar("SELECT COUNT(*) FROM items") == SOURCES * 2
            assert store.count_hits() == SOURCES * 2
    finally:
        assert a.stop() and b.stop()
    assert set(feeds.requests.values()) == {1} and len(feeds.requests) == SOURCES
    pollers = _pollers(caplog)
    assert sum(pollers.values()) == SOURCES
    assert set(pollers) == {a.member.id, b.member.id}, pollers  # both took a share
    with backend.open() as store:
        assert store.source_leases(utcnow()) == {}  # every lease let go
        assert store.live_daemons(utcnow()) == []  # both stopped cleanly


def test_conditional_get_state_is_shared_whoever_polls_next(tmp_path, feeds):
    """One daemon polls and stores the ETag; the source is due again and the other daemon's
    request carries it (304)."""
    body = rss(zebra_items("wire", range(2)))
    seen: list[str | None] = []

    def wire(h) -> None:
        seen.append(h.headers.get("If-None-Match"))
        if h.headers.get("If-None-Match") == '"v1"':
            respond(h, 304)
        else:
            respond(h, 200, body, headers={"ETag": '"v1"'})

    feeds.set_handler("/wire.xml", wire)
    cfg = daemon_config(
        tmp_path,
        sources=[{"name": "wire", "kind": "feed", "url": feeds.url("/wire.xml"), "interval": "1h"}],
        channels={"console": {"type": "console"}},
        routes=[],
        cluster={"claim_interval": "0.1s"},
    )
    db_path = load_config(cfg).db_path
    first = Daemon(cfg, Runtime.load(cfg), divide=True)
    first.start()
    try:
        feeds.wait(lambda: feeds.requests["/wire.xml"] == 1, what="the first poll")
        with Db(db_path) as db:
            wait_until(lambda: db.scalar("SELECT etag FROM sources"), 10, what="the ETag kept")
    finally:
        assert first.stop()
    with Store(db_path) as store:  # due now, as after its interval
        store.conn.execute("UPDATE sources SET next_poll_at = NULL")
    second = Daemon(cfg, Runtime.load(cfg), divide=True)
    second.start()
    try:
        feeds.wait(lambda: feeds.requests["/wire.xml"] == 2, what="the second poll")
    finally:
        assert second.stop()
    assert seen == [None, '"v1"']
    with Db(db_path) as db:
        assert db.count("items") == 2  # nothing new from the 304


def _status(cfg: Path, *args: str):
    result = CliRunner().invoke(cli, ["--config", str(cfg), "status", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout  # the daemons of this process log to stderr


def test_status_lists_every_live_daemon_and_warns_when_rule_sets_differ(tmp_path, feeds, backend):
    cfg = _config(tmp_path, feeds, interval="1h", storage=backend.storage)
    a = Daemon(cfg, Runtime.load(cfg), divide=True)
    a.start()
    other = tmp_path / "other"
    other.mkdir()
    write_rules(
        other, "rules:\n  - id: other\n    title: Other\n    match:\n      any: [giraffe]\n"
    )
    b_cfg = daemon_config(
        other,
        storage=backend.storage if backend.url else {"path": str(load_config(cfg).db_path)},
        sources=[],
        channels={"console": {"type": "console"}},
        routes=[],
    )
    b = Daemon(b_cfg, Runtime.load(b_cfg), divide=True)
    b.start()
    try:
        code, out = _status(cfg, "--json")
        data = json.loads(out)
        assert data["daemon"]["running"] is True  # the contract's key, as before
        assert [d["id"] for d in data["daemons"]] == [a.member.id, b.member.id]
        for d in data["daemons"]:
            assert set(d) >= {"id", "host", "version", "leases", "last_beat", "rules_hash"}
            assert d["version"] == "0.1.0" and d["role"] == "daemon"
        assert data["rule_sets_differ"] is True and code == 1
        assert any("different rule sets" in p for p in data["problems"])
        code, out = _status(cfg)
        assert "daemons     2 live on this database" in out
        assert f"  {a.member.id}" in out and f"  {b.member.id}" in out
        assert "WARNING: these daemons run different rule sets" in out
    finally:
        assert b.stop()
    try:
        code, out = _status(cfg, "--json")
        data = json.loads(out)
        assert [d["id"] for d in data["daemons"]] == [a.member.id]
        assert data["rule_sets_differ"] is False
        assert not any("different rule sets" in p for p in data["problems"])
    finally:
        assert a.stop()


def test_a_daemon_whose_lease_ran_out_enters_the_registry_again(tmp_path, feeds):
    cfg = _config(tmp_path, feeds)
    d = Daemon(cfg, Runtime.load(cfg), divide=True)
    d.start()
    try:
        first = d.member.id
        with Store(load_config(cfg).db_path) as store:  # as if it stalled past its lease
            store.daemon_stopped(first, utcnow() - timedelta(seconds=1))
        d.heartbeat()
        assert d.member.id != first
        with Store(load_config(cfg).db_path) as store:
            assert [x.id for x in store.live_daemons(utcnow())] == [d.member.id]
    finally:
        assert d.stop()
