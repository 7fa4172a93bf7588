"""All rules compiled once into one Matcher; ``match(item)`` is pure (no I/O).

    compile:  every term ─► one "atom" in one re2.Set: a token start followed by the prefix
              every form of the stem shares, a whole token, a phrase (its words' needles on
              consecutive tokens; phrases of one first word share an atom), or a regex's
              required literal; every rule ─► the clauses (sets of atoms, at least one of
              which must occur) it cannot match without.
    match:    document ─UTF-8, ASCII flattened─► re2.Set ─► atoms present ─► rules whose
              every clause is hit ─► confirm their stem atoms (stem the few tokens found in
              the flat text) ─► exact evaluation of those rules ─► RuleMatch with terms,
              spans, snippet and why, most severe first.
    learn:    a stem atom found whose tokens all have other stems ("public" for ``pub``) ─►
              those tokens' rests, compiled into its pattern as continuations to skip.

The prefilter is only a necessary condition: every hit is decided by the exact evaluation.
Most items stop after the set scan and are never flattened, tokenised or stemmed. The scan
reads the raw text: its patterns take the common non-ASCII punctuation where the flat text
has a space, and a letter's capitals where it has the letter; one more pattern finds any
other character the flat text would change, and such an item is scanned again from its flat
text. Offsets in the flat text are offsets in the document (same length).
"""

from __future__ import annotations

import bisect
import ctypes
import ctypes.util
import functools
import gc
import logging
import re
import threading
import time
from dataclasses import dataclass
from itertools import chain
from typing import Any, Iterable

import re2

from monitor import morph
from monitor import text as textmod
from monitor.langdetect import detect_language, normalise_language
from monitor.models import SEVERITY_RANK, Item, RuleMatch
from monitor.rules import MatchNode, Pattern, Rule, Term, compile_regex

log = logging.getLogger(__name__)

__all__ = ["Matcher"]

_SNIPPET_WIDTH = 240
_MAX_SPANS = 64
_NONSPACE = re.compile(r"[^ ]")

# an occurrence: (start, end) character offsets in the document
Span = tuple[int, int]
# evidence: (term label, span) pairs; None means "did not match"
Evidence = list[tuple[str, Span]]


# == per-item state, computed lazily ========================================================


class _Doc:
    """One item's text in the forms the evaluation needs, each computed at most once.

    ``padded`` is ``" " + flat + " "``: offset ``i`` in it is offset ``i - 1`` in the document.
    """

    __slots__ = ("text", "padded", "title_end", "given_language", "atoms", "_folded",
                 "_cased", "_sentences", "_language", "cache", "evals")

    def __init__(self, text: str, padded: str, title_end: int, language: str | None,
                 atoms: set[int] | None):
        self.atoms = atoms  # the atoms the set scan found (None: not known)
        self.text = text
        self.padded = padded
        self.title_end = title_end
        self.given_language = language
        self._folded: str | None = None
        self._cased: str | None = None
        self._sentences: list[int] | None = None
        self._language: str | None | bool = False
        self.cache: dict[int, list[Span]] = {}
        self.evals: dict[int, Any] = {}  # node results, kept while describing a hit

    @property
    def folded(self) -> str:
        if self._folded is None:
            self._folded = textmod.fold(self.text)
        return self._folded

    @property
    def cased(self) -> str:
        if self._cased is None:
            self._cased = textmod.fold_case_kept(self.text)
        return self._cased

    @property
    def sentence_starts(self) -> list[int]:
        if self._sentences is None:
            self._sentences = [s for s, _ in textmod.sentences(self.text)] or [0]
        return self._sentences

    @property
    def language(self) -> str | None:
        if self._language is False:
            self._language = normalise_language(self.given_language) or detect_language(self.text)
        return self._language  # type: ignore[return-value]

    def words_between(self, a: int, b: int) -> int:
        """How many tokens lie between document offsets ``a`` and ``b``."""
        return len(self.padded[a + 1:b + 1].split()) if b > a else 0


# == compiled leaves ========================================================================


class _Words:
    """A word or phrase. ``parts``: per word (kind, value, needles) with kind 's' (stems),
    'l' (a Russian lemma key), 't' (whole token) or 'p' (token prefix); ``needles`` are the
    word's atom in ``padded``."""

    __slots__ = ("id", "parts", "case_words", "atoms")

    def __init__(self, leaf_id: int, parts: tuple[tuple[str, str, tuple[str, ...]], ...],
                 case_words: tuple[str, ...] | None, atoms: frozenset[int]):
        self.id = leaf_id
        self.parts = parts
        self.case_words = case_words
        self.atoms = atoms  # the atoms of its words: all must have been found

    @staticmethod
    def _find(padded: str, kind: str, value: Any, needles: tuple[str, ...]) -> list[Span]:
        """Spans (in ``padded``) of the tokens that are this word, in order."""
        out: list[Span] = []
        find = padded.find
        stem = textmod.stem
        lemmas = morph.lemma_keys
        for needle in needles:
            i = find(needle)
            if kind == "t":
                n = len(needle) - 1
                while i >= 0:
                    out.append((i + 1, i + n))
                    i = find(needle, i + n)
                continue
            while i >= 0:
                end = find(" ", i + 1)
                if kind == "p":
                    out.append((i + 1, end))
                elif kind == "s":
                    if stem(padded[i + 1:end]) in value:
                        out.append((i + 1, end))
                else:
                    token = padded[i + 1:end]
                    if stem(token) in value or not value.isdisjoint(lemmas(token)):
                        out.append((i + 1, end))
                i = find(needle, end)
        if len(needles) > 1:
            out = sorted(set(out))
        return out

    @staticmethod
    def _is(token: str, kind: str, value: str) -> bool:
        if kind == "s":
            return textmod.stem(token) in value
        if kind == "l":
            return textmod.stem(token) in value or not value.isdisjoint(morph.lemma_keys(token))
        if kind == "t":
            return token == value
        return token.startswith(value)

    def occurrences(self, doc: _Doc) -> list[Span]:
        got = doc.cache.get(self.id)
        if got is not None:
            return got
        out: list[Span] = []
        if doc.atoms is not None and not self.atoms <= doc.atoms:
            doc.cache[self.id] = out
            return out
        padded = doc.padded
        kind, value, needles = self.parts[0]
        for s, e in self._find(padded, kind, value, needles):
            end = e
            for kind_k, value_k, _ in self.parts[1:]:
                m = _NONSPACE.search(padded, end)
                if m is None:
                    break
                start_k = m.start()
                end_k = padded.find(" ", start_k)
                if not self._is(padded[start_k:end_k], kind_k, value_k):
                    break
                end = end_k
            else:
                span = (s - 1, end - 1)
                if self.case_words is None or self._case_ok(doc, span):
                    out.append(span)
                    if len(out) >= _MAX_SPANS:
                        break
        doc.cache[self.id] = out
        return out

    def _case_ok(self, doc: _Doc, span: Span) -> bool:
        return doc.cased[span[0]:span[1]].translate(textmod.FLAT_CASED_TABLE).split() == list(self.case_words or ())


class _Regex:
    __slots__ = ("id", "regex", "case")

    def __init__(self, leaf_id: int, pattern: Pattern):
        self.id = leaf_id
        self.regex = compile_regex(pattern.pattern, pattern.case)
        self.case = pattern.case

    def occurrences(self, doc: _Doc) -> list[Span]:
        got = doc.cache.get(self.id)
        if got is not None:
            return got
        out: list[Span] = []
        for m in self.regex.finditer(doc.cased if self.case else doc.folded):
            s, e = m.span()
            if e > s:
                out.append((s, e))
                if len(out) >= _MAX_SPANS:
                    break
        doc.cache[self.id] = out
        return out


# == compiled nodes =========================================================================


class _Leaf:
    __slots__ = ("leaf", "scope", "label", "vocabulary", "_label_words")

    def __init__(self, leaf: Any, scope: str, label: str, vocabulary: str | None):
        self._label_words: list[str] | None = None
        self.leaf = leaf
        self.scope = scope
        self.label = label
        self.vocabulary = vocabulary

    def eval(self, doc: _Doc) -> Evidence | None:
        leaf = self.leaf
        spans = doc.cache.get(leaf.id)
        if spans is None:
            spans = leaf.occurrences(doc)
        if not spans:
            return None
        if self.scope != "both":
            te = doc.title_end
            if self.scope == "title":
                spans = [sp for sp in spans if sp[1] <= te]
            else:
                spans = [sp for sp in spans if sp[0] >= te]
        if not spans:
            return None
        label = self.label
        return [(label, sp) for sp in spans]

    def holds(self, doc: _Doc) -> bool:
        spans = doc.cache.get(self.leaf.id)
        if spans is None:
            spans = self.leaf.occurrences(doc)
        if not spans:
            return False
        scope = self.scope
        if scope == "both":
            return True
        te = doc.title_end
        if scope == "title":
            return any(sp[1] <= te for sp in spans)
        return any(sp[0] >= te for sp in spans)

    def found(self, doc: _Doc) -> str:
        """The words this leaf matched first, as the text has them, quoted."""
        ev = _evaluated(self, doc)
        if not ev:
            return f"“{_short(self.label)}”"
        s, e = ev[0][1]
        return f"“{_short(' '.join(doc.text[s:e].split()))}”"

    def describe(self, doc: _Doc, clause: bool = True) -> str:
        """A term of a vocabulary, as a whole clause of its rule, is named by its vocabulary;
        any other term by the words it found."""
        if clause and self.vocabulary:
            return _vocabulary_name(self.vocabulary)
        return self.found(doc)

    @property
    def label_words(self) -> list[str]:
        got = self._label_words
        if got is None:
            got = self._label_words = textmod.words(self.label.rstrip("*"))
        return got


class _Op:
    __slots__ = ("op", "children", "n", "within", "vocabulary")

    def __init__(self, op: str, children: list[Any], n: int = 0, within: int = 0,
                 vocabulary: str | None = None):
        self.op = op
        self.children = children
        self.n = n
        self.within = within
        self.vocabulary = vocabulary

    def eval(self, doc: _Doc) -> Evidence | None:
        op = self.op
        if op == "any":
            out: Evidence | None = None
            for c in self.children:
                ev = c.eval(doc)
                if ev is not None:
                    out = ev if out is None else out + ev
            return out
        if op == "all":
            # whether every child holds, each stopping at its first match, before gathering
            # every child's evidence: most candidate rules fail on a later child
            children = self.children
            if len(children) > 1:
                for c in children:
                    if not c.holds(doc):
                        return None
            out = []
            for c in children:
                ev = c.eval(doc)
                if ev is None:
                    return None
                out += ev
            return out
        if op == "none":
            for c in self.children:
                if c.eval(doc) is not None:
                    return None
            return []
        if op == "at_least":
            out, count = [], 0
            for c in self.children:
                ev = c.eval(doc)
                if ev is not None:
                    count += 1
                    out += ev
            return out if count >= self.n else None
        if op == "near":
            return self._near(doc)
        if op == "sentence":
            return self._sentence(doc)
        raise AssertionError(op)

    def holds(self, doc: _Doc) -> bool:
        """``eval(doc) is not None``, without gathering evidence ``any`` and ``all`` do not need."""
        op = self.op
        if op == "any":
            for c in self.children:
                if c.holds(doc):
                    return True
            return False
        if op == "all":
            for c in self.children:
                if not c.holds(doc):
                    return False
            return True
        return self.eval(doc) is not None

    def _args(self, doc: _Doc) -> list[Evidence] | None:
        args = []
        for c in self.children:
            ev = c.eval(doc)
            if not ev:
                return None
            args.append(ev)
        return args

    def _near(self, doc: _Doc) -> Evidence | None:
        """The first window holding every argument with at most ``within`` words between."""
        args = self._args(doc)
        if args is None:
            return None
        need = len(args)
        events = sorted((sp[0], sp[1], k, label) for k, ev in enumerate(args) for label, sp in ev)
        counts = [0] * need
        covered = left = 0
        for right in range(len(events)):
            k = events[right][2]
            if counts[k] == 0:
                covered += 1
            counts[k] += 1
            while covered == need:
                window = events[left:right + 1]
                first_end = min(e[1] for e in window)
                if doc.words_between(first_end, events[right][0]) <= self.within:
                    return [(label, (s, e)) for s, e, _, label in window]
                kl = events[left][2]
                counts[kl] -= 1
                if counts[kl] == 0:
                    covered -= 1
                left += 1
        return None

    def _sentence(self, doc: _Doc) -> Evidence | None:
        args = self._args(doc)
        if args is None:
            return None
        starts = doc.sentence_starts
        per_arg = []
        for ev in args:
            by_sentence: dict[int, Evidence] = {}
            for label, sp in ev:
                by_sentence.setdefault(bisect.bisect_right(starts, sp[0]) - 1, []).append((label, sp))
            per_arg.append(by_sentence)
        common = set(per_arg[0]).intersection(*per_arg[1:])
        if not common:
            return None
        out: Evidence = []
        for s in sorted(common):
            for by_sentence in per_arg:
                out += by_sentence[s]
        return out

    def describe(self, doc: _Doc, clause: bool = True) -> str:
        """Why this node held, as an analyst reads it: the clauses of an ``all`` joined by
        " · ", a vocabulary that is a whole clause by its name, the words found in quotes,
        ``“A” near “B” (3 words)``, ``“A” and “B” in one sentence``; exclusions (they held
        by being absent) are left out.

            azerbaijan · detention · “freed” near “Russian citizens” (4 words)
        """
        op = self.op
        if clause and self.vocabulary:
            return _vocabulary_name(self.vocabulary)
        held = [c for c in self.children if _evaluated(c, doc) is not None]
        if op == "none":
            return ""
        if op == "any":
            return held[0].describe(doc, clause) if held else ""
        if op in ("all", "at_least"):
            parts = [p for p in (c.describe(doc, True) for c in held) if p]
            parts = list(dict.fromkeys(parts))  # one clause named once
            text = " · ".join(parts)
            return f"{len(held)} of {len(self.children)}: {text}" if op == "at_least" else text
        ev = _evaluated(self, doc) or []
        used = {sp for _, sp in ev}
        words = [_quoted(c, doc, used) for c in self.children]
        if op == "near":
            spans = sorted(used)
            gap = doc.words_between(min(e for _, e in spans), max(s for s, _ in spans)) if spans else 0
            if gap == 0:
                return " next to ".join(words)
            return f"{' near '.join(words)} ({gap} word{'s' if gap != 1 else ''} apart)"
        return f"{_and(words)} in one sentence"


def _quoted(node: Any, doc: _Doc, used: set[Span]) -> str:
    """What a near/sentence argument found where the group held: its words in quotes."""
    for _, (s, e) in _evaluated(node, doc) or ():
        if (s, e) in used:
            return f"“{_short(' '.join(doc.text[s:e].split()))}”"
    return node.found(doc) if isinstance(node, _Leaf) else node.describe(doc, False)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _vocabulary_name(name: str) -> str:
    return name.replace("_", " ")


def _short(text: str) -> str:
    return text if len(text) <= _WHY_LABEL else text[: _WHY_LABEL - 1] + "…"


_WHY_LABEL = 32


def _evaluated(node: Any, doc: _Doc) -> Evidence | None:
    key = id(node)
    if key in doc.evals:
        return doc.evals[key]
    result = doc.evals[key] = node.eval(doc)
    return result


def _plain_label(node: Any) -> str:
    if isinstance(node, _Leaf):
        return node.label
    if node.vocabulary:
        return f"${node.vocabulary}"
    return node.op + "(" + ", ".join(_plain_label(c) for c in node.children) + ")"


# == atoms: what the set scan looks for =====================================================

# an atom is a key: a tuple of needles (one of which the flat text must contain), or a
# phrase: (_PHRASE, (kind, needles)) — the first word of the phrases that begin with it (their
# further words in Matcher._phrase_rests), all read on consecutive tokens
_PHRASE = "\x00phrase"
# learned exclusions (see Matcher._learn): at most this many residues a needle, and this many
# characters in all (the set's patterns grow by about that much)
_EXCLUDED_PER_NEEDLE = 256
_EXCLUDED_CHARS = 60_000  # ~4 regexp nodes a character: well inside RE2's 1M-node walk of a set
# the set is recompiled with new exclusions at most once per this many times its compile time
_RECOMPILE_GAP = 20.0
# the most RE2 may use for the set (its program and the automaton states it caches while
# scanning): its states grow with the text's variety (phrases read across two tokens, most of
# all); at this cap RE2 drops its cache and rebuilds, slower but bounded
_MAX_MEM_CAP = 256 << 20
# every 4th document, up to 4 stem atoms found but not needed are checked (see _check_found),
# each at most once per 512 documents
_CHECK_EVERY_MASK = 3
_CHECK_ATOMS = 4
_RECHECK = 512
_CHECKED_MAX = 200_000


# a space of the flat text, as the patterns take it: a space, or a character the raw scan
# leaves that the flat text makes a space (see textmod.raw_scan_bytes)
_SP_CHARS = " " + textmod.re2_ranges(textmod.SCAN_SPACE_RANGES)
_SP = f"[{_SP_CHARS}]"


_CHAR_MEMBERS: dict[str, str] = {}


def _members(ch: str) -> str:
    """One character of a needle as members of an RE2 class: itself, and outside ASCII the
    characters whose flat form it is (the raw scan reads them unflattened: ü and Ü)."""
    got = _CHAR_MEMBERS.get(ch)
    if got is None:
        others = () if ch.isascii() else textmod.changed_to(ch)
        got = _CHAR_MEMBERS[ch] = re2.escape(ch) + textmod.re2_ranges((cp, cp) for cp in others)
    return got


def _char(ch: str) -> str:
    """One character of a needle as a pattern: ``ü`` as ``[üÜ]``, ``е`` as ``[еЕёЁ]``."""
    m = _members(ch)
    return m if ch.isascii() or m == re2.escape(ch) else f"[{m}]"


def _needle_pattern(needle: str) -> str:
    """The RE2 pattern of one needle, scanned over ``" " + flat + " "``: the needle itself,
    each space taken as :data:`_SP`.

    ``" stem"`` is a token start, ``" token "`` a whole token, anything else a substring.
    Every token of the padded flat text has a space on each side, so the spaces mark token
    edges exactly, for every script (RE2's ``\\b`` is ASCII-only), and a set of plain
    literals scans faster than one with ``\\b`` assertions.
    """
    return "".join([_SP if ch == " " else _char(ch) for ch in needle])


def _other_than(residues: Iterable[str]) -> str:
    """The rest of a token (after a needle) that is none of ``residues``: a pattern for
    ``" " + needle`` to be followed by, matching every other continuation.

    Built on the trie of the residues: at each node, the token may end there (a space)
    unless that node is a residue, or go on with a character that leaves the trie (then no
    residue can follow), or with one of the node's children.
    """
    trie: dict[str, Any] = {}
    for r in residues:
        node = trie
        for ch in r:
            node = node.setdefault(ch, {})
        node[""] = None

    def walk(node: dict[str, Any]) -> str:
        kids = sorted(k for k in node if k)
        alts = [] if "" in node else [_SP]
        alts.append(f"[^{_SP_CHARS}" + "".join(map(_members, kids)) + "]")
        alts += [_char(k) + walk(node[k]) for k in kids]
        return "(?:" + "|".join(alts) + ")"

    return walk(trie)


def _phrase_pattern(first: tuple[str, tuple[str, ...]], rests: Iterable[tuple[tuple[str, tuple[str, ...]], ...]]) -> str:
    """Consecutive tokens: the first word's needle at a token start, the rest of that token
    (for a stem or prefix word), one or more spaces, then the next words of any phrase that
    begins with this word, each the same way. Phrases are grouped by their first word: the
    scan's automaton then carries one thread per first word from one token to the next,
    not one per phrase (dense text made ~3x more automaton states the other way)."""
    def part(kind: str, needles: tuple[str, ...], last: bool) -> str:
        body = "|".join(_needle_pattern(n.strip(" ")) for n in needles)
        tail = (_SP if last else "") if kind == "t" else ("" if last else f"[^{_SP_CHARS}]*")
        return f"(?:{body}){tail}"

    alts = [f"{_SP}+".join(part(k, n, i == len(rest) - 1) for i, (k, n) in enumerate(rest))
            for rest in sorted(rests)]
    return _SP + part(*first, last=False) + f"{_SP}+(?:" + "|".join(alts) + ")"


def _atom_pattern(atom: tuple[Any, ...], excluded: dict[str, frozenset[str]] | None = None,
                  rests: Any = None) -> str:
    if atom == ("",):
        return r"\A"  # the sentinel: matches every text (and, unlike "", costs nothing)
    if atom[0] == _PHRASE:
        return _phrase_pattern(atom[1], rests)
    pats = [_needle_pattern(n) + (_other_than(excluded[n]) if excluded and excluded.get(n) else "")
            for n in atom]
    return pats[0] if len(pats) == 1 else "(?:" + "|".join(pats) + ")"


@functools.cache
def _malloc_trim() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


def _trim_heap() -> None:
    """Give the C heap's free memory back to the system: compiling a set of thousands of
    patterns allocates ~2x the set's size in scratch that glibc would otherwise keep (at
    10,000 rules, RSS 145 MB after compiling against 70 MB after this)."""
    trim = _malloc_trim()
    if trim:
        trim(0)


# == the matcher ============================================================================


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Rule
    root: Any
    languages: frozenset[str]
    clauses: tuple[frozenset[int], ...]  # the atom sets it needs, its anchor (rarest) first
    order: int


class Matcher:
    """Every rule compiled into one prefilter and one evaluation tree per rule.

    ``Matcher(rules)`` compiles (and by default ``gc.freeze()``s the long-lived result;
    ``prefilter=False`` evaluates every rule on every item, for checking the prefilter);
    ``match(item)`` returns the rules that fire, most severe first. Safe to call from
    several threads at once (per-item state lives in the call; the learned exclusions and
    the set they are compiled into are swapped whole, under a lock).
    """

    def __init__(self, rules: Iterable[Rule], *, freeze: bool = True, prefilter: bool = True,
                 learn: bool = True):
        # compiling allocates many small objects and no cycles: the cyclic GC would only
        # rescan them again and again (half the compile time at 10,000 rules)
        enabled = gc.isenabled()
        gc.disable()
        try:
            self._compile(rules, prefilter)
        finally:
            if enabled:
                gc.enable()
        self.learn = learn and prefilter
        if freeze:
            gc.collect()
            gc.freeze()

    def _compile(self, rules: Iterable[Rule], prefilter: bool) -> None:
        self.rules: list[Rule] = list(rules)
        self.prefilter = prefilter  # False: evaluate every rule on every item (for checking)
        self._scan_failed = False
        self._leaf_ids: dict[Any, Any] = {}
        self._parts_cache: dict[Any, Any] = {}
        self._term_cnf: dict[Any, list[frozenset[int]]] = {}
        # a phrase atom (its first word) → the rests of the phrases that begin with it
        self._phrase_rests: dict[tuple[Any, ...], set[tuple[tuple[str, tuple[str, ...]], ...]]] = {}
        # an atom: needles, one of which a text must contain; 0 is the sentinel, in every text
        self._atoms: dict[tuple[Any, ...], int] = {("",): 0}
        self._atom_list: list[tuple[Any, ...]] = [("",)]
        # how rare an atom is: its shortest needle's length (a phrase's first word's, + 4)
        self._atom_rarity: list[int] = [0]
        # for a stem atom: the stems a token found by it may have (None: found is enough)
        self._atom_stems: list[set[str] | None] = [None]
        compiled: list[_Compiled] = []
        for order, rule in enumerate(self.rules):
            root = self._node(rule.match)
            clauses = sorted(set(self._cnf(rule.match)), key=self._selectivity, reverse=True)
            langs = frozenset(normalise_language(x) or x for x in rule.language)
            compiled.append(_Compiled(rule, root, langs, tuple(clauses), order))
        self._compiled = compiled
        # each rule is filed under the atoms of its rarest clause (its anchor); for a rule
        # reached that way, the scan must also have found an atom of each other clause
        atom_rules: list[list[int]] = [[] for _ in self._atom_list]
        self._always: list[_Compiled] = []
        for i, c in enumerate(compiled):
            if not c.clauses:
                self._always.append(c)
                continue
            for a in c.clauses[0]:
                atom_rules[a].append(i)
        self._atom_rules: list[tuple[int, ...]] = [tuple(x) for x in atom_rules]
        # the second clause of each rule (its anchor again when it has one), checked in C
        self._second: list[frozenset[int]] = [
            (c.clauses[1] if len(c.clauses) > 1 else c.clauses[0]) if c.clauses else frozenset()
            for c in compiled]
        self._atom_targets: list[frozenset[str] | None] = [
            frozenset(t) if t is not None else None for t in self._atom_stems]
        # learned: per stem atom, per needle, the rests of tokens that begin with the needle
        # but have another stem (see _learn); compiled into the set's patterns
        self._excluded: dict[int, dict[str, set[str]]] = {}
        self._excluded_chars = 0
        self._pending = 0  # exclusions learned since the set was compiled
        self._learn_lock = threading.Lock()
        self._compile_lock = threading.Lock()
        self._next_compile = 0.0
        self._seen = 0  # documents scanned (racy between threads: only learning pace uses it)
        self._checked: dict[int, int] = {}  # stem atom → the document it was last checked at
        self._set = self._compile_set()
        # per item: the raw scan (UTF-8 bytes in, pattern indices out) and the index lookups
        self._scan = self._set._set.Match
        self._anchored_at = self._atom_rules.__getitem__
        second_rules: list[list[int]] = [[] for _ in self._atom_list]
        for i, atoms in enumerate(self._second):
            for a in atoms:
                second_rules[a].append(i)
        self._second_rules: list[tuple[int, ...]] = [tuple(x) for x in second_rules]
        self._seconded_at = self._second_rules.__getitem__
        # the stem atoms: found by the scan, they still need a token of their stems
        self._untrusted = frozenset(a for a, t in enumerate(self._atom_targets) if t is not None)
        # the stem atoms whose targets include lemma keys (Russian words by lemma)
        self._lemma_atoms = frozenset(
            a for a, t in enumerate(self._atom_targets)
            if t is not None and any(k.startswith(morph.LEMMA_MARK) for k in t))
        log.debug("matcher: %d rules, %d atoms, %d clauses, %d evaluated on every item",
                  len(compiled), len(self._atom_list) - 1, sum(len(c.clauses) for c in compiled),
                  len(self._always))

    @classmethod
    def compile(cls, rules: Iterable[Rule], **kwargs: Any) -> "Matcher":
        return cls(rules, **kwargs)

    @property
    def rule_count(self) -> int:
        return len(self._compiled)

    @property
    def atom_count(self) -> int:
        return len(self._atom_list) - 1

    @property
    def excluded_count(self) -> int:
        """How many token rests the matcher has learned to skip (see :meth:`_learn`)."""
        return sum(len(v) for d in list(self._excluded.values()) for v in list(d.values()))

    # -- compile -----------------------------------------------------------------------
    def _atom(self, s: tuple[Any, ...], stems: frozenset[str] | None = None) -> int:
        got = self._atoms.get(s)
        if got is None:
            got = self._atoms[s] = len(self._atom_list)
            self._atom_list.append(s)
            self._atom_stems.append(set() if stems is not None else None)
            if s[0] == _PHRASE:  # a first word and at least one more
                rarity = min(len(n.strip()) for n in s[1][1]) + 4
            else:
                rarity = min(len(n.strip()) for n in s)
            self._atom_rarity.append(rarity)
        targets = self._atom_stems[got]
        if stems is None:
            self._atom_stems[got] = None  # an exact or prefix term: any token found counts
        elif targets is not None:
            targets.update(stems)
        return got

    def _selectivity(self, clause: frozenset[int]) -> tuple[int, int]:
        """Higher is rarer: clauses of long atoms, and fewer of them, occur less often."""
        rarity = self._atom_rarity
        return (min(rarity[a] for a in clause), -len(clause))

    def _parts(self, term: Term) -> tuple[tuple[str, Any, tuple[str, ...]], ...]:
        """Per word: ('s', stems, needles) | ('t', token, needles) | ('p', prefix, needles)."""
        key = (term.words, term.exact, term.case, term.prefix)
        got = self._parts_cache.get(key)
        if got is None:
            got = self._parts_cache[key] = self._make_parts(term)
        return got

    @staticmethod
    def _make_parts(term: Term) -> tuple[tuple[str, Any, tuple[str, ...]], ...]:
        words = [w.lower() for w in term.words] if term.case else list(term.words)
        parts = []
        for i, w in enumerate(words):
            if term.prefix and i == len(words) - 1:
                parts.append(("p", w, (" " + w,)))
            elif term.exact:
                parts.append(("t", w, (" " + w + " ",)))
            elif textmod.is_cyrillic(w) and (lemma := morph.rule_lemma(w)) is not None:
                parts.append(("l", frozenset((lemma,)), morph.lexeme_needles(w)))
            elif textmod.is_cyrillic(w) and (guess := morph.guessed_lemma(w)) is not None:
                # unknown to the dictionary: its stems, or the lemma the analyser guesses
                stems = textmod.term_stems(w)
                needles = dict.fromkeys([*(" " + n for s in stems for n in textmod.stem_needles(s)),
                                         *morph.lexeme_needles(w)])
                parts.append(("l", frozenset((guess, *stems)), tuple(needles)))
            else:
                stems = textmod.term_stems(w)
                needles = dict.fromkeys(" " + n for s in stems for n in textmod.stem_needles(s))
                parts.append(("s", frozenset(stems), tuple(needles)))
        return tuple(parts)

    def _leaf(self, node: Term | Pattern) -> Any:
        if isinstance(node, Term):
            parts = self._parts(node)
            case_words = node.words if node.case else None
            key: tuple[Any, ...] = ("w", parts, case_words)
            leaf = self._leaf_ids.get(key)
            if leaf is None:
                atoms = frozenset(a for clause in self._cnf(node) for a in clause)
                leaf = self._leaf_ids[key] = _Words(len(self._leaf_ids), parts, case_words, atoms)
            return leaf
        key = ("r", node.pattern, node.case)
        leaf = self._leaf_ids.get(key)
        if leaf is None:
            leaf = self._leaf_ids[key] = _Regex(len(self._leaf_ids), node)
        return leaf

    def _node(self, node: MatchNode) -> Any:
        if isinstance(node, (Term, Pattern)):
            return _Leaf(self._leaf(node), node.scope or "both", node.label, node.vocabulary)
        kids = [self._node(c) for c in node.children]
        return _Op(node.op, kids, n=node.n, within=node.within, vocabulary=node.vocabulary)

    def _cnf(self, node: MatchNode) -> list[frozenset[int]]:
        """Clauses (sets of atoms, at least one present) the node needs to match; [] = none."""
        if isinstance(node, Term):
            parts = self._parts(node)
            got = self._term_cnf.get(parts)
            if got is None:
                if len(parts) == 1:
                    kind, value, needles = parts[0]
                    got = [frozenset((self._atom(needles, value if kind in ("s", "l") else None),))]
                else:  # a phrase: its words on consecutive tokens, one atom (found is enough)
                    # shared by the phrases of the same first word
                    key = (_PHRASE, (parts[0][0], parts[0][2]))
                    self._phrase_rests.setdefault(key, set()).add(
                        tuple((kind, needles) for kind, _, needles in parts[1:]))
                    got = [frozenset((self._atom(key),))]
                self._term_cnf[parts] = got
            return got
        if isinstance(node, Pattern):
            if not node.literal:
                return []
            flat = node.literal.translate(textmod.FLAT_TABLE)
            return [frozenset((self._atom((flat,)),))] if flat.strip() else []
        if node.op in ("all", "near", "sentence"):
            return list(chain.from_iterable(self._cnf(c) for c in node.children))
        if node.op in ("any", "at_least"):
            picked: set[int] = set()
            for c in node.children:
                cnf = self._cnf(c)
                if not cnf:
                    return []
                picked |= max(cnf, key=self._selectivity)
            return [frozenset(picked)]
        return []  # none: absence needs nothing

    def _compile_set(self, excluded: dict[int, dict[str, frozenset[str]]] | None = None):
        """One pattern per atom; pattern 0 (the sentinel) matches every text."""
        excluded = excluded or {}
        rests = self._phrase_rests
        patterns = [_atom_pattern(a, excluded.get(i), rests.get(a)) for i, a in enumerate(self._atom_list)]
        # the budget as before the raw scan: by the patterns' length with a space for each _SP
        size = sum(len(p.replace(_SP, " ").replace(_SP_CHARS, " ")) for p in patterns)
        patterns.append(textmod.raw_scan_unsafe())  # last: an item the raw scan cannot read
        max_mem = min(max(64 << 20, size * 512), _MAX_MEM_CAP)
        while True:
            options = re2.Options()
            options.max_mem = max_mem
            options.log_errors = False
            s = re2.Set.SearchSet(options)
            for p in patterns:
                s.Add(p)
            try:
                s.Compile()
                _trim_heap()
                return s
            except re2.error:
                if max_mem >= 4 << 30:
                    raise
                max_mem *= 2

    # -- learning: the words of the stream that begin like a rule's stem -------------------
    def _learn(self, atom: int, tokens: list[tuple[str, str]]) -> None:
        """Remember tokens that the scan found for a stem atom but that have another stem.

        A stem atom is a token start (`` som``): the scan finds it in every token beginning
        so ("some", "something"), and each must then be stemmed and refused. Each token of
        another stem, met once, is a fact forever (its stem never changes): the set is
        recompiled with each needle followed by anything but those tokens' rests, so the
        scan stops finding them. What is learned only narrows the prefilter; every answer
        is still decided by the exact evaluation.
        """
        with self._learn_lock:
            if self._excluded_chars >= _EXCLUDED_CHARS:
                return
            by_needle = self._excluded.setdefault(atom, {})
            for needle, token in tokens:
                rest = token[len(needle) - 1:]
                known = by_needle.setdefault(needle, set())
                if rest in known or len(known) >= _EXCLUDED_PER_NEEDLE:
                    continue
                known.add(rest)
                self._excluded_chars += len(rest) + 1
                self._pending += 1

    def refresh(self) -> None:
        """Compile what was learned into the scan now (it is otherwise done as learned,
        at most once per ``_RECOMPILE_GAP`` times the set's compile time)."""
        self._maybe_recompile(force=True)

    def _maybe_recompile(self, force: bool = False) -> None:
        now = time.perf_counter()
        if (now < self._next_compile and not force) or not self._compile_lock.acquire(blocking=False):
            return
        try:
            with self._learn_lock:
                snapshot = {a: {n: frozenset(r) for n, r in d.items()} for a, d in self._excluded.items()}
                self._pending = 0
            t0 = time.perf_counter()
            try:
                new = self._compile_set(snapshot)
            except re2.error:
                log.warning("matcher: the set with learned exclusions did not compile; "
                            "keeping the one before and learning no more")
                self.learn = False
                return
            took = time.perf_counter() - t0
            self._set, self._scan = new, new._set.Match
            _trim_heap()  # the set before, and its cached states, are gone
            self._next_compile = time.perf_counter() + max(_RECOMPILE_GAP * took, 0.01)
            log.debug("matcher: set recompiled with %d learned exclusions in %.3f s",
                      self.excluded_count, took)
        finally:
            self._compile_lock.release()

    # -- match -------------------------------------------------------------------------
    def scan(self, text: str) -> list[int] | None:
        """The atoms of the set found in ``text`` (the sentinel, 0, among them), or None if
        the scan failed. Read from the raw text when it can be (see
        ``textmod.raw_scan_bytes``), else from its flat text."""
        return self._scan_text(text)[0]

    def _scan_text(self, text: str) -> tuple[list[int] | None, bytes]:
        raw = textmod.raw_scan_bytes(text)
        scan = self._scan
        unsafe = len(self._atom_list)  # the pattern after the atoms (see _compile_set)
        if raw is not None:
            ids = scan(raw)
            if not ids or unsafe not in ids:
                return ids or None, raw
        flat = textmod.scan_bytes(text)
        ids = scan(flat)
        if not ids:
            return None, flat
        return ([i for i in ids if i != unsafe] if unsafe in ids else ids), flat

    def candidates(self, text: str) -> tuple[list[_Compiled], set[int] | None, str | None]:
        """The rules worth evaluating: every clause they need is present in ``text``.

        The set scan says which atoms occur; a stem atom found is then confirmed by stemming
        the tokens it points at, so only rules whose every clause is really there remain.
        Tokens refused that way are learned (:meth:`_learn`), so the scan stops finding
        them. Returns those rules, the atoms the scan found (None if the scan failed), and
        the padded flat text if it was made.
        """
        ids, scanned = self._scan_text(text)
        if not ids:  # the sentinel always matches: no answer means the scan failed
            if not self._scan_failed:
                log.warning("the prefilter scan failed (RE2 out of memory?): evaluating every rule "
                            "on such items; slower, still exact")
                self._scan_failed = True
            return list(self._compiled), None, None
        out = list(self._always)
        if len(ids) == 1:
            return out, set(), None
        self._seen += 1
        if not self._seen & _CHECK_EVERY_MASK and self.learn:
            self._check_found(ids, scanned)
        # the rules filed under an atom found (their anchor clause holds) whose second
        # clause has an atom found too: two unions and an intersection, all in C
        reached = set(chain.from_iterable(map(self._anchored_at, ids))).intersection(
            chain.from_iterable(map(self._seconded_at, ids)))
        if not reached:
            if self._pending and self.learn:
                self._maybe_recompile()
            return out, (set(ids) if out else None), None
        hit_atoms = set(ids)
        compiled = self._compiled
        untrusted = self._untrusted
        confirmed: dict[int, bool] = {}
        padded = None
        for c in map(compiled.__getitem__, reached):
            clauses = c.clauses
            # … and any further clause (rules of three or more clauses)
            if len(clauses) > 2 and any(map(hit_atoms.isdisjoint, clauses[2:])):
                continue
            # a clause holds if an atom found needs no stemming (exact, prefix, phrase,
            # regex literal); else one of its stem atoms must point at a token of its stems
            for atoms in clauses:
                found = atoms & hit_atoms
                if not found <= untrusted:
                    continue
                for a in found:
                    ok = confirmed.get(a)
                    if ok is None:
                        if padded is None:
                            padded = f" {textmod.flat_of(text)} "
                        ok = confirmed[a] = self._confirm(a, padded)
                    if ok:
                        break
                else:
                    break  # no atom of this clause is really there
            else:
                out.append(c)
        if self._pending and self.learn:
            self._maybe_recompile()
        return out, hit_atoms, padded

    def _check_found(self, ids: list[int], scanned: bytes) -> None:
        """Learn from stem atoms the scan found that no rule needed confirmed: most are
        tokens of other stems ("public" for the stem "pub") that only cost an index lookup
        each, but they are found in document after document. A few per checked document,
        each atom at most once per ``_RECHECK`` documents (an atom really there — a rule
        word in the news — is found again and again, and checked again only then).

        Checked on the bytes the scan read: a token there is a run of bytes between spaces,
        taken only if it is its own flat form (a token cut short by a quote the raw scan
        left, or with a capital outside ASCII, is skipped), so each token learned is one
        the flat text can hold, and its stem is its stem wherever it occurs."""
        checked = self._checked
        now = self._seen
        budget = _CHECK_ATOMS
        text = None
        for a in self._untrusted.intersection(ids):
            last = checked.get(a)
            if last is not None and now - last < _RECHECK:
                continue
            checked[a] = now
            if text is None:
                text = scanned.decode()  # valid UTF-8: encoded, then only ASCII bytes changed
            self._verify(a, text, flat_only=True)
            budget -= 1
            if not budget:
                break
        if len(checked) > _CHECKED_MAX:
            checked.clear()

    def _confirm(self, atom: int, padded: str) -> bool:
        """Whether a token of ``padded`` (the padded flat text) found by the stem atom has
        one of its stems (tokens found that have none are learned)."""
        if self._atom_targets[atom] is None:
            return True  # found by the scan, and any token it finds counts
        return self._verify(atom, padded)

    def _verify(self, atom: int, text: str, flat_only: bool = False) -> bool:
        """Whether a token of ``text`` that begins with one of the stem atom's needles has
        one of its stems; if none has, those tokens are learned. ``flat_only``: ``text`` is
        what the raw scan read, and a token there counts only if it is its own flat form."""
        stems = self._atom_targets[atom]
        assert stems is not None
        by_lemma = atom in self._lemma_atoms
        find = text.find
        stem = textmod.stem
        lemmas = morph.lemma_keys
        refused: list[tuple[str, str]] = []
        for needle in self._atom_list[atom]:  # " " + a prefix forms of the stems start with
            i = find(needle)
            while i >= 0:
                end = find(" ", i + 1)
                token = text[i + 1:end]
                if not flat_only or textmod.flat_of(token) == token:
                    if stem(token) in stems or (by_lemma and not stems.isdisjoint(lemmas(token))):
                        return True
                    refused.append((needle, token))
                i = find(needle, end)
        if refused and self.learn:
            self._learn(atom, refused)
        return False

    def match(self, item: Item, rule_ids: set[str] | frozenset[str] | None = None) -> list[RuleMatch]:
        """The rules that fire on ``item``, most severe first, each with its evidence."""
        text = item.document
        padded = None
        if self.prefilter:
            cands, atoms, padded = self.candidates(text)
        else:
            cands, atoms = list(self._compiled), None
        if rule_ids is not None:
            cands = [c for c in cands if c.rule.id in rule_ids]
        if not cands:
            return []
        if padded is None:
            padded = f" {textmod.flat_of(text)} "
        doc = _Doc(text, padded, item.title_end, item.language, atoms)
        out: list[tuple[int, int, RuleMatch]] = []
        for c in cands:
            if c.languages:
                lang = doc.language
                if lang is not None and lang not in c.languages:
                    continue
            ev = c.root.eval(doc)
            if not ev:
                continue
            out.append((-SEVERITY_RANK.get(c.rule.severity, 0), c.order, self._result(c, doc, ev)))
        out.sort(key=lambda x: (x[0], x[1]))
        return [m for _, _, m in out]

    def match_text(self, text: str, title: str = "", language: str | None = None) -> list[RuleMatch]:
        """``match`` for a bare text (``rules test``, examples)."""
        return self.match(Item(source="text", key="text", title=title, text=text, language=language))

    @staticmethod
    def _result(c: _Compiled, doc: _Doc, ev: Evidence) -> RuleMatch:
        # one term per place found: several spellings of a vocabulary word (осужденные,
        # осужденных …) that matched the same words are named once, by the first
        owner: dict[tuple[int, int], str] = {}
        for label, sp in ev:
            owner.setdefault(sp, label)
        named = set(owner.values())
        first_seen: dict[str, int] = {}
        for label, (s, _e) in ev:
            if label in named and s < first_seen.get(label, 1 << 62):
                first_seen[label] = s
        spans = textmod.merge_spans(sp for _, sp in ev)[:_MAX_SPANS]
        rule = c.rule
        return RuleMatch(
            rule_id=rule.id,
            rule_title=rule.title,
            severity=rule.severity,
            terms=tuple(sorted(first_seen, key=first_seen.__getitem__)),
            spans=tuple(spans),
            snippet=textmod.snippet(doc.text, spans, width=_SNIPPET_WIDTH),
            why=c.root.describe(doc),
            tags=rule.tags,
        )
