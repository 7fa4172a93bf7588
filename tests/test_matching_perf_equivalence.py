"""The prefilter's candidate logic never changes an answer, on many generated rules.

Rules of two, three and four clauses mix stem terms (whose scan atoms are prefixes that
unrelated words share: "state" / "statement", "war" / "warn", "обмен" / "обменник"), exact and
prefix terms (found by the scan is enough) and regexes; texts are drawn from the same words
so that prefix collisions, one-clause-only and all-clause documents all occur.
"""

from __future__ import annotations

import random

from monitor.matching import Matcher
from monitor.models import Item
from monitor.rules import Group, Pattern, Rule, Term, required_literal

WORDS = ("state states stated statement statements war wars warn warned warning ward "
         "release released releasing relay relays free freed freedom freeway hand handed "
         "handy handle over overt port ports portfolio portugal arm arms army armed law "
         "laws lawyer lawyers ban bans bank banks band happy happiness hoping hope hoped "
         "обмен обмена обменник обменять освобождение освобождении освободить свобода "
         "россиян россияне россия the of and a in 11 twelve").split()
TERM_WORDS = [w for w in WORDS if w not in ("the", "of", "and", "a", "in")]
PUNCT = [" ", " ", " ", ", ", ". ", " — ", "’s ", "\n"]


def _term(rng: random.Random) -> Term | Pattern:
    r = rng.random()
    if r < 0.08:
        pat = rng.choice([r"\b11\s+\w+", r"warn(?:ed|ing)", r"обмен\w*", r"state\w+"])
        return Pattern(pattern=pat, literal=required_literal(pat))
    words = tuple(rng.sample(TERM_WORDS, 2)) if rng.random() < 0.2 else (rng.choice(TERM_WORDS),)
    kind = rng.random()
    if kind < 0.1:
        return Term(text=" ".join(words), words=words, exact=True)
    if kind < 0.18:
        w = words[-1][: max(3, len(words[-1]) - 2)]
        return Term(text=" ".join(words[:-1] + (w,)) + "*", words=words[:-1] + (w,), prefix=True)
    return Term(text=" ".join(words), words=words)


def _rules(rng: random.Random, n: int) -> list[Rule]:
    rules = []
    for i in range(n):
        clauses = tuple(Group("any", tuple(_term(rng) for _ in range(rng.randint(1, 3))))
                        for _ in range(rng.choice([1, 2, 2, 3, 3, 4]) if i % 10 == 0 else rng.choice([2, 3, 3, 4])))
        if rng.random() < 0.1:
            clauses += (Group("none", (_term(rng),)),)
        rules.append(Rule(id=f"r{i}", title="t", match=Group("all", clauses), path="gen"))
    return rules


def _text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(WORDS) + rng.choice(PUNCT) for _ in range(n))


def test_candidates_equal_evaluating_every_rule():
    rng = random.Random(11)
    rules = _rules(rng, 200)
    fast = Matcher(rules, freeze=False)
    slow = Matcher(rules, freeze=False, prefilter=False)
    fired = docs_hit = 0
    for k in range(600):
        item = Item(source="s", key=str(k), title=_text(rng, rng.randint(0, 5)),
                    text=_text(rng, rng.randint(1, 8)))
        a, b = fast.match(item), slow.match(item)
        assert a == b, item
        fired += len(a)
        docs_hit += bool(a)
    assert fired > 500 and 100 < docs_hit < 600  # many hits, and documents without any


def test_a_document_with_no_candidate_matches_nothing():
    rng = random.Random(5)
    rules = _rules(rng, 50)
    m = Matcher(rules, freeze=False)
    assert m.match_text("nothing here of note") == Matcher(rules, freeze=False, prefilter=False).match_text(
        "nothing here of note")
