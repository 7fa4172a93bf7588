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
from conftest import tel_river_rule
from monitor.rules import Group, Pattern, Rule, Term, required_literal

WORDS = (
    "state states stated statement statements war wars warn warned warning ward "
    "release released releasing relay relays free freed freedom freeway hand handed "
    "handy handle over overt port ports portfolio portugal arm arms army armed law "
    "laws lawyer lawyers ban bans bank banks band happy happiness hoping hope hoped "
    "обмен обмена обменник обменять освобождение освобождении освободить свобода "
    "россиян россияне россия the of and a in 11 twelve"
).split()
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
        clauses = tuple(
            Group("any", tuple(_term(rng) for _ in range(rng.randint(1, 3))))
            for _ in range(
                rng.choice([1, 2, 2, 3, 3, 4]) if i % 10 == 0 else rng.choice([2, 3, 3, 4])
            )
        )
        if rng.random() < 0.1:
            clauses += (Group("none", (_term(rng),)),)
        rules.append(Rule(id=f"r{i}", title="t", match=Group("all", clauses), path="gen"))
    return rules


def _text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(WORDS) + rng.choice(PUNCT) for _ in range(n))


def test_candidates_equal_evaluating_every_rule():
    rng = random.Random(11)
    rules = _rules(rng, 200)
    fast = Matcher(rules)
    slow = Matcher(rules, prefilter=False)
    fired = docs_hit = 0
    for k in range(600):
        item = Item(
            source="s",
            key=str(k),
            title=_text(rng, rng.randint(0, 5)),
            text=_text(rng, rng.randint(1, 8)),
        )
        a, b = fast.match(item), slow.match(item)
        assert a == b, item
        fired += len(a)
        docs_hit += bool(a)
    assert fired > 500 and 100 < docs_hit < 600  # many hits, and documents without any


def test_a_document_with_no_candidate_matches_nothing():
    rng = random.Random(5)
    rules = _rules(rng, 50)
    m = Matcher(rules)
    assert m.match_text("nothing here of note") == Matcher(rules, prefilter=False).match_text(
        "nothing here of note"
    )


# -- the scan learns the words that begin like a rule's stem, and still answers the same --------


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
                words = tuple(run[i : i + rng.choice([2, 2, 3])])
                exact = rng.random() < 0.2
                return Term(text=" ".join(words), words=words, exact=exact)
        w = rng.choice(vocab)
        if r < 0.35:
            return Term(text=w, words=(w,), exact=True)
        if r < 0.45:
            p = w[: max(3, len(w) - 3)]
            return Term(text=p + "*", words=(p,), prefix=True)
        if r < 0.6:  # a shorter word: its stem is the start of many others
            w = w[: max(3, len(w) - rng.randint(1, 4))]
        return Term(text=w, words=(w,))

    return [
        Rule(
            id=f"n{i}",
            title="t",
            path="gen",
            match=Group(
                "all",
                tuple(
                    Group("any", tuple(term() for _ in range(rng.randint(1, 4))))
                    for _ in range(rng.choice([1, 2, 2, 3]))
                ),
            ),
        )
        for i in range(n)
    ]


def test_learning_the_stream_never_changes_an_answer_on_news_text():
    rng = random.Random(3)
    sentences = _news_texts()
    assert len(sentences) > 1000
    rules = _news_rules(rng, sentences, 300)
    learning = Matcher(rules)
    fixed = Matcher(rules, learn=False)
    slow = Matcher(rules, prefilter=False)
    items = []
    for k in range(300):
        body = " ".join(rng.sample(sentences, rng.randint(1, 12)))
        items.append(Item(source="s", key=str(k), title=rng.choice(sentences)[:80], text=body))
    fired = 0
    for item in items:
        expected = slow.match(item)
        assert learning.match(item) == expected, item
        assert fixed.match(item) == expected, item
        fired += len(expected)
    assert fired > 100, fired
    # what was learned, compiled into the scan: the same answers on the same and new texts
    learning.refresh()
    assert learning.excluded_count > 100, learning.excluded_count
    assert fixed.excluded_count == 0
    for k in range(300):
        item = (
            items[k]
            if k % 2
            else Item(
                source="s",
                key=f"n{k}",
                title="",
                text=" ".join(rng.sample(sentences, rng.randint(1, 12))),
            )
        )
        assert learning.match(item) == slow.match(item), item


def test_learning_on_the_generated_rules():
    rng = random.Random(17)
    rules = _rules(rng, 200)
    m = Matcher(rules)
    slow = Matcher(rules, prefilter=False)
    for k in range(900):
        if k % 100 == 99:
            m.refresh()
        item = Item(
            source="s",
            key=str(k),
            title=_text(rng, rng.randint(0, 5)),
            text=_text(rng, rng.randint(1, 8)),
        )
        assert m.match(item) == slow.match(item), item
    assert m.excluded_count > 10


def test_a_learned_word_is_skipped_and_its_neighbours_still_found():
    """Tell, televisions, telltale begin like the stem of "Tel"; once refused, the scan skips
    exactly those tokens, and still finds every form of the stem and any unknown word."""
    rule = tel_river_rule()
    m = Matcher([rule])
    assert m.match_text("tell the river, televisions, a telltale river") == []
    m.refresh()
    assert m.excluded_count == 3
    assert (
        len(m.prefilter.scan_set.match(b" tell the river  televisions  a telltale river ")) == 2
    )  # sentinel, river
    for text, fires in (
        ("Tel river", True),
        ("the river at Tel's", True),
        ("TELS by the river", True),
        ("rivers of Tel", True),
        ("telos river", False),
        ("tell a river", False),
    ):
        assert [r.rule_id for r in m.match_text(text)] == (["tel"] if fires else []), text
    # "telos" was new: found by the scan, refused, learned
    m.refresh()
    assert m.excluded_count == 4


# -- the raw scan: items read without their flat text ----------------------------------------

TRICKY = [
    "Über",
    "über",
    "ÜBER",
    "Straße",
    "ёлка",
    "Ёлка",
    "елка",
    "Россия",
    "РОССИЯ",
    "россии",
    "обмен",
    "İstanbul",
    "istanbul",
    "\u212aelvin",
    "kelvin",
    "ΟΔΟΣ",
    "οδός",
    "東京",
    "ಕನ್ನಡ",
    "नमस्ते।",
    "x\udc80y",
    "café",
    "CAFÉ",
    "naïve",
    "Zoë",
    "O’Brien",
    "“quoted”",
    "a—b",
    "«ёлки»",
    "© 2026",
    "5 °C",
    "£10",
    "€5",
    "×",
    "a\u00a0b",
    "a\u2009b",
    "a\u200bb",
    "\ufeffbom",
    "\u2028",
    "a_b",
    "a-b",
    "x·y",
    "¿qué?",
    "free",
    "freed",
    "Freedom",
    "release",
    "released",
    "swap",
    "swaps",
    "Tel",
    "tell",
    "telltale",
]


def _tricky_rules(rng: random.Random) -> list[Rule]:
    words = [
        "über",
        "straße",
        "ёлка",
        "елки",
        "россия",
        "обмен",
        "istanbul",
        "kelvin",
        "οδός",
        "東京",
        "café",
        "naïve",
        "zoë",
        "brien",
        "free",
        "release",
        "swap",
        "tel",
        "ಕನ್ನಡ",
    ]

    def term() -> Term:
        if rng.random() < 0.3:
            ws = tuple(rng.sample(words, 2))
            return Term(text=" ".join(ws), words=ws, exact=rng.random() < 0.2)
        w = rng.choice(words)
        r = rng.random()
        if r < 0.15:
            return Term(text=w, words=(w,), exact=True)
        if r < 0.25:
            return Term(text=w[:3] + "*", words=(w[:3],), prefix=True)
        return Term(text=w, words=(w,))

    return [
        Rule(
            id=f"t{i}",
            title="t",
            path="gen",
            match=Group(
                "all",
                tuple(
                    Group("any", tuple(term() for _ in range(rng.randint(1, 3))))
                    for _ in range(rng.choice([1, 1, 2]))
                ),
            ),
        )
        for i in range(60)
    ]


def test_scan_bytes_is_the_padded_flat_text():
    from monitor import text as textmod
    from monitor.matching import scantext

    rng = random.Random(23)
    for _ in range(3000):
        t = "".join(
            rng.choice(TRICKY + [" ", ", ", ". ", "?", "'s "]) for _ in range(rng.randint(0, 12))
        )
        assert scantext.scan_bytes(t) == f" {textmod.flat_of(t)} ".encode("utf-8", "replace"), t


def test_the_raw_scan_finds_every_atom_the_flat_scan_finds():
    """Capitals outside ASCII, ё, curly quotes, other spaces and signs, scripts without case,
    lone surrogates: the raw scan (or the flat one it falls back to) never misses an atom."""
    from monitor.matching import scantext

    rng = random.Random(29)
    rules = _tricky_rules(rng)
    m = Matcher(rules)
    slow = Matcher(rules, prefilter=False)
    unsafe = m.atom_count + 1
    fired = fallbacks = 0
    for k in range(1500):
        t = "".join(
            rng.choice(TRICKY) + rng.choice([" ", ", ", ". ", " — ", "’s ", "\u00a0", "\n"])
            for _ in range(rng.randint(1, 10))
        )
        flat_ids = set(m.prefilter.scan_set.match(scantext.scan_bytes(t))) - {unsafe}
        assert flat_ids <= set(m.scan(t)), t
        raw = scantext.raw_scan_bytes(t)
        fallbacks += raw is None or unsafe in m.prefilter.scan_set.match(raw)
        item = Item(source="s", key=str(k), title="", text=t)
        expected = slow.match(item)
        assert m.match(item) == expected, t
        fired += len(expected)
        if k % 300 == 299:
            m.refresh()
    assert fired > 300
    assert 100 < fallbacks < 1400  # both paths taken
