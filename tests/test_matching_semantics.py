"""The matcher: what a term, a phrase, near, sentence, scopes and languages mean, with evidence.

Each case is a tiny rule file (YAML, like an analyst writes) and texts it must or must not
fire on.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest

from monitor.matching import Matcher
from monitor.models import Item
from monitor.rules import load_rules

FIXTURES = Path(__file__).parent / "rules_fixtures"


def matcher_for(tmp_path: Path, body: str, **kw) -> Matcher:
    (tmp_path / "r.yaml").write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return Matcher(load_rules([tmp_path]).rules, **kw)


def one_rule(tmp_path: Path, match_yaml: str, extra: str = "") -> Matcher:
    body = (
        "- id: r\n  title: t\n"
        + extra
        + "  match:\n"
        + textwrap.indent(textwrap.dedent(match_yaml).strip("\n"), "    ")
        + "\n"
    )
    (tmp_path / "r.yaml").write_text(body, encoding="utf-8")
    return Matcher(load_rules([tmp_path]).rules)


def fires(m: Matcher, text: str, title: str = "", language: str | None = None) -> bool:
    return any(h.rule_id == "r" for h in m.match_text(text, title=title, language=language))


CASES = [
    # (match yaml, [texts that fire], [texts that do not])
    (
        "any: [release]",
        ["They released him", "RELEASING the men", "the Release of", "pre-release talks"],
        ["releasement"[:0] + "a relay race", "freelance"],
    ),
    ("any: [free]", ["set them free", "Free!"], ["freedom of the press", "a freeway"]),
    ("any: [освобождение]", ["об освобождении россиян", "ОСВОБОЖДЕНИЯ"], ["свобода слова"]),
    (
        "any: [Азербайджан]",
        ["с Азербайджаном", "в Азербайджане", "Азербайджан заявил"],
        ["азербайджанский"],
    ),
    ("any: [ёлка]", ["Новогодняя елка", "ёлка"], ["ель"]),
    ('any: ["Russia\'s"]', ["Russia’s move", "RUSSIA'S move"], ["Russia moves"]),
    (
        "any: [Trump Route]",
        ["the Trump-Route", "“Trump Route”", "Trump–Route", "trump\u00a0route"],
        ["Trump's route"],
    ),
    ("any: [hand over]", ["Baku handed over two men", "hands over"], ["hand the men over"]),
    ("any: [{term: Russians, exact: true}]", ["eleven Russians"], ["Russian police", "a Russian"]),
    ("any: [{term: ICE, case: true}]", ["ICE agents"], ["ice on the road", "Ice"]),
    ("any: [освобо*]", ["освободить", "освобождение", "освобождены"], ["свобода"]),
    ("any: [11]", ["the 11 citizens", "11"], ["110 citizens", "1 1"]),
    (
        "any: [{regex: '\\b11\\s+russians?\\b'}]",
        ["jailed 11 Russians", "11 russian men"],
        ["110 Russians", "11 Russ"],
    ),
    ("any: [{regex: '[0-9]+ (?:years|лет)'}]", ["for 99 years", "на 49 лет"], ["for years"]),
    ("any: [{regex: 'Baku', case: true}]", ["in Baku"], ["in BAKU"]),
    ("all: [Baku, release]", ["Baku will release them"], ["Baku said", "release date"]),
    ("none: [stock exchange]\nany: [exchange]", ["prisoner exchange"], ["the stock exchange"]),
    (
        "at_least: 2\nof: [Baku, Moscow, Yerevan]",
        ["Baku and Moscow"],
        ["Baku only", "Moscow, again Moscow"],
    ),
    (
        "any:\n  - all: [Baku, free]\n  - all: [Moscow, return]",
        ["Moscow wants them returned"],
        ["Moscow frees", "Baku returns"],
    ),
    (
        "near: [Baku, release]\nwithin: 2",
        ["Baku may soon release", "release by Baku"],
        ["Baku said on Monday it would release"],
    ),
    (
        "near: [[Russians, russian citizens], $x]\nwithin: 3",
        ["Russian citizens were freed", "freed 11 Russians"],
        ["Russians, it is said, may one day be freed"],
    ),
    (
        "sentence: [Baku, release]",
        ["Baku hinted at a release.", "Will Baku agree to a release?"],
        ["Baku spoke. The release came later.", "Baku spoke\nrelease"],
    ),
]


@pytest.mark.parametrize("match_yaml,yes,no", CASES, ids=[c[0].split("\n")[0][:40] for c in CASES])
def test_match_semantics(tmp_path, match_yaml, yes, no):
    extra = ""
    if "$x" in match_yaml:
        (tmp_path / "v.yaml").write_text(
            "vocabularies:\n  x: [free, freed, release]\n", encoding="utf-8"
        )
    m = one_rule(tmp_path, match_yaml, extra)
    for text in yes:
        assert fires(m, text), f"should fire on {text!r}"
    for text in no:
        assert not fires(m, text), f"should not fire on {text!r}"


def test_near_counts_the_words_between(tmp_path):
    m = one_rule(tmp_path, "near: [alpha, omega]\nwithin: 3")
    assert fires(m, "alpha one two three omega")
    assert not fires(m, "alpha one two three four omega")
    assert fires(m, "omega, alpha")  # either order


def test_field_scopes(tmp_path):
    m = one_rule(tmp_path, "all:\n  - {any: [Baku], in: title}\n  - {any: [release], in: body}")
    assert fires(m, "They will release the men.", title="Baku decides")
    assert not fires(m, "Baku will release the men.", title="Decision day")
    assert not fires(m, "Baku decides", title="Baku release")  # release only in the title
    m2 = one_rule(tmp_path, "any: [{term: Baku, in: title}]")
    assert not fires(m2, "Baku")


def test_rule_language_against_item_language(tmp_path):
    m = one_rule(tmp_path, "any: [Baku, Баку]", extra="  language: [ru]\n")
    assert fires(m, "Москва ждёт решения Баку по делу задержанных граждан.")
    assert not fires(m, "Moscow awaits the decision of Baku on the detained citizens.")
    assert fires(m, "Moscow awaits Baku", language="ru-RU")  # the source says so
    assert fires(m, "Baku!")  # too short to tell: the rule still runs


def test_hits_carry_their_evidence(tmp_path):
    m = Matcher(load_rules([FIXTURES]).rules)
    item = Item(
        source="s",
        key="k",
        title="Baku agrees",
        text="Azerbaijan will free the eleven Russians held since summer.",
    )
    hits = m.match(item)
    assert [h.rule_id for h in hits] == ["detainees-release"]
    h = hits[0]
    doc = item.document
    assert [doc[s:e] for s, e in h.spans] == ["Baku", "Azerbaijan", "free", "eleven Russians"]
    # as written, first seen first; both vocabulary terms that matched are named
    assert h.terms == ("Baku", "Azerbaijan", "free", "eleven Russians", "Russians")
    assert "**free**" in h.snippet and "**eleven Russians**" in h.snippet
    # each clause as an analyst reads it: a vocabulary by its name; exclusions left out
    assert h.why == "russians · azerbaijan · release words"
    assert (
        h.severity == "high"
        and h.tags == ("detainees", "russia")
        and h.rule_title.startswith("Russians")
    )


def test_why_shows_the_form_found(tmp_path):
    m = one_rule(tmp_path, "any: [release]")
    (h,) = m.match_text("They were released.")
    assert h.why == "“released”"  # the words found, not the rule's spelling
    assert h.terms == ("release",)


def test_hits_are_sorted_most_severe_first(tmp_path):
    m = matcher_for(
        tmp_path,
        """
        - {id: a-low, title: t, severity: low, match: [Baku]}
        - {id: b-critical, title: t, severity: critical, match: [Baku]}
        - {id: c-medium, title: t, match: [Baku]}
        - {id: d-high, title: t, severity: high, match: [Baku]}
        """,
    )
    assert [h.rule_id for h in m.match_text("Baku")] == [
        "b-critical",
        "d-high",
        "c-medium",
        "a-low",
    ]
    assert m.rule_count == 4


def test_a_rule_fires_once_however_often_its_terms_occur(tmp_path):
    m = one_rule(tmp_path, "any: [Baku]")
    hits = m.match_text("Baku " * 200)
    assert len(hits) == 1 and len(hits[0].spans) <= 64


# -- the prefilter never changes an answer -------------------------------------------------

WORDS = (
    "release released releasing free freed freedom hand handed over Baku Azerbaijan "
    "Азербайджан Азербайджаном россиян россияне освобождение освобождении освободить "
    "Russians Russian citizens eleven 11 exchange stock the of a in and ICE ice "
    "happy happiness hoping hoped possibility dying die Trump Route TRIPP"
).split()
PUNCT = [" ", " ", " ", ", ", ". ", " — ", "’s ", "\n", " «", "» "]


def _random_text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(WORDS) + rng.choice(PUNCT) for _ in range(n))


def test_the_prefilter_never_changes_the_answer(tmp_path):
    (tmp_path / "v.yaml").write_text(
        "vocabularies:\n  rel: [release, free, hand over, освобождение, освободить]\n",
        encoding="utf-8",
    )
    rules = """
        - {id: p1, title: t, match: {all: [[$rel], [Baku, Азербайджан]]}}
        - {id: p2, title: t, match: {near: [[Russians, россиян], [$rel]], within: 4}}
        - {id: p3, title: t, match: {sentence: [happy, hoping]}}
        - {id: p4, title: t, match: [{term: Russians, exact: true}, {term: ICE, case: true}]}
        - {id: p5, title: t, match: [освобо*, possib*]}
        - {id: p6, title: t, match: [{regex: '\\b11\\s+russians?'}, {regex: '[0-9]+'}]}
        - {id: p7, title: t, match: {any: [stock exchange], none: [the]}}
        - {id: p8, title: t, match: {at_least: 2, of: [die, dying, happi*, Trump Route]}}
        - {id: p9, title: t, match: {all: [{any: [Baku], in: title}, {any: [$rel], in: body}]}}
        - {id: p10, title: t, match: [Азербайджан, граждан России, eleven Russians]}
        """
    with_filter = matcher_for(tmp_path, rules)
    without = Matcher(with_filter.rules, prefilter=False)
    rng = random.Random(3)
    fired = 0
    for _ in range(400):
        item = Item(
            source="s",
            key="k",
            title=_random_text(rng, rng.randint(0, 6)),
            text=_random_text(rng, rng.randint(1, 40)),
        )
        a, b = with_filter.match(item), without.match(item)
        assert a == b, item
        fired += len(a)
    assert fired > 200  # the texts exercise the rules


def test_compiling_many_rules_is_quick(tmp_path):
    import time

    from monitor.rules import Group, Rule, Term

    rng = random.Random(1)
    vocab = [f"w{i}x{rng.randint(0, 99)}" for i in range(3000)]

    def group():
        return Group(
            "any", tuple(Term(text=w, words=(w,), scope="both") for w in rng.sample(vocab, 5))
        )

    rules = [
        Rule(id=f"r{i}", title="t", match=Group("all", (group(), group())), path="x")
        for i in range(1000)
    ]
    t0 = time.perf_counter()
    m = Matcher(rules)
    assert time.perf_counter() - t0 < 5
    assert m.rule_count == 1000
    target = rules[7]
    words = [c.text for g in target.match.children for c in g.children[:1]]
    assert "r7" in {h.rule_id for h in m.match_text(" and ".join(words))}


def test_why_reads_as_a_sentence(tmp_path):
    m = one_rule(
        tmp_path,
        """
      all:
        - any: [Baku, Azerbaijan]
        - near: [[release, free], [Russian citizens]]
          within: 6
        - sentence: [[Lavrov], [Bayramov]]
      none: [stock exchange]""",
    )
    (h,) = m.match_text(
        "Baku: Lavrov met Bayramov. The released Russian citizens flew home; release of "
        "the other Russian citizens follows."
    )
    assert h.why == (
        "“Baku” · “released” next to “Russian citizens” · “Lavrov” and “Bayramov” in one sentence"
    )
    (h,) = m.match_text(
        "Baku: Lavrov met Bayramov. Moscow wants to free, as soon as possible, the "
        "Russian citizens."
    )
    assert "“free” near “Russian citizens” (5 words apart)" in h.why


def test_an_emoji_glued_to_a_word_does_not_hide_it(tmp_path):
    # Telegram posts glue an emoji, with its presentation selector U+FE0F, to the first word
    m = one_rule(tmp_path, "any: [Затулин, Zatulin]")
    assert fires(m, "\u26a1\ufe0fЗатулин заявил о давлении")
    assert fires(m, "\u2757\ufe0fZatulin said")
    assert fires(m, "1\ufe0f\u20e3Затулин заявил")
    assert not fires(m, "\u26a1\ufe0fЗахарова заявила")
