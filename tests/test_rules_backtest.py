"""`monitor rules backtest`: stored items replayed through changed rules, on a real SQLite file."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from monitor.backtest import backtest
from monitor.cli import cli
from monitor.matching import Matcher
from monitor.models import Item, utcnow
from monitor.rules import load_rules
from monitor.config import Config
from monitor.pipeline import record
from monitor.store import Entry, Store
from monitor.store.backtest_queries import recorded_hits

OLD = """
- {id: baku, title: Baku, match: [Baku]}
- {id: steady, title: Steady, match: [Russians]}
"""
NEW = """
- {id: baku, title: Baku, match: {all: [Baku, Russians]}}
- {id: steady, title: Steady, match: [Russians]}
- {id: yerevan, title: Yerevan, status: draft, match: [Yerevan]}
"""
ITEMS = [
    Item(source="feed", key="1", title="Baku frees the Russians", text="After talks in Moscow."),
    Item(source="feed", key="2", title="Baku weather", text="Sunny in Baku."),
    Item(source="feed", key="3", title="Yerevan talks", text="Russians and Armenians meet."),
]


def make_db(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yaml").write_text(OLD, encoding="utf-8")
    db = tmp_path / "data" / "monitor.db"
    store = Store(db)
    matcher = Matcher(load_rules([rules]).rules)
    now = utcnow() - timedelta(days=2)
    record(store, Config(), [Entry(i, matcher.match(i)) for i in ITEMS], now=now)
    (tmp_path / "config.yaml").write_text(
        json.dumps({"storage": {"path": "data/monitor.db"}, "rules": {"paths": ["rules"]}}),
        encoding="utf-8",
    )
    (rules / "r.yaml").write_text(NEW, encoding="utf-8")  # the rules change after the fact
    return db


def test_backtest_finds_what_would_start_and_stop_firing(tmp_path):
    db = make_db(tmp_path)
    store = Store(db)
    rows = list(store.iter_items())
    recorded = recorded_hits(store, [r["id"] for r in rows])
    entries = [(store.item_from_row(r), recorded.get(r["id"], {})) for r in rows]
    rules = load_rules([tmp_path / "rules"]).rules
    result = backtest(entries, Matcher(rules))
    assert result.items == 3
    changes = {(c.rule_id, c.kind, c.item.key) for c in result.changes}
    assert changes == {("baku", "gone", "2"), ("yerevan", "new", "3")}
    assert result.same == {"baku": 1, "steady": 2}
    gone = next(c for c in result.changes if c.kind == "gone")
    assert gone.was_status == "new"
    new = next(c for c in result.changes if c.kind == "new")
    assert new.match is not None and "**Yerevan**" in new.match.snippet


def test_backtest_cli_compares_active_rules_unless_asked_for_drafts(tmp_path):
    make_db(tmp_path)
    config = str(tmp_path / "config.yaml")
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", config, "rules", "backtest", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["items"] == 3
    assert [(c["rule"], c["change"], c["key"]) for c in data["changes"]] == [("baku", "gone", "2")]
    with_drafts = json.loads(
        runner.invoke(cli, ["--config", config, "rules", "backtest", "--json", "--drafts"]).stdout
    )
    assert ("yerevan", "new", "3") in [
        (c["rule"], c["change"], c["key"]) for c in with_drafts["changes"]
    ]
    only = json.loads(
        runner.invoke(
            cli, ["--config", config, "rules", "backtest", "--json", "--rule", "steady"]
        ).stdout
    )
    assert only["changes"] == [] and only["rules"] == [
        {"rule": "steady", "same": 2, "new": 0, "gone": 0}
    ]
    later = json.loads(
        runner.invoke(
            cli, ["--config", config, "rules", "backtest", "--json", "--since", "1d"]
        ).stdout
    )
    assert later["items"] == 0
    table = runner.invoke(cli, ["--config", config, "rules", "backtest"])
    assert table.exit_code == 0 and "baku would no longer fire on 1 item" in table.stdout
    bad = runner.invoke(cli, ["--config", config, "rules", "backtest", "--since", "soonish"])
    assert bad.exit_code == 2 and "cannot read 'soonish'" in bad.output
