"""Dismiss with a category and a free-text comment; notes and triage history in exports."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from helpers_hits import HitsDB
from monitor.cli import cli
from monitor.store.triage import parse_dismissal


def run(db: HitsDB, *args: str, ok: bool = True):
    result = CliRunner().invoke(
        cli, ["--config", str(db.config_path), *args], env={"COLUMNS": "200"}
    )
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize(
    "text,expected",
    [
        ("false-positive", ("false-positive", None)),
        ("False positive: a software release", ("false-positive", "a software release")),
        ("duplicate — same TASS story", ("duplicate", "same TASS story")),
        ("irrelevant - old news", ("irrelevant", "old news")),
    ],
)
def test_parse_dismissal(text, expected):
    assert parse_dismissal(text) == expected


def test_free_text_alone_is_refused_in_plain_words():
    with pytest.raises(ValueError) as err:
        parse_dismissal("dupliate: seen it")
    assert "did you mean 'duplicate'?" in str(err.value)
    assert "false-positive, duplicate or irrelevant" in str(err.value)


def test_dismiss_with_comment_shows_and_exports_it(hits_db: HitsDB):
    a, b = (h["id"] for h in hits_db.where(status="new")[:2])
    run(
        hits_db,
        "hits",
        "dismiss",
        str(a),
        "--reason",
        "false-positive: a software release",
        "--by",
        "anna",
    )
    run(
        hits_db,
        "hits",
        "dismiss",
        str(b),
        "--reason",
        "duplicate",
        "--comment",
        "same story as the TASS one",
    )
    run(hits_db, "hits", "note", str(a), "checked with the desk", "--by", "boris")
    with hits_db.open() as store:
        row = store.get_hit_row(a)
    assert (row.status_reason, row.status_comment) == ("false-positive", "a software release")
    shown = run(hits_db, "hits", "show", str(a)).output
    assert "(false-positive: a software release)" in shown
    as_json = json.loads(run(hits_db, "hits", "show", str(a), "--json").output)
    assert (as_json["status_reason"], as_json["status_comment"]) == (
        "false-positive",
        "a software release",
    )

    out = run(hits_db, "hits", "export", "--status", "dismissed", "--format", "jsonl").output
    records = {r["id"]: r for r in map(json.loads, out.splitlines())}
    assert records[a]["status_comment"] == "a software release"
    assert records[a]["notes"] == ["checked with the desk"]
    assert [(h["action"], h["text"], h["by"]) for h in records[a]["history"]] == [
        ("dismiss", "false-positive — a software release", "anna"),
        ("note", "checked with the desk", "boris"),
    ]
    assert records[b]["status_comment"] == "same story as the TASS one"

    table = run(hits_db, "hits", "export", "--status", "dismissed", "--format", "csv").output
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(table))}
    assert (
        rows[a]["status_comment"] == "a software release"
        and rows[a]["notes"] == "checked with the desk"
    )
    assert "anna dismiss: false-positive — a software release | " in rows[a]["history"]


def test_a_new_comment_on_a_dismissed_hit_is_recorded_and_a_bad_category_changes_nothing(
    hits_db: HitsDB,
):
    a = hits_db.where(status="new")[0]["id"]
    run(hits_db, "hits", "dismiss", str(a), "--reason", "irrelevant")
    again = run(
        hits_db, "hits", "dismiss", str(a), "--reason", "irrelevant", "--comment", "old news"
    ).output
    assert f"dismissed (irrelevant) 1 hit: {a}" in again
    bad = run(hits_db, "hits", "dismiss", str(a), "--reason", "boring and old", ok=False)
    assert bad.exit_code == 2 and "a dismissal starts with its category" in bad.output
    with hits_db.open() as store:
        assert store.get_hit_row(a).status_comment == "old news"
        assert [n.action for n in store.hit_notes(a)] == ["dismiss", "dismiss"]
