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


# -- both candidate paths (set scan + confirmations; distinct tokens via the word cache) ------

def _news_texts() -> list[str]:
    """Real news text: the items of the feed fixtures (one is deliberately no feed)."""
    from pathlib import Path

    from monitor import text as textmod
    from monitor.sources.feed import parse_feed

    sentences: list[str] = []
    for path in sorted((Path(__file__).parent / "fixtures" / "feeds").iterdir()):
        if path.suffix not in (".rss", ".atom"):
            continue
        try:
            feed = parse_feed(path.read_bytes(), source=path.stem)
        except Exception:  # noqa: BLE001, S112 — one fixture is deliberately no feed
            continue
        for it in feed.items:
            text = f"{it.title}\n{it.text}"
            sentences += [text[s:e] for s, e in textmod.sentences(text) if e - s > 20]
    return sentences


def _news_rules(rng: random.Random, texts: list[str], n: int) -> list[Rule]:
    """Rules of words of the texts, their prefixes (stems and prefix terms that begin other
    words), phrases of consecutive words, and a few regexes."""
    from monitor import text as textmod

    runs = [textmod.words(t) for t in texts]
    vocab = sorted({w for r in runs for w in r if len(w) >= 3 and w.isalpha()})

    def term() -> Term | Pattern:
        r = rng.random()
        if r < 0.05:
            w = rng.choice(vocab)[:4]
            pat = rf"\b{w}\w*"
            return Pattern(pattern=pat, literal=required_literal(pat))
        if r < 0.25:
            run = rng.choice(runs)
            if len(run) >= 2:
                i = rng.randrange(len(run) - 1)
                words = tuple(run[i:i + 2])
                return Term(text=" ".join(words), words=words)
        w = rng.choice(vocab)
        if r < 0.35:
            return Term(text=w, words=(w,), exact=True)
        if r < 0.45:
            p = w[: max(3, len(w) - 3)]
            return Term(text=p + "*", words=(p,), prefix=True)
        if r < 0.6:  # a shorter word: its stem is the start of many others
            w = w[: max(3, len(w) - rng.randint(1, 4))]
        return Term(text=w, words=(w,))

    return [Rule(id=f"n{i}", title="t", path="gen", match=Group("all", tuple(
        Group("any", tuple(term() for _ in range(rng.randint(1, 4))))
        for _ in range(rng.choice([1, 2, 2, 3]))))) for i in range(n)]


def test_both_candidate_paths_equal_evaluating_every_rule_on_news_text():
    rng = random.Random(3)
    sentences = _news_texts()
    assert len(sentences) > 1000
    rules = _news_rules(rng, sentences, 300)
    scan = Matcher(rules, freeze=False)
    scan.candidates = scan.candidates_scan  # type: ignore[method-assign]
    words = Matcher(rules, freeze=False)
    words.candidates = words.candidates_words  # type: ignore[method-assign]
    auto = Matcher(rules, freeze=False)
    slow = Matcher(rules, freeze=False, prefilter=False)
    fired = 0
    for k in range(300):
        body = " ".join(rng.sample(sentences, rng.randint(1, 12)))
        item = Item(source="s", key=str(k), title=rng.choice(sentences)[:80], text=body)
        expected = slow.match(item)
        assert scan.match(item) == expected, item
        assert words.match(item) == expected, item
        assert auto.match(item) == expected, item
        fired += len(expected)
    assert fired > 100, fired


def test_both_candidate_paths_on_the_generated_rules():
    rng = random.Random(17)
    rules = _rules(rng, 200)
    words = Matcher(rules, freeze=False)
    words.candidates = words.candidates_words  # type: ignore[method-assign]
    slow = Matcher(rules, freeze=False, prefilter=False)
    for k in range(600):
        item = Item(source="s", key=str(k), title=_text(rng, rng.randint(0, 5)),
                    text=_text(rng, rng.randint(1, 8)))
        assert words.match(item) == slow.match(item), item
