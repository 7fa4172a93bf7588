"""`monitor hits …` and `monitor rules stats` on a real database of a few hundred hits."""

from __future__ import annotations

import csv
import getpass
import io
import json
from datetime import timedelta

import click
import pytest
from click.testing import CliRunner

from helpers_hits import QUILLWORT_KEY, HitsDB
from monitor.cli import Context, cli
from monitor.cli.stats import RULES_SUBCOMMANDS, rules_stats
from monitor.store.base import parse_ts

CONTRACT = {"id", "rule", "severity", "source", "title", "url", "created_at"}


def run(db: HitsDB, *args: str, ok: bool = True):
    result = CliRunner().invoke(
        cli, ["--config", str(db.config_path), *args], env={"COLUMNS": "220"}
    )
    if ok:
        assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def newest_first(rows):
    return [h["id"] for h in sorted(rows, key=lambda h: (h["created_at"], h["id"]), reverse=True)]


def test_json_keeps_the_contract_and_lists_everything_newest_first(hits_db: HitsDB):
    hits = json.loads(run(hits_db, "hits", "--json").output)
    assert [h["id"] for h in hits] == newest_first(hits_db.hits)
    for h in hits:
        assert CONTRACT <= h.keys()
    first = hits[0]
    expected = next(h for h in hits_db.hits if h["id"] == first["id"])
    assert (first["rule"], first["severity"], first["source"], first["title"], first["url"]) == (
        expected["rule"],
        expected["severity"],
        expected["source"],
        expected["title"],
        expected["url"],
    )
    assert parse_ts(first["created_at"]) == expected["created_at"]


def test_table_for_people_shows_newest_first_with_ids_and_relative_times(hits_db: HitsDB):
    out = run(hits_db, "hits", "--limit", "5").output
    order = newest_first(hits_db.hits)[:6]
    urls = [next(h["url"] for h in hits_db.hits if h["id"] == i) for i in order]
    positions = [out.index(u) for u in urls[:5]]
    assert positions == sorted(positions), "newest first"
    assert urls[5] not in out, "limited to 5"
    for header in ("When", "Rule", "Severity", "Source", "Title", "Link"):
        assert header in out
    assert "ago" in out
    assert f"1–5 of {len(hits_db.hits)}" in out


def test_filters_on_the_command_line(hits_db: HitsDB):
    got = json.loads(
        run(
            hits_db,
            "hits",
            "--severity",
            "high",
            "--severity",
            "critical",
            "--since",
            "7d",
            "--source",
            "seeds",
            "--json",
        ).output
    )
    expected = [
        h
        for h in hits_db.hits
        if h["severity"] in ("high", "critical")
        and h["source"] == "seeds"
        and h["created_at"] >= hits_db.now - timedelta(days=7)
    ]
    assert expected and [h["id"] for h in got] == newest_first(expected)
    by_tag = json.loads(run(hits_db, "hits", "--tag", "csto", "--status", "new", "--json").output)
    assert {h["rule"] for h in by_tag} == {"eaeu-pressure"}
    assert len(by_tag) == len(hits_db.where(rule="eaeu-pressure", status="new"))
    dismissed = json.loads(run(hits_db, "hits", "--status", "dismissed", "--json").output)
    assert {h["id"] for h in dismissed} == {h["id"] for h in hits_db.where(status="dismissed")}


def test_search_finds_a_word_only_in_the_body(hits_db: HitsDB):
    got = json.loads(run(hits_db, "hits", "--search", "quillwort", "--json").output)
    (target,) = [h for h in hits_db.hits if h["key"] == QUILLWORT_KEY]
    assert [h["id"] for h in got] == [target["id"]]
    assert "quillwort" not in got[0]["title"].lower()


def test_bad_time_is_a_usage_error(hits_db: HitsDB):
    result = run(hits_db, "hits", "--since", "last tuesday", ok=False)
    assert result.exit_code == 2
    assert "cannot read 'last tuesday'" in result.output


def test_csv(hits_db: HitsDB):
    out = run(hits_db, "hits", "--csv", "--rule", "hybrid-war").output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(hits_db.where(rule="hybrid-war"))
    assert CONTRACT <= set(rows[0])
    assert rows[0]["tags"] == "russia; armenia"


def test_show_has_item_rule_snippet_and_deliveries(hits_db: HitsDB):
    with hits_db.open() as store:
        failed = store.query("SELECT hit_id FROM outbox WHERE status = 'failed' LIMIT 1")[0][
            "hit_id"
        ]
    h = next(h for h in hits_db.hits if h["id"] == failed)
    out = run(hits_db, "hits", "show", str(failed)).output
    # item and rule text is shown as written, never read as terminal markup
    for expected in (
        h["title"],
        h["source"],
        h["url"],
        h["rule"],
        "Why",
        "any[",
        "email",
        "failed",
        "SMTP 550: mailbox unavailable",
        "console",
    ):
        assert expected in out, expected
    record = json.loads(run(hits_db, "hits", "show", str(failed), "--json").output)
    assert CONTRACT <= record.keys()
    assert {d["channel"] for d in record["deliveries"]} == {"console", "email"}
    assert record["text"] == h["body"]
    missing = run(hits_db, "hits", "show", "999999", ok=False)
    assert missing.exit_code == 1 and "no hit 999999" in missing.output


def test_ack_records_who_and_when(hits_db: HitsDB):
    a, b = (h["id"] for h in hits_db.where(status="new")[:2])
    out = run(
        hits_db, "hits", "ack", str(a), str(b), "--by", "anna", "--note", "briefed the desk"
    ).output
    assert f"acknowledged 2 hits: {a}, {b}" in out
    again = run(hits_db, "hits", "ack", str(a)).output
    assert f"already acknowledged: {a}" in again
    with hits_db.open() as store:
        row = store.get_hit_row(a)
        assert (row.hit.status, row.status_by) == ("acked", "anna")
        assert row.status_at >= hits_db.now
        assert [(n.action, n.text) for n in store.hit_notes(a)] == [("ack", "briefed the desk")]


def test_ack_defaults_to_the_os_user_and_fails_on_unknown_ids(hits_db: HitsDB):
    a = hits_db.where(status="new")[0]["id"]
    result = run(hits_db, "hits", "ack", str(a), "999999", ok=False)
    assert result.exit_code == 1 and "no such hit: 999999" in result.output
    with hits_db.open() as store:
        assert store.get_hit_row(a).status_by == getpass.getuser()


def test_dismiss_needs_a_known_reason(hits_db: HitsDB):
    a = hits_db.where(status="new")[0]["id"]
    assert run(hits_db, "hits", "dismiss", str(a), ok=False).exit_code == 2
    bad = run(hits_db, "hits", "dismiss", str(a), "--reason", "boring", ok=False)
    assert bad.exit_code == 2 and "false-positive" in bad.output
    run(hits_db, "hits", "dismiss", str(a), "--reason", "false-positive", "--by", "boris")
    with hits_db.open() as store:
        row = store.get_hit_row(a)
    assert (row.hit.status, row.status_reason, row.status_by) == (
        "dismissed",
        "false-positive",
        "boris",
    )
    run(hits_db, "hits", "reopen", str(a), "--by", "anna")
    with hits_db.open() as store:
        assert store.get_hit(a).status == "new"


def test_note(hits_db: HitsDB):
    a = hits_db.hits[0]["id"]
    assert (
        f"noted on hit {a}"
        in run(hits_db, "hits", "note", str(a), "confirmed by the embassy", "--by", "anna").output
    )
    with hits_db.open() as store:
        (n,) = store.hit_notes(a)
    assert (n.action, n.text, n.by) == ("note", "confirmed by the embassy", "anna")
    assert run(hits_db, "hits", "note", str(a), "   ", ok=False).exit_code == 2
    assert "confirmed by the embassy" in run(hits_db, "hits", "show", str(a)).output


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_export_formats(hits_db: HitsDB, fmt: str, tmp_path):
    target = tmp_path / f"export.{fmt}"
    run(hits_db, "hits", "export", "--since", "7d", "--format", fmt, "-o", str(target))
    text = target.read_text(encoding="utf-8")
    if fmt == "csv":
        records = list(csv.DictReader(io.StringIO(text)))
    elif fmt == "json":
        records = json.loads(text)
    else:
        records = [json.loads(line) for line in text.splitlines()]
    expected = newest_first(
        [h for h in hits_db.hits if h["created_at"] >= hits_db.now - timedelta(days=7)]
    )
    assert [int(r["id"]) for r in records] == expected
    assert CONTRACT | {"status", "status_reason", "status_by"} <= set(records[0])


def test_export_with_text_to_stdout(hits_db: HitsDB):
    out = run(
        hits_db, "hits", "export", "--search", "quillwort", "--format", "jsonl", "--with-text"
    ).output
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert "quillwort" in record["text"]


def test_rules_stats(hits_db: HitsDB):
    stats = {s["rule"]: s for s in json.loads(_rules_stats(hits_db, "--json"))}
    noise = stats["stock-noise"]
    dismissed = len([h for h in hits_db.where(rule="stock-noise") if h["status"] == "dismissed"])
    assert noise["false_positives"] == dismissed
    assert noise["false_positive_share"] == pytest.approx(
        dismissed / len(hits_db.where(rule="stock-noise")), abs=1e-4
    )
    assert stats["rail-transit"]["last_30d"] == sum(
        h["created_at"] >= hits_db.now - timedelta(days=30)
        for h in hits_db.where(rule="rail-transit")
    )
    table = _rules_stats(hits_db)
    for header in ("7 days", "30 days", "False pos.", "Last fired"):
        assert header in table
    assert f"{dismissed / len(hits_db.where(rule='stock-noise')):.0%}" in table


def _rules_stats(db: HitsDB, *args: str) -> str:
    """`monitor rules stats` — through the rules group when it registers the command."""
    rules_group = cli.commands.get("rules")
    if rules_group is not None and "stats" in getattr(rules_group, "commands", {}):
        return run(db, "rules", "stats", *args).output
    group = click.Group("monitor", commands={"stats": rules_stats})
    result = CliRunner().invoke(
        group,
        ["stats", *args],
        obj=Context(str(db.config_path), "INFO", "plain"),
        env={"COLUMNS": "220"},
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_rules_subcommands_are_exported():
    assert RULES_SUBCOMMANDS == [rules_stats] and rules_stats.name == "stats"
    assert "Example" in rules_stats.help
