"""The shipped rules in rules/, judged on a second held-out corpus written blind.

tests/corpus/heldout.yaml was written from the seed briefs and docs/rules.md alone, before
the rules were read: English and Russian newswire texts labelled with the signals they
carry (``signals``, plain words) and, afterwards, the rule ids those signals map to
(``expect``). Exactly the expected rules must fire on each text; every other shipped rule
must stay silent. Runs the same way as tests/test_shipped_rules.py runs corpus.yaml.

Run ``python tests/test_heldout_rules.py`` for a precision/recall summary per rule.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from corpus_eval import RULES_DIR, fired, load_corpus, report
from monitor.matching import Matcher
from monitor.rules import load_rules

HELDOUT = Path(__file__).resolve().parent / "corpus" / "heldout.yaml"


def _corpus() -> list[dict]:
    return load_corpus(HELDOUT)


@pytest.fixture(scope="module")
def ruleset():
    return load_rules([RULES_DIR])


@pytest.fixture(scope="module")
def matcher(ruleset):
    return Matcher(ruleset.active())


def _fired(matcher: Matcher, entry: dict) -> set[str]:
    return fired(matcher, entry, source="heldout")


def test_heldout_is_well_formed(ruleset):
    entries = _corpus()
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids)), "duplicate held-out ids"
    assert len(entries) >= 100
    langs = Counter(e["lang"] for e in entries)
    assert langs["en"] >= 45 and langs["ru"] >= 45, langs
    assert sum(1 for e in entries if not e["expect"]) >= 35, "fewer than 35 hard negatives"
    known = {r.id for r in ruleset.active()}
    for e in entries:
        assert set(e) >= {"id", "lang", "title", "text", "signals", "expect"}, e["id"]
        unknown = set(e["expect"]) - known
        assert not unknown, f"{e['id']}: expects unknown rules {sorted(unknown)}"
        assert bool(e["signals"]) == bool(e["expect"]), f"{e['id']}: signals and expect disagree"


def test_every_rule_has_heldout_positives(ruleset):
    entries = _corpus()
    for rule in ruleset.active():
        assert any(rule.id in e["expect"] for e in entries), f"{rule.id}: no held-out positive"


@pytest.mark.parametrize("entry", _corpus(), ids=lambda e: e["id"])
def test_heldout_text_fires_exactly_the_expected_rules(matcher, entry):
    fired = _fired(matcher, entry)
    expected = set(entry["expect"])
    assert fired == expected, (
        f"missing {sorted(expected - fired)}, unexpected {sorted(fired - expected)}"
    )


if __name__ == "__main__":
    sys.exit(report(HELDOUT))
