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
from ruamel.yaml import YAML

from monitor.matching import Matcher
from monitor.models import Item
from monitor.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "rules"
HELDOUT = Path(__file__).resolve().parent / "corpus" / "heldout.yaml"


def _corpus() -> list[dict]:
    return YAML(typ="safe").load(HELDOUT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ruleset():
    return load_rules([RULES_DIR])


@pytest.fixture(scope="module")
def matcher(ruleset):
    return Matcher(ruleset.active())


def _fired(matcher: Matcher, entry: dict) -> set[str]:
    item = Item(source="heldout", key=entry["id"], title=entry["title"], text=entry["text"])
    return {m.rule_id for m in matcher.match(item)}


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


def report() -> int:
    """Per-rule precision and recall on the held-out corpus, printed; exit 1 on any mismatch."""
    ruleset = load_rules([RULES_DIR])
    matcher = Matcher(ruleset.active())
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    entries = _corpus()
    for entry in entries:
        fired, expected = _fired(matcher, entry), set(entry["expect"])
        for rid in fired & expected:
            tp[rid] += 1
        for rid in fired - expected:
            fp[rid] += 1
            print(f"  false positive  {rid:40} {entry['id']}: {entry['title']}")
        for rid in expected - fired:
            fn[rid] += 1
            print(f"  missed          {rid:40} {entry['id']}: {entry['title']}")
    print(f"{'rule':42} {'tp':>3} {'fp':>3} {'fn':>3}  precision  recall")
    for rule in ruleset.active():
        r = rule.id
        p = tp[r] / (tp[r] + fp[r]) if tp[r] + fp[r] else 1.0
        rc = tp[r] / (tp[r] + fn[r]) if tp[r] + fn[r] else 1.0
        print(f"{r:42} {tp[r]:3} {fp[r]:3} {fn[r]:3}  {p:9.2f}  {rc:6.2f}")
    T, F, N = sum(tp.values()), sum(fp.values()), sum(fn.values())
    exact = sum(1 for e in entries if _fired(matcher, e) == set(e["expect"]))
    print(
        f"{len(entries)} texts, {exact} exactly right; micro precision "
        f"{T / (T + F) if T + F else 1:.3f}, recall {T / (T + N) if T + N else 1:.3f}"
    )
    return 1 if F or N else 0


if __name__ == "__main__":
    sys.exit(report())
