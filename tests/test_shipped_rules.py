"""The shipped rules in rules/, judged on texts they have never seen.

tests/corpus/corpus.yaml holds short English and Russian news texts, each with the rule ids
that must fire on it; every other shipped rule must stay silent. The corpus is held out:
its texts paraphrase the signals differently from the rules' own examples, and include
hard negatives (a software release, a stock exchange, a US pardon, a transit of Mercury…).

Run ``python tests/test_shipped_rules.py`` for a precision/recall summary per rule.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from corpus_eval import ROOT, RULES_DIR, fired, load_corpus, report
from monitor.matching import Matcher
from monitor.rules import check_rules, load_rules

CORPUS = Path(__file__).resolve().parent / "corpus" / "corpus.yaml"


def _corpus() -> list[dict]:
    return load_corpus(CORPUS)


@pytest.fixture(scope="module")
def ruleset():
    return load_rules([RULES_DIR])


@pytest.fixture(scope="module")
def matcher(ruleset):
    return Matcher(ruleset.active())


def _fired(matcher: Matcher, entry: dict) -> set[str]:
    return fired(matcher, entry, source="corpus")


def test_corpus_is_well_formed(ruleset):
    entries = _corpus()
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids)), "duplicate corpus ids"
    assert len(entries) >= 60
    langs = Counter(e["lang"] for e in entries)
    assert langs["en"] >= 25 and langs["ru"] >= 25, langs
    known = {r.id for r in ruleset.active()}
    for e in entries:
        assert set(e) >= {"id", "lang", "title", "text", "expect"}, e["id"]
        unknown = set(e["expect"]) - known
        assert not unknown, f"{e['id']}: expects unknown rules {sorted(unknown)}"


def test_every_rule_has_corpus_positives_in_both_languages(ruleset):
    entries = _corpus()
    for rule in ruleset.active():
        langs = {e["lang"] for e in entries if rule.id in e["expect"]}
        assert langs >= {"en", "ru"}, f"{rule.id}: corpus positives only in {sorted(langs)}"


@pytest.mark.parametrize("entry", _corpus(), ids=lambda e: e["id"])
def test_corpus_text_fires_exactly_the_expected_rules(matcher, entry):
    fired = _fired(matcher, entry)
    expected = set(entry["expect"])
    assert fired == expected, (
        f"missing {sorted(expected - fired)}, unexpected {sorted(fired - expected)}"
    )


def test_every_rule_names_an_existing_seed(ruleset):
    for rule in ruleset.rules:
        seed = rule.derived_from.seed
        assert (ROOT / seed).is_file(), f"{rule.id}: seed {seed} does not exist"
        assert rule.derived_from.signal.strip(), f"{rule.id}: no signal sentence"
        assert rule.derived_from.signal.split()[0].strip("“”\"") in (ROOT / seed).read_text(
            encoding="utf-8"
        ), f"{rule.id}: signal not taken from {seed}"


def test_every_shipped_rule_is_active_and_has_bilingual_examples(ruleset):
    assert 12 <= len(ruleset.rules) <= 20
    for rule in ruleset.rules:
        assert rule.status == "active", rule.id
        assert rule.description, rule.id
        for kind, expect in (("match", True), ("no_match", False)):
            texts = [f"{ex.title} {ex.text}" for ex in rule.examples if ex.expect is expect]
            assert len(texts) >= 3, f"{rule.id}: fewer than 3 {kind} examples"
            assert any(_is_russian(t) for t in texts), f"{rule.id}: no Russian {kind} example"
            assert any(not _is_russian(t) for t in texts), f"{rule.id}: no English {kind} example"


def test_rules_own_examples_pass():
    problems = check_rules([RULES_DIR])
    assert not problems, "\n".join(str(p) for p in problems)


def _is_russian(text: str) -> bool:
    return any("а" <= ch.lower() <= "я" for ch in text)


if __name__ == "__main__":
    sys.exit(report(CORPUS))
