"""Judging the shipped rules on a labelled corpus: load it, match it, score it per rule.

A corpus is a YAML list of entries ``{id, lang, title, text, expect: [rule ids]}``; exactly
the expected rules must fire on each text, every other shipped rule must stay silent.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ruamel.yaml import YAML

from monitor.matching import Matcher
from monitor.models import Item
from monitor.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "rules"


def load_corpus(path: Path) -> list[dict]:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def fired(matcher: Matcher, entry: dict, source: str = "corpus") -> set[str]:
    item = Item(source=source, key=entry["id"], title=entry["title"], text=entry["text"])
    return {m.rule_id for m in matcher.match(item)}


def report(path: Path) -> int:
    """Per-rule precision and recall on a corpus, printed; exit status 1 on any mismatch."""
    ruleset = load_rules([RULES_DIR])
    matcher = Matcher(ruleset.active())
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    entries = load_corpus(path)
    exact = 0
    for entry in entries:
        got, expected = fired(matcher, entry), set(entry["expect"])
        exact += got == expected
        for rid in got & expected:
            tp[rid] += 1
        for rid in got - expected:
            fp[rid] += 1
            print(f"  false positive  {rid:40} {entry['id']}: {entry['title']}")
        for rid in expected - got:
            fn[rid] += 1
            print(f"  missed          {rid:40} {entry['id']}: {entry['title']}")
    print(f"{'rule':42} {'tp':>3} {'fp':>3} {'fn':>3}  precision  recall")
    for rule in ruleset.active():
        r = rule.id
        p = tp[r] / (tp[r] + fp[r]) if tp[r] + fp[r] else 1.0
        rc = tp[r] / (tp[r] + fn[r]) if tp[r] + fn[r] else 1.0
        print(f"{r:42} {tp[r]:3} {fp[r]:3} {fn[r]:3}  {p:9.2f}  {rc:6.2f}")
    T, F, N = sum(tp.values()), sum(fp.values()), sum(fn.values())
    print(
        f"{len(entries)} texts, {exact} exactly right; micro precision "
        f"{T / (T + F) if T + F else 1:.3f}, recall {T / (T + N) if T + N else 1:.3f}"
    )
    return 1 if F or N else 0
