"""Russian words by lemma: every form of a lexeme is one word to a rule.

A Russian word has dozens of forms (освободить: освободят, освободили, освобождены,
освобождённых, освободив …). A rule word that the analyser knows stands for its lemma —
the normal form of its most likely reading — and matches every token one of whose readings
has that lemma: participles, short forms and gerunds included, since they belong to the
verb's lexeme. A word the analyser does not know (most surnames and place names are known;
a rare transliteration or a loan verb may not be) matches by its Snowball stems
(:mod:`monitor.text`) and by the lemma the analyser guesses from its ending.

Measured against Snowball and simplemma on hand-labelled rule word / news form pairs
(``benchmarks/lemmas.py``): the lemma path joins every form listed and very few false
friends (охрана/охра, груз/Грузии, стать/статьи are apart, as Snowball's stems are not).

Lemmas are looked up once per distinct token (cached); the analyser (pymorphy3 with its
Russian dictionaries) loads on first use, so a CLI command that matches nothing pays nothing.
"""

from __future__ import annotations

import functools
import os.path
import sys
from typing import Any

__all__ = ["rule_lemma", "guessed_lemma", "lemma_keys", "lexeme_needles", "LEMMA_MARK"]

# a lemma key is the lemma behind this mark, so lemmas and Snowball stems (word characters
# only) can share one set of targets without meeting
LEMMA_MARK = "="

_CACHE: dict[str, frozenset[str]] = {}
_CACHE_MAX = 400_000
_FOLD = str.maketrans({"ё": "е", "Ё": "Е"})


@functools.cache
def _analyzer() -> Any:
    import logging

    import pymorphy3  # ~0.5 s and ~15 MB: only once Russian words are matched

    logging.getLogger("pymorphy3").setLevel(logging.WARNING)  # "Loading dictionaries …"
    return pymorphy3.MorphAnalyzer(lang="ru")


def _fold(word: str) -> str:
    return word.lower().translate(_FOLD)


def lemma_keys(token: str) -> frozenset[str]:
    """The lemma keys of every reading of a (flat, lower-case) Cyrillic token; cached."""
    got = _CACHE.get(token)
    if got is None:
        try:
            parses = _analyzer().parse(token)
        except (UnicodeError, ValueError):  # a lone surrogate
            parses = []
        got = frozenset(sys.intern(LEMMA_MARK + _fold(p.normal_form)) for p in parses)
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[token] = got
    return got


@functools.lru_cache(maxsize=4096)
def _readings(word: str) -> list[Any]:
    """The readings of a rule word that its lemma stands for: where the word as written is
    the normal form of one of its readings (the author wrote a dictionary form: Байрамов the
    surname, not the genitive plural of Байрам), that lemma; else the likeliest reading's."""
    parses = _analyzer().parse(word)
    if not parses:
        return []
    folded = _fold(word)
    lemma = next(
        (p.normal_form for p in parses if _fold(p.normal_form) == folded), parses[0].normal_form
    )
    return [p for p in parses if p.normal_form == lemma]


def known_readings(word: str) -> list[Any]:
    """The readings of ``word`` the dictionary knows (not guessed from its ending)."""
    return [p for p in _readings(word) if p.is_known]


def rule_lemma(word: str) -> str | None:
    """The lemma key a rule word stands for, or None when the analyser does not know the
    word (it then matches by its stems and by the lemma the analyser guesses)."""
    readings = known_readings(word)
    return LEMMA_MARK + _fold(readings[0].normal_form) if readings else None


def guessed_lemma(word: str) -> str | None:
    """For a word the analyser does not know (a rare name, a loan verb like
    экстрадировать): the lemma key it guesses from the word's ending, which the forms it
    guesses for the text share (экстрадирует → экстрадировать)."""
    readings = _readings(word)
    return LEMMA_MARK + _fold(readings[0].normal_form) if readings else None


def lexeme_needles(word: str) -> tuple[str, ...]:
    """Prefixes, each after a space, such that every form of the rule word's lexeme (as the
    flat text holds it: lower case, ё as е) begins with one of them — the word's atoms for
    the scan. One prefix when the forms share three letters or more; else one per group of
    forms with the same first three (suppletive forms: человек / люди)."""
    forms = {_fold(f.word) for p in (known_readings(word) or _readings(word)) for f in p.lexeme}
    forms.add(_fold(word))
    common = os.path.commonprefix(sorted(forms))
    if len(common) >= 3 or common in forms:
        return (" " + common,)
    groups: dict[str, set[str]] = {}
    for f in forms:
        groups.setdefault(f[:3], set()).add(f)
    return tuple(sorted(" " + os.path.commonprefix(sorted(g)) for g in groups.values()))
