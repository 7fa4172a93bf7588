"""Russian words by lemma: one rule word covers every form of its lexeme, and no false friend."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from monitor import morph
from monitor import text as textmod
from monitor.matching import Matcher
from monitor.models import Item
from monitor.rules import load_rules
from signal_eval import load_half

ROOT = Path(__file__).resolve().parent.parent


def one_rule(tmp_path: Path, terms: list[str]) -> Matcher:
    body = f"- id: r\n  title: t\n  match:\n    any: [{', '.join(terms)}]\n"
    (tmp_path / "r.yaml").write_text(body, encoding="utf-8")
    return Matcher(load_rules([tmp_path]).rules)


@pytest.mark.parametrize(
    "word,forms",
    [
        # participles, short forms and gerunds belong to the verb's lexeme
        (
            "освободить",
            [
                "освобождены",
                "освобождённых",
                "освободят",
                "освободившие",
                "освободив",
                "Освобождено",
                "освобожден",
            ],
        ),
        ("передать", ["переданы", "передадут", "переданных", "передаст"]),
        ("помиловать", ["помилованных", "помилует", "помилованы"]),
        ("экстрадировать", ["экстрадированы", "экстрадирует"]),
        # nouns: every case and number, the genitive plural included
        ("россиянин", ["россиян", "россиянам", "россиянами", "Россияне"]),
        ("пограничник", ["пограничников", "пограничниками"]),
        ("охрана", ["охрану", "охраной"]),
        ("Байрамов", ["Байрамова", "Байрамовым"]),
    ],
)
def test_a_rule_word_matches_every_form_of_its_lexeme(tmp_path, word, forms):
    m = one_rule(tmp_path, [word])
    for form in forms:
        assert m.match_text(f"Сообщение: {form} вчера."), (word, form)


@pytest.mark.parametrize(
    "word,other",
    [
        ("охрана", "охра"),  # Snowball cuts охрана to охра
        ("груз", "Грузии"),  # Snowball: груз / грузи
        ("передать", "передает"),  # передавать, the imperfective ("передает ТАСС")
        ("суд", "судно"),
        ("интерес", "интересный"),
    ],
)
def test_words_that_only_share_a_stem_do_not_match(tmp_path, word, other):
    assert not one_rule(tmp_path, [word]).match_text(f"Сообщение: {other} вчера.")


def test_a_word_the_analyser_does_not_know_keeps_snowball_stems(tmp_path):
    assert morph.rule_lemma("татулян") is None
    m = one_rule(tmp_path, ["Татулян"])
    assert m.match_text("Генпрокуратура отказала в выдаче Татуляна.")
    assert m.match_text("Татуляну предъявлено обвинение.")


def test_every_form_of_a_lexeme_begins_with_one_of_its_needles():
    for word in ["освободить", "идти", "человек", "передать", "вернуться", "россиянин", "год"]:
        needles = [n.strip() for n in morph.lexeme_needles(word)]
        forms = {textmod.fold(f.word) for p in morph.known_readings(word) for f in p.lexeme}
        assert forms, word
        for f in forms:
            assert any(f.startswith(n) for n in needles), (word, f, needles)


def test_the_scan_loses_no_lemma_match_on_russian_news(tmp_path):
    """The shipped rules with and without the prefilter fire the same rules, with the same
    evidence, on every Russian text of the dev half of the blind corpus."""
    rules = load_rules([ROOT / "rules"]).active()
    fast = Matcher(rules)
    slow = Matcher(rules, prefilter=False)
    entries = [e for e in load_half("dev") if e["lang"] == "ru"]
    assert len(entries) > 50
    fired = 0
    for e in entries:
        item = Item(source="t", key=e["id"], title=e["title"], text=e["text"])
        a = [(h.rule_id, h.spans) for h in fast.match(item)]
        assert a == [(h.rule_id, h.spans) for h in slow.match(item)], e["id"]
        fired += bool(a)
    assert fired > 20


def test_a_phrase_of_lemmas(tmp_path):
    (tmp_path / "r.yaml").write_text(
        textwrap.dedent("""\
        - id: r
          title: t
          match:
            any: [граждане России]
        """),
        encoding="utf-8",
    )
    m = Matcher(load_rules([tmp_path]).rules)
    assert m.match_text("Гражданам России предоставлен консульский доступ.")
    assert not m.match_text("Граждане Армении.")
