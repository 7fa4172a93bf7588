"""run_source under a database that refuses: nothing raised, nothing lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.config import load_config
from monitor.pipeline import Runtime, run_source
from monitor.store import Store
from yaml_helpers import write_config


def test_a_locked_database_fails_the_poll_politely_and_the_next_poll_records_everything(tmp_path: Path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("Baku frees the eleven jailed Russians\n\nAzerbaijan released the eleven Russian citizens.\n",
                                 encoding="utf-8")
    cfg = write_config(tmp_path, storage={"path": "data/monitor.db", "busy_timeout": 0.2},
                       sources=[{"name": "inbox", "kind": "folder", "path": "inbox"}],
                       channels={"console": {"type": "console"}}, routes=[{"channels": ["console"]}])
    runtime = Runtime.from_config(load_config(cfg))
    source = runtime.config.source("inbox")
    with Store(runtime.config.db_path, busy_timeout=0.2) as store:
        store.sync_sources(runtime.config.sources)
        other = sqlite3.connect(runtime.config.db_path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            report = run_source(runtime, store, source)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert not report.ok and report.error.startswith("database:")
        assert store.count_items() == 0  # nothing half-kept: the item is not "seen"
        again = run_source(runtime, store, source)
        assert again.ok and again.new_items == 1 and again.hits >= 1
