"""How well each way of joining word forms serves a Russian rule word, measured.

For each pair (the word a rule author writes, a form a newswire prints, should it match?)
in ``benchmarks/data/ru_forms.tsv`` — hand-labelled, from the kinds of forms the rules
missed (participles, short forms, verbal nouns, plural genitives) and false friends that
share a stem (охрана/охра, стать/статьи, груз/Грузии) — each candidate says match or not:

- ``snowball``: the Snowball stem of the form is one of the rule word's stems (the
  matcher's stems, case-form stems included);
- ``simplemma``: simplemma's lemma of the form equals the rule word's lemma;
- ``pymorphy3``: the normal forms of every parse of the form meet those of the rule word;
- ``monitor``: as the matcher does it (monitor/morph.py): the rule word stands for the lemma
  of the reading it was written in (a dictionary form) or else of its likeliest reading, and
  matches a form any of whose readings has that lemma.

Prints recall (share of should-match pairs matched), false matches (share of should-not
pairs matched), the time per uncached lookup, and the first pairs it got wrong (``!`` marks
a false match).

    .venv/bin/python benchmarks/lemmas.py
"""

from __future__ import annotations

import time
from pathlib import Path

import pymorphy3
import simplemma

from monitor import text as textmod

DATA = Path(__file__).parent / "data" / "ru_forms.tsv"


def pairs() -> list[tuple[str, str, bool]]:
    out = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        word, form, good = line.split("\t")
        out.append((textmod.fold(word), textmod.fold(form), good == "1"))
    return out


def main() -> None:
    analyser = pymorphy3.MorphAnalyzer()

    def pm(w: str) -> set[str]:
        return {textmod.fold(p.normal_form) for p in analyser.parse(w)}

    def sm(w: str) -> set[str]:
        return {textmod.fold(simplemma.lemmatize(w, lang="ru"))}

    def sb_match(word: str, form: str) -> bool:
        return textmod.stem(form) in textmod.term_stems(word)

    from monitor import morph as ours

    def chosen(word: str, form: str) -> bool:
        # what the matcher does: a known word by the lemma of the reading it was written in
        # (or its likeliest), checked against every reading of the form; an unknown word by
        # its stems or the lemma the analyser guesses
        lemma = ours.rule_lemma(word)
        if lemma is not None:
            return lemma in ours.lemma_keys(form)
        return sb_match(word, form) or ours.guessed_lemma(word) in ours.lemma_keys(form)

    methods = {
        "snowball": sb_match,
        "simplemma": lambda w, f: bool(sm(w) & sm(f)),
        "pymorphy3 (every reading on both sides)": lambda w, f: bool(pm(w) & pm(f)),
        "monitor (pymorphy3 as the matcher uses it)": chosen,
    }
    data = pairs()
    pos = [p for p in data if p[2]]
    neg = [p for p in data if not p[2]]
    print(f"{len(pos)} pairs that should match, {len(neg)} that should not")
    print(f"{'method':44} {'recall':>7} {'false':>7} {'µs/word':>8}  wrong (first 8)")
    for name, fn in methods.items():
        t = time.perf_counter()
        hit = [fn(w, f) for w, f, _ in pos]
        bad = [fn(w, f) for w, f, _ in neg]
        per = (time.perf_counter() - t) / (2 * len(data)) * 1e6
        missed = [f"{w}/{f}" for (w, f, _), h in zip(pos, hit) if not h]
        missed += [f"!{w}/{f}" for (w, f, _), b in zip(neg, bad) if b]
        print(
            f"{name:44} {sum(hit) / len(pos):7.3f} {sum(bad) / len(neg):7.3f} {per:8.1f}  {' '.join(missed[:8])}"
        )


if __name__ == "__main__":
    main()
