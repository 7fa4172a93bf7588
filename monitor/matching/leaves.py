"""The compiled leaves: where a word, a phrase or a regex occurs in one document.

    Words   per word a part (kind, value, needles): STEM (value: the stems a token may
            have), LEMMA (Russian: lemma keys, and for a word the dictionary does not know,
            its stems too), TOKEN (the token as written) or PREFIX; a
            phrase's words on consecutive tokens; a case-sensitive term checked against
            the text's capitals after
    Regex   the rule's RE2 regex over the folded text (or the cased text, ``case: true``)

Each leaf's spans are computed once per document (``Document.occurrences``), at most
:data:`MAX_SPANS` of them.
"""

from __future__ import annotations

import re
from typing import Any

from monitor import morph
from monitor import text as textmod
from monitor.matching.document import Document, Span
from monitor.rules.model import Pattern
from monitor.rules.regex import compile_regex, required_alternatives

__all__ = ["LEMMA", "MAX_SPANS", "PREFIX", "STEM", "TOKEN", "Part", "Regex", "Words"]

MAX_SPANS = 64
STEM, LEMMA, TOKEN, PREFIX = "s", "l", "t", "p"
# one word of a term: (kind, value, needles); needles are the word's atom in ``padded``
Part = tuple[str, Any, tuple[str, ...]]

_NONSPACE = re.compile(r"[^ ]")


def _find(padded: str, kind: str, value: Any, needles: tuple[str, ...]) -> list[Span]:
    """Spans (in ``padded``) of the tokens that are this word, in order."""
    out: list[Span] = []
    find = padded.find
    stem = textmod.stem
    lemmas = morph.lemma_keys
    for needle in needles:
        i = find(needle)
        if kind == TOKEN:
            n = len(needle) - 1
            while i >= 0:
                out.append((i + 1, i + n))
                i = find(needle, i + n)
            continue
        while i >= 0:
            end = find(" ", i + 1)
            if kind == PREFIX:
                out.append((i + 1, end))
            elif kind == STEM:
                if stem(padded[i + 1 : end]) in value:
                    out.append((i + 1, end))
            else:
                token = padded[i + 1 : end]
                if stem(token) in value or not value.isdisjoint(lemmas(token)):
                    out.append((i + 1, end))
            i = find(needle, end)
    if len(needles) > 1:
        out = sorted(set(out))
    return out


def _is(token: str, kind: str, value: Any) -> bool:
    if kind == STEM:
        return textmod.stem(token) in value
    if kind == LEMMA:
        return textmod.stem(token) in value or not value.isdisjoint(morph.lemma_keys(token))
    if kind == TOKEN:
        return bool(token == value)
    return token.startswith(value)


class Words:
    """A word or phrase; ``atoms``: the atoms of its words, all of which the scan must have
    found for it to occur; ``first``: the key of its first word, whose places in a document
    are found once for every leaf that begins with it (the phrases of one first word)."""

    __slots__ = ("atoms", "case_words", "first", "id", "parts")

    def __init__(
        self,
        leaf_id: int,
        parts: tuple[Part, ...],
        case_words: tuple[str, ...] | None,
        atoms: frozenset[int],
        first: int | None = None,
    ):
        self.id = leaf_id
        self.parts = parts
        self.case_words = case_words
        self.atoms = atoms
        self.first = -1 - leaf_id if first is None else first

    def occurrences(self, doc: Document) -> list[Span]:
        got = doc.occurrences.get(self.id)
        if got is not None:
            return got
        out: list[Span] = []
        if doc.atoms is not None and not self.atoms <= doc.atoms:
            doc.occurrences[self.id] = out
            return out
        padded = doc.padded
        firsts = doc.finds.get(self.first)
        if firsts is None:
            firsts = doc.finds[self.first] = _find(padded, *self.parts[0])
        for s, e in firsts:
            end = e
            for kind_k, value_k, _ in self.parts[1:]:
                m = _NONSPACE.search(padded, end)
                if m is None:
                    break
                start_k = m.start()
                end_k = padded.find(" ", start_k)
                if not _is(padded[start_k:end_k], kind_k, value_k):
                    break
                end = end_k
            else:
                span = (s - 1, end - 1)
                if self.case_words is None or self._case_ok(doc, span):
                    out.append(span)
                    if len(out) >= MAX_SPANS:
                        break
        doc.occurrences[self.id] = out
        return out

    def _case_ok(self, doc: Document, span: Span) -> bool:
        return textmod.cased_words(doc.cased[span[0] : span[1]]) == list(self.case_words or ())


class Regex:
    """A rule regex; compiled by the loader (carried on the Pattern) or here, once.
    ``atoms``: the atom of the literal every match contains (none: it has no literal),
    which the scan must have found for the regex to be run."""

    __slots__ = ("atoms", "case", "id", "needs", "regex")

    def __init__(self, leaf_id: int, pattern: Pattern, atoms: frozenset[int] = frozenset()):
        self.id = leaf_id
        self.atoms = atoms
        # sets of literals, every match holding one of each, as the flat text has them: a
        # document without one of some set is not searched
        flat = [
            tuple(x.translate(textmod.FLAT_TABLE) for x in alts)
            for alts in required_alternatives(pattern.pattern) or ()
        ]
        self.needs = tuple(alts for alts in flat if all(x.strip() for x in alts))
        compiled = pattern.compiled
        self.regex = (
            compiled if compiled is not None else compile_regex(pattern.pattern, pattern.case)
        )
        self.case = pattern.case

    def occurrences(self, doc: Document) -> list[Span]:
        got = doc.occurrences.get(self.id)
        if got is not None:
            return got
        out: list[Span] = []
        if self.atoms and doc.atoms is not None and not self.atoms <= doc.atoms:
            doc.occurrences[self.id] = out
            return out
        padded = doc.padded
        for alts in self.needs:
            for x in alts:
                if x in padded:
                    break
            else:
                doc.occurrences[self.id] = out
                return out
        for m in self.regex.finditer(doc.cased if self.case else doc.folded):
            s, e = m.span()
            if e > s:
                out.append((s, e))
                if len(out) >= MAX_SPANS:
                    break
        doc.occurrences[self.id] = out
        return out


Leaf = Words | Regex
