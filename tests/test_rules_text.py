"""monitor.text and monitor.langdetect: folding, tokens, stems, sentences, snippets, language."""

from __future__ import annotations

import re

import pytest

from monitor import snippets as S, text as T
from monitor.langdetect import detect_language, normalise_language


@pytest.mark.parametrize(
    "s",
    [
        "Baku’s “release” — of 11 Russians\u00a0in ÉTÉ",
        "Ёлка и ЁЖ, İstanbul",
        "",
        "a\u2028b\tc\r\nd",
    ],
)
def test_fold_and_flatten_keep_offsets(s):
    assert len(T.fold(s)) == len(s)
    assert len(T.flat_of(s)) == len(s)


def test_folding_unifies_quotes_dashes_yo_and_spaces():
    assert T.fold("Russia’s «deal» — ёж\u00a0x") == 'russia\'s "deal" - еж x'
    assert T.words("Russia’s Trump–Route\u00a0plan") == ["russia", "s", "trump", "route", "plan"]
    assert T.words("Russia's Trump-Route plan") == T.words("RUSSIA’S TRUMP—ROUTE PLAN")
    assert T.words("Ёлка") == T.words("елка") == ["елка"]


def test_tokenize_offsets_point_at_the_tokens():
    s = "  «Освобождение» of 11\u00a0Russians—now!"
    toks = T.tokenize(s)
    assert [t for _, _, t in toks] == ["освобождение", "of", "11", "russians", "now"]
    for start, end, tok in toks:
        assert T.fold(s[start:end]) == tok
    flat = T.flat_of(s)
    assert [start for start, _, _ in toks] == [m.start() for m in re.finditer(r"[^ ]+", flat)]


@pytest.mark.parametrize(
    "forms",
    [
        ["release", "released", "releases", "releasing"],
        ["return", "returned", "returning", "returns"],
        ["освобождение", "освобождении", "освобождения"],
        ["россиянина", "россиянином"],
    ],
)
def test_inflections_share_a_stem(forms):
    assert len({T.stem(f) for f in forms}) == 1, {f: T.stem(f) for f in forms}


def test_the_script_chooses_the_stemmer():
    assert T.language_of_script("россиян") == "ru"
    assert T.language_of_script("russians") == "en"
    assert T.stem("russians") == "russian"
    assert T.stem("гражданами") == T.stem("гражданам") == "граждан"
    assert T.stem("гражданами") in T.term_stems("граждан")  # a rule word "граждан" accepts it


@pytest.mark.parametrize(
    "word",
    [
        "hoping",
        "hoped",
        "happy",
        "happiness",
        "possibility",
        "possible",
        "dying",
        "skies",
        "released",
        "relational",
        "Азербайджаном",
        "освобождении",
        "россиянами",
    ],
)
def test_every_form_starts_with_a_needle_of_its_stem(word):
    w = T.words(word)[0]
    assert any(w.startswith(n) for n in T.stem_needles(T.stem(w)))


def test_russian_rule_words_accept_the_stems_of_their_case_forms():
    stems = T.term_stems("азербайджан")
    assert T.stem("азербайджан") in stems and T.stem("азербайджаном") in stems
    assert T.term_stems("release") == (T.stem("release"),)


def test_sentences_skip_abbreviations_and_initials():
    s = "Mr. Smith met U.S. officials. J. Doe left! Then\nA new line. e.g. this stays."
    got = [s[a:b] for a, b in T.sentences(s)]
    assert got == [
        "Mr. Smith met U.S. officials.",
        "J. Doe left!",
        "Then",
        "A new line. e.g. this stays.",
    ]


def test_highlight_styles():
    s = "a <b> & c"
    spans = [(0, 1), (8, 9)]
    assert S.highlight(s, spans) == "**a** <b> & **c**"
    assert S.highlight(s, spans, "html") == "<mark>a</mark> &lt;b&gt; &amp; <mark>c</mark>"
    assert S.highlight(s, spans, "plain") == s
    assert S.highlight(s, spans, "ansi").startswith("\x1b[1;33ma\x1b[0m")
    with pytest.raises(ValueError):
        S.highlight(s, spans, "bogus")


def test_merge_spans_sorts_and_joins_overlaps():
    assert S.merge_spans([(5, 9), (0, 2), (1, 3), (9, 10)]) == [(0, 3), (5, 9), (9, 10)]


def test_snippet_centres_on_the_densest_evidence():
    words = [f"w{i}" for i in range(200)]
    text = " ".join(words)
    a = text.index("w150")
    b = text.index("w152")
    snip = S.snippet(text, [(a, a + 4), (b, b + 4), (0, 2)], width=60)
    assert "**w150**" in snip and "**w152**" in snip
    assert snip.startswith("… ") and snip.endswith(" …")
    assert len(snip) < 100
    assert "\n" not in S.snippet("one\n\ntwo **", [(0, 3)])


@pytest.mark.parametrize(
    "text,lang",
    [
        (
            "Moscow will raise the release of the detained citizens with the visiting minister.",
            "en",
        ),
        ("Москва поднимет вопрос об освобождении граждан России во время визита министра.", "ru"),
        ("Київ і Москва обмінялися полоненими, повідомили в міністерстві.", "uk"),
        ("Die Regierung hat die Gespräche mit der Delegation auf nächste Woche verschoben.", "de"),
        ("12345 !!!", None),
        ("", None),
    ],
)
def test_detect_language(text, lang):
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    "text,lang",
    [
        # Russian text with a Ukrainian name and a Ukrainian word in it stays Russian (one
        # Ukrainian letter used to make it Ukrainian, and a rule with language: [en, ru] missed it)
        (
            "Глава МИД Украины Андрій Сибіга заявил в Киеве, что Київ не признает итогов встречи "
            "в Баку, передает ТАСС.",
            "ru",
        ),
        (
            "Посол Украины Олександр Щерба назвал решение Баку ошибкой; в Москве заявление не "
            "комментируют.",
            "ru",
        ),
        # six-word headlines
        ("Baku frees eleven jailed Russian citizens", "en"),
        ("Lavrov and Bayramov hold Moscow talks", "en"),
        ("Баку освободил одиннадцать осуждённых россиян сегодня", "ru"),
        ("Армения отказалась выдать Татуляна России", "ru"),
        ("Зеленський провів переговори у Києві вчора", "uk"),
        # mixed: an English text quoting Russian, a Russian text quoting English
        (
            "Zakharova said the «гибридная война» against Armenia was being waged by Western NGOs, "
            "TASS reported.",
            "en",
        ),
        (
            "Захарова заявила, что так называемый «hybrid warfare» против Армении ведут западные "
            "НКО.",
            "ru",
        ),
    ],
)
def test_detect_language_on_headlines_names_and_mixed_text(text, lang):
    assert detect_language(text) == lang


def test_a_rule_limited_to_russian_still_sees_russian_text_with_a_ukrainian_name(tmp_path):
    from monitor.matching import Matcher
    from monitor.rules import load_rules

    (tmp_path / "r.yaml").write_text(
        "- id: r\n  title: t\n  language: [en, ru]\n  match: {all: [Баку, освободить]}\n",
        encoding="utf-8",
    )
    m = Matcher(load_rules([tmp_path]).rules)
    hits = m.match_text(
        "Министр иностранных дел Украины Андрій Сибіга в Київе прокомментировал "
        "решение Баку освободить осуждённых россиян."
    )
    assert [h.rule_id for h in hits] == ["r"]


def test_the_detector_says_nothing_rather_than_guess():
    assert detect_language("Baku!") is None  # too short: a rule limited to languages still runs


def test_normalise_language():
    assert normalise_language("en-US") == "en"
    assert normalise_language("RU_ru") == "ru"
    assert normalise_language("") is None


def test_the_one_pass_flat_text_equals_lowering_then_flattening():
    import random

    rng = random.Random(5)
    alphabet = [chr(c) for c in (*range(0x20, 0x250), *range(0x400, 0x500), *range(0x2000, 0x2070))]
    for _ in range(300):
        s = "".join(rng.choice(alphabet) for _ in range(40))
        assert T.flat_of(s) == T.lower_same_length(s).translate(T.FLAT_TABLE), s
    assert T.flat_of("İSTANBUL ǅ 𐐀") == "istanbul ǆ 𐐨"  # outside the table: lower() still applies
