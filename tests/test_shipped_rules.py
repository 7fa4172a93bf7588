"""The shipped rules in rules/ as files: each comes from a seed signal, is active, and has
examples in both languages that pass. How they do on news texts: tests/test_rule_corpora.py.
"""

from __future__ import annotations

import pytest

from corpus_eval import ROOT, RULES_DIR
from monitor.rules import check_rules, load_rules


@pytest.fixture(scope="module")
def ruleset():
    return load_rules([RULES_DIR])


def test_every_rule_names_an_existing_seed(ruleset):
    for rule in ruleset.rules:
        seed = rule.derived_from.seed
        assert (ROOT / seed).is_file(), f"{rule.id}: seed {seed} does not exist"
        assert rule.derived_from.signal.strip(), f"{rule.id}: no signal sentence"
        assert rule.derived_from.signal.split()[0].strip('“”"') in (ROOT / seed).read_text(
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
