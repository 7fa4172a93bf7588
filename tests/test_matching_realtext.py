"""On real text with rules drawn from its own words (benchmarks/realtext.py, on a sample),
the matcher fires exactly the rules the per-rule regex baseline fires, on every document,
whichever scan reads the stream; and a hit's evidence is the same read late as built at once."""

from __future__ import annotations

import importlib.util
import random
import sys

import pytest

from conftest import ROOT
from monitor.matching import Matcher
from monitor.models import Item
from monitor.rules import load_rules


@pytest.fixture(scope="module")
def realtext():
    spec = importlib.util.spec_from_file_location("realtext", ROOT / "benchmarks/realtext.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["realtext"] = module
    spec.loader.exec_module(module)
    items = module.pool()
    return module, items, module.Vocabulary(items)


@pytest.fixture(scope="module")
def sample(realtext, tmp_path_factory):
    rt, items, vocab = realtext
    rng = random.Random(5)
    specs = rt.rule_specs(vocab, 300, rng)
    folder = tmp_path_factory.mktemp("realtext")
    (folder / "bench.yaml").write_text(rt.rules_yaml(specs), encoding="utf-8")
    rules = load_rules([folder]).active()
    docs = [
        Item(source="bench", key=str(i), title="", text=t)
        for i, t in enumerate(rt.documents(items, 40, rng))
    ]
    return rt.Naive(specs, vocab), rules, docs


def test_the_matcher_fires_what_the_per_rule_regex_fires(sample):
    naive, rules, docs = sample
    matcher = Matcher(rules)
    fired = [{m.rule_id for m in matcher.match(d)} for d in docs]
    assert sum(map(len, fired)) > len(docs)  # the words really occur: rules fire
    assert fired == [naive.fires(d.document) for d in docs]


def test_the_set_scan_and_the_token_scan_give_the_same_hits(sample):
    _naive, rules, docs = sample
    by_set = Matcher(rules, learn=False)
    by_tokens = Matcher(rules, learn=False)
    for d in docs * 3:  # dense text: the token scan takes over after a few items
        by_tokens.match(d)
    assert by_tokens.prefilter.reads_tokens
    by_set.prefilter.sparse()
    for d in docs:
        assert not by_set.prefilter.reads_tokens
        assert [m.record("active") for m in by_tokens.match(d)] == [
            m.record("active") for m in by_set.match(d)
        ]
        by_set.prefilter.sparse()


def test_evidence_read_late_is_the_evidence(sample):
    _naive, rules, docs = sample
    matcher = Matcher(rules)
    every = Matcher(rules, prefilter=False)
    for d in docs[:10]:
        late = matcher.match(d)
        assert late == every.match(d)
        assert [(m.rule_id, m.terms, m.spans, m.snippet, m.why) for m in late] == [
            (m.rule_id, m.terms, m.spans, m.snippet, m.why) for m in every.match(d)
        ]
