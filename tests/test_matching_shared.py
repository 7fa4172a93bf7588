"""What a document's evaluation shares: equal subtrees are one node (a vocabulary used by
many rules is decided once per document), a regex is searched only where the literals it
needs occur, and near counts words no further than it must — none of it changes a hit or
its evidence."""

from __future__ import annotations

import random

import re2
from ruamel.yaml import YAML

from conftest import ROOT
from monitor import text as textmod
from monitor.matching import Matcher
from monitor.matching.compiler import RuleCompiler
from monitor.matching.document import Document
from monitor.matching.leaves import Regex
from monitor.matching.tree import Operator
from monitor.models import Item
from monitor.rules import load_rules
from monitor.rules.regex import required_alternatives


def _corpus_texts() -> list[str]:
    yaml = YAML(typ="safe")
    out = []
    for path in ("tests/corpus/corpus.yaml", "tests/corpus/heldout.yaml"):
        out += [
            f"{e['title']}\n\n{e['text']}"
            for e in yaml.load((ROOT / path).read_text(encoding="utf-8"))
        ]
    return out


def test_a_vocabulary_used_by_two_rules_is_one_node(tmp_path):
    (tmp_path / "r.yaml").write_text(
        "vocabularies:\n  places: [Baku, Azerbaijan, Баку]\n"
        "rules:\n"
        "  - id: a\n    title: a\n    match:\n      all: [$places, [talks, переговоры]]\n"
        "  - id: b\n    title: b\n    match:\n"
        "      near: [$places, [border, граница]]\n      within: 3\n",
        encoding="utf-8",
    )
    rules = load_rules([tmp_path]).active()
    compiled = RuleCompiler().compile(rules)
    a, b = (c.root for c in compiled)
    assert isinstance(a, Operator) and isinstance(b, Operator)
    assert a.children[0] is b.children[0]
    assert a.children[0].shared and not a.shared
    hits = Matcher(rules).match_text("Baku and Yerevan resumed talks on the border with Baku.")
    assert [(h.rule_id, h.why) for h in hits] == [
        ("a", "places · “talks”"),
        ("b", "“Baku” near “border” (1 word apart)"),
    ]


def test_shipped_rules_give_the_same_hits_and_evidence_with_and_without_the_prefilter():
    rules = load_rules([ROOT / "rules"]).active()
    filtered, every = Matcher(rules), Matcher(rules, prefilter=False)
    texts = _corpus_texts()
    rng = random.Random(3)
    docs = texts[:60] + ["\n\n".join(rng.sample(texts, 6)) for _ in range(20)]
    fired = 0
    for i, text in enumerate(docs):
        item = Item(source="t", key=str(i), title="", text=text)
        got = [m.record("active") for m in filtered.match(item)]
        assert got == [m.record("active") for m in every.match(item)]
        fired += len(got)
    assert fired > 20


def test_a_regex_is_never_skipped_where_it_matches():
    """Every match of every shipped regex holds one literal of each set it is said to need."""
    compiler = RuleCompiler()
    compiler.compile(load_rules([ROOT / "rules"]).active())
    regexes = [leaf for leaf in compiler._leaves.values() if isinstance(leaf, Regex)]
    assert sum(bool(r.needs) for r in regexes) > len(regexes) // 2
    matched = 0
    for text in _corpus_texts():
        padded = f" {textmod.flat_of(text)} "
        folded, cased = textmod.fold(text), textmod.fold_case_kept(text)
        for r in regexes:
            if r.regex.search(cased if r.case else folded) is not None:
                matched += 1
                assert all(any(x in padded for x in alts) for alts in r.needs), r.regex.pattern
    assert matched > 50


def test_required_alternatives():
    assert required_alternatives(r"\b(?:its|our|the)\s+(?:eleven|11)\b") == (("its", "our", "the"),)
    assert required_alternatives(r"(?:Moscow|the\s+Kremlin)\s+(?:said|told)") == (
        ("kremlin", "moscow"),
        ("said", "told"),
    )
    assert required_alternatives(r"(?:^|\.\s*)(?:a(?:bcd|efg)|hij)") == (("bcd", "efg", "hij"),)
    assert required_alternatives(r"(?:abc)?def") == (("def",),)
    assert required_alternatives(r"(?:abc|)def|x") is None  # an alternative needs nothing
    assert required_alternatives(r"\p{L}+") is None  # syntax the reader does not know
    for pattern in (r"(?:moscow|baku)\s+said", r"\bits\s+citizens\b"):
        assert re2.search(pattern, "moscow said its citizens")


def test_words_within_is_words_between_at_most_n():
    rng = random.Random(9)
    words = ["a", "bb", "ccc", "—", "dd'e", "  ", "ж", "123"]
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 40)))
        doc = Document(text, f" {textmod.flat_of(text)} ", 0, None, None)
        for _ in range(10):
            a, b = sorted(rng.randint(0, len(text)) for _ in range(2))
            n = rng.randint(0, 12)
            assert doc.words_within(a, b, n) == (doc.words_between(a, b) <= n)


def test_fold_is_the_plain_table_on_every_character():
    every = "".join(chr(c) for c in range(0x20000) if not 0xD800 <= c < 0xE000)
    table = dict(textmod.FOLD_CHARS)
    assert textmod.fold(every) == textmod.lower_same_length(every).translate(table)
    assert textmod.fold_case_kept(every) == every.translate(table)


def test_term_parts_are_kept_by_content_and_a_changed_word_is_analysed_afresh(tmp_path):
    from monitor.matching import wordparts

    def rules(word: str):
        (tmp_path / "r.yaml").write_text(
            f"rules:\n  - id: a\n    title: a\n    match:\n      all: [{word}, Баку]\n",
            encoding="utf-8",
        )
        return load_rules([tmp_path]).active()

    wordparts.clear()
    first = RuleCompiler()
    first.compile(rules("освободить"))
    made = dict(wordparts._CACHE)
    assert (("освободить",), False, False, False) in made
    again = RuleCompiler()
    again.compile(rules("освободить"))
    assert made == wordparts._CACHE  # nothing analysed twice
    text = "Баку освободил задержанных; Баку задержал журналистов."
    assert [m.rule_id for m in Matcher(rules("освободить")).match_text(text)] == ["a"]
    changed = rules("арестовать")  # the rule edited: its new word analysed, and matched
    assert (("арестовать",), False, False, False) not in made
    assert Matcher(changed).match_text(text) == []
    assert (("арестовать",), False, False, False) in wordparts._CACHE
    assert [m.rule_id for m in Matcher(rules("задержать")).match_text(text)] == ["a"]
