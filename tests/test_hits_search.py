"""Search as people type it: words, "exact phrases", OR, -exclude; a malformed query is
refused in plain words (the store's one translation, reached by the CLI and the page)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from helpers_hits import HitsDB
from monitor.cli import cli
from monitor.store.search import SearchError, fts_query


@pytest.fixture
def hits_db(hits_db_both: HitsDB) -> HitsDB:
    """The hit log on each backend: these tests run on SQLite and on PostgreSQL."""
    return hits_db_both


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _has_word(h, prefix: str) -> bool:
    return any(t.startswith(prefix) for t in _tokens(h["title"]) + _tokens(h["body"]))


def _has_phrase(h, phrase: str) -> bool:
    want = _tokens(phrase)
    for column in (h["title"], h["body"]):
        toks = _tokens(column)
        if any(toks[i : i + len(want)] == want for i in range(len(toks))):
            return True
    return False


def _ids(db: HitsDB, search: str) -> set[int]:
    with db.open() as store:
        return {h.id for h in store.list_hits(limit=None, search=search)}


def test_or_phrase_and_exclusion_select_what_they_say(hits_db: HitsDB):
    hits = hits_db.hits
    either = {h["id"] for h in hits if _has_word(h, "quillwort") or _has_word(h, "extradition")}
    assert _ids(hits_db, "quillwort OR extradition") == either and len(either) > 1
    phrase = {h["id"] for h in hits if _has_phrase(h, "rail transit")}
    assert _ids(hits_db, '"rail transit"') == phrase
    assert phrase < {h["id"] for h in hits if _has_word(h, "rail") and _has_word(h, "transit")}
    rail_not = {h["id"] for h in hits if _has_word(h, "rail") and not _has_word(h, "quillwort")}
    assert _ids(hits_db, "rail -quillwort") == rail_not == _ids(hits_db, "rail NOT quillwort")
    only_not = {h["id"] for h in hits if not _has_word(h, "baku")}
    assert _ids(hits_db, "-baku") == only_not and only_not
    both = {
        h["id"]
        for h in hits
        if _has_word(h, "rail") and (_has_word(h, "quillwort") or _has_word(h, "baku"))
    }
    assert _ids(hits_db, "rail quillwort OR baku") == both


def test_operators_and_punctuation_are_never_fts_syntax(hits_db: HitsDB):
    for text in [
        "AND",
        "rail AND",
        "NEAR(rail transit)",
        "rail* ^transit",
        "col:rail",
        "(",
        "'",
        "—",
        '""',
    ]:
        _ids(hits_db, text)  # no sqlite3.OperationalError, whatever is typed
    assert fts_query("Armenia OR Baku").match == '("Armenia"* OR "Baku"*)'
    assert fts_query('-"stock exchange" Baku').exclude == '"stock exchange"'


@pytest.mark.parametrize(
    "text,words",
    [
        ("OR Baku", "OR needs a word on each side"),
        ("Baku OR", "OR needs a word on each side"),
        ("Baku OR -stock", "leave a word out with -word"),
        ("Baku NOT", "NOT must be followed by the word"),
    ],
)
def test_malformed_queries_say_what_to_change(text, words):
    with pytest.raises(SearchError, match=re.escape(words)):
        fts_query(text)


def test_cli_search(hits_db: HitsDB):
    run = CliRunner().invoke
    base = ["--config", str(hits_db.config_path), "hits"]
    found = run(cli, [*base, "--search", "quillwort OR extradition", "--json"])
    assert found.exit_code == 0, found.output
    assert {h["id"] for h in json.loads(found.output)} == _ids(hits_db, "quillwort OR extradition")
    bad = run(cli, [*base, "--search", "Armenia OR"])
    assert (
        bad.exit_code == 2
        and "OR needs a word on each side" in bad.output
        and "Traceback" not in bad.output
    )
    assert _ids(hits_db, '"rail transit') == _ids(
        hits_db, '"rail transit"'
    )  # an open quote runs to the end
    export = run(cli, [*base, "export", "--search", "rail -quillwort", "--format", "jsonl"])
    assert {json.loads(line)["id"] for line in export.output.splitlines()} == _ids(
        hits_db, "rail -quillwort"
    )
