"""run_source under a database that refuses: nothing raised, nothing lost."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from monitor.config import load_config
from monitor.pipeline import Runtime, run_source
from monitor.store import open_store
from yaml_helpers import write_config


@contextlib.contextmanager
def another_writer_holds(backend):
    """Another connection holding the database (SQLite) or the items table (PostgreSQL)."""
    if backend.url is None:
        other = sqlite3.connect(backend.target, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
    else:
        import psycopg

        other = psycopg.connect(backend.url, autocommit=True)
        other.execute("BEGIN")
        other.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_locked_database_fails_the_poll_politely_and_the_next_poll_records_everything(
    backend, tmp_path: Path
):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text(
        "Baku frees the eleven jailed Russians\n\nAzerbaijan released the eleven Russian citizens.\n",
        encoding="utf-8",
    )
    cfg = write_config(
        tmp_path,
        storage={**backend.storage, "busy_timeout": 0.2},
        sources=[{"name": "inbox", "kind": "folder", "path": "inbox"}],
        channels={"console": {"type": "console"}},
        routes=[{"channels": ["console"]}],
    )
    runtime = Runtime.from_config(load_config(cfg))
    source = runtime.config.source("inbox")
    with open_store(runtime.config) as store:
        store.sync_sources(runtime.config.sources)
        with another_writer_holds(backend):
            report = run_source(runtime, store, source)
        assert not report.ok and report.error.startswith("database:")
        assert store.count_items() == 0  # nothing half-kept: the item is not "seen"
        again = run_source(runtime, store, source)
        assert again.ok and again.new_items == 1 and again.hits >= 1


def test_one_story_in_three_feeds_makes_one_hit_per_rule_naming_the_other_sources(
    backend, tmp_path: Path, httpserver
):
    from test_sources_dedup import WIRE, outlets

    from helpers_sources import rss
    from monitor.daemon import run_once

    sources = []
    for n, (title, text) in enumerate(outlets(WIRE)):
        httpserver.expect_request(f"/outlet{n}.xml").respond_with_data(
            rss([{"guid": f"{n}-story", "title": title, "description": text}]),
            content_type="application/rss+xml",
        )
        sources.append(
            {"name": f"outlet{n}", "kind": "feed", "url": httpserver.url_for(f"/outlet{n}.xml")}
        )
    cfg = write_config(
        tmp_path,
        sources=sources,
        channels={"console": {"type": "console"}},
        routes=[{"channels": ["console"]}],
        http={"allow_private_networks": True},
        storage=backend.storage,
    )
    runtime = Runtime.from_config(load_config(cfg))
    reports = run_once(runtime)
    assert all(r.ok for r in reports)
    with open_store(runtime.config) as store:
        hits = store.list_hits(limit=None)
        assert hits, "the story must fire the detainee rules"
        per_rule: dict[str, list] = {}
        for h in hits:
            per_rule.setdefault(h.rule_id, []).append(h)
        for rule_id, rule_hits in per_rule.items():
            assert len(rule_hits) == 1, (rule_id, [h.source for h in rule_hits])
            (hit,) = rule_hits
            assert {hit.source, *hit.also_in} == {"outlet0", "outlet1", "outlet2"}, (
                rule_id,
                hit.also_in,
            )
        assert store.count_items() == 3  # every copy is stored, and seen
        sent = store.outbox_counts().get("sent", 0)
        assert sent == len(per_rule)  # one alert per rule, not one per outlet
