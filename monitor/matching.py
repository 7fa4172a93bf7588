"""All rules compiled once into one Matcher; ``match(item)`` is pure (no I/O).

    compile:  every term ─► literal "atoms" on the flat text: a token start followed by the
              prefix every form of the stem shares, a whole token, or a regex's required
              literal — all of them in one re2.Set; every rule ─► the clauses (sets of
              atoms, at least one of which must occur) it cannot match without.
    match:    document ─lower+translate─► flat ─re2.Set─► atoms present ─► clauses hit
              ─► rules whose every clause is hit ─► confirm their stem atoms (stem the few
              tokens found) ─► exact evaluation of those rules ─► RuleMatch with terms,
              spans, snippet and why, most severe first.

The prefilter is only a necessary condition: every hit is decided by the exact evaluation.
Most items stop after the set scan; nothing is tokenised or stemmed beyond the tokens an
atom points at. Offsets in the flat text are offsets in the document (same length).
"""

from __future__ import annotations

import bisect
import gc
import logging
import re
from dataclasses import dataclass
from itertools import chain
from typing import Any, Iterable

import re2

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
    """A word or phrase. ``parts``: per word (kind, value, needles) with kind 's' (stem),
    't' (whole token) or 'p' (token prefix); ``needles`` are the word's atom in ``padded``."""

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
                if kind == "p" or stem(padded[i + 1:end]) in value:
                    out.append((i + 1, end))
                i = find(needle, end)
        if len(needles) > 1:
            out = sorted(set(out))
        return out

    @staticmethod
    def _is(token: str, kind: str, value: str) -> bool:
        if kind == "s":
            return textmod.stem(token) in value
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

    def describe(self, doc: _Doc) -> str:
        ev = _evaluated(self, doc)
        label = self.label if len(self.label) <= _WHY_LABEL else self.label[: _WHY_LABEL - 1] + "…"  # a long regex
        name = f"${self.vocabulary}:{label}" if self.vocabulary else label
        if not ev:
            return name
        s, e = ev[0][1]
        found = doc.text[s:e]
        if self.label.startswith("/"):  # a regex: what it found says more than the pattern
            return (f"${self.vocabulary}:" if self.vocabulary else "") + f'/…/≈"{" ".join(found.split())}"'
        same = textmod.words(found) == self.label_words
        return name if same else f'{name}≈"{" ".join(found.split())}"'

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

    def describe(self, doc: _Doc) -> str:
        """Why this clause held, short enough to read in an alert: the satisfied branches
        (at most three of an ``any``), the form each term was found in, and only the number
        of exclusions that were checked and absent."""
        if self.op == "none":
            n = len(self.children)
            return f"none of {n} exclusion{'s' if n != 1 else ''}"
        parts = []
        seen_spans: set[tuple[int, int]] = set()
        for c in self.children:
            ev = _evaluated(c, doc)
            if ev is None:
                continue
            if self.op == "any" and isinstance(c, _Leaf) and ev:
                # several spellings of one word found at one place: name it once
                if ev[0][1] in seen_spans:
                    continue
                seen_spans.add(ev[0][1])
            parts.append(c.describe(doc))
        if self.op == "any":
            if len(parts) == 1:
                return parts[0]
            more = len(parts) - _WHY_SHOWN
            return "any(" + ", ".join(parts[:_WHY_SHOWN]) + (f", +{more} more" if more > 0 else "") + ")"
        if self.op == "all":
            return "all(" + "; ".join(parts) + ")"
        if self.op == "at_least":
            return f"at_least {self.n}(" + "; ".join(parts) + ")"
        if self.op == "near":
            return "near(" + "; ".join(parts) + f"; within {self.within})"
        return "sentence(" + "; ".join(parts) + ")"


_WHY_SHOWN = 3
_WORD_CACHE_MAX = 200_000
_WORDS_WHEN_CONFIRMING = 16  # stem atoms confirmed a document, on average
_RESAMPLE = 64  # while on the word path, every 64th document is scanned
_TOKEN_START = re.compile(r" [^ ]+")
_WHOLE_TOKEN = re.compile(r" [^ ]+ ")
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


def _needle_pattern(needle: str) -> str:
    """The RE2 pattern of one needle, scanned over ``" " + flat + " "``: the needle itself.

    ``" stem"`` is a token start, ``" token "`` a whole token, anything else a substring.
    Every token of the padded flat text has a space on each side, so the literal spaces
    mark token edges exactly, for every script (RE2's ``\\b`` is ASCII-only), and a set of
    plain literals scans faster than one with ``\\b`` assertions (measured: 12.1 against
    13.3 µs per 4 KB document at 1,000 rules).
    """
    return re2.escape(needle)


def _atom_pattern(atom: tuple[str, ...]) -> str:
    if atom == ("",):
        return r"\A"  # the sentinel: matches every text (and, unlike "", costs nothing)
    if len(atom) == 1:
        return _needle_pattern(atom[0])
    return "(?:" + "|".join(map(_needle_pattern, atom)) + ")"


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
    several threads at once (per-item state lives in the call).
    """

    def __init__(self, rules: Iterable[Rule], *, freeze: bool = True, prefilter: bool = True):
        # compiling allocates many small objects and no cycles: the cyclic GC would only
        # rescan them again and again (half the compile time at 10,000 rules)
        enabled = gc.isenabled()
        gc.disable()
        try:
            self._compile(rules, prefilter)
        finally:
            if enabled:
                gc.enable()
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
        # an atom: needles, one of which a text must contain; 0 is the sentinel, in every text
        self._atoms: dict[tuple[str, ...], int] = {("",): 0}
        self._atom_list: list[tuple[str, ...]] = [("",)]
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
        self._compile_words()
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

    # -- compile -----------------------------------------------------------------------
    def _atom(self, s: tuple[str, ...], stems: frozenset[str] | None = None) -> int:
        got = self._atoms.get(s)
        if got is None:
            got = self._atoms[s] = len(self._atom_list)
            self._atom_list.append(s)
            self._atom_stems.append(set() if stems is not None else None)
        targets = self._atom_stems[got]
        if stems is None:
            self._atom_stems[got] = None  # an exact or prefix term: any token found counts
        elif targets is not None:
            targets.update(stems)
        return got

    def _selectivity(self, clause: frozenset[int]) -> tuple[int, int]:
        """Higher is rarer: clauses of long atoms, and fewer of them, occur less often."""
        names = self._atom_list
        return (min(len(n.strip()) for a in clause for n in names[a]), -len(clause))

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
                got = self._term_cnf[parts] = [
                    frozenset((self._atom(needles, value if kind == "s" else None),))
                    for kind, value, needles in parts]
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

    def _compile_words(self) -> None:
        """The word path's tables: what one token alone makes present, by its stem, itself
        or its first k characters; the other needles (regex literals that are no token
        start) in a small set of their own."""
        stem_atoms: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        exact: dict[str, list[int]] = {}
        prefix: dict[int, dict[str, list[int]]] = {}
        always: set[int] = {0}
        generic: list[tuple[int, str]] = []
        for a in range(1, len(self._atom_list)):
            needles = self._atom_list[a]
            targets = self._atom_targets[a]
            if targets is not None and all(_TOKEN_START.fullmatch(n) for n in needles):
                starts = tuple(n[1:] for n in needles)
                for t in targets:
                    stem_atoms.setdefault(t, []).append((a, starts))
                continue
            for n in needles:  # found is enough: the needle, anywhere in padded
                if _WHOLE_TOKEN.fullmatch(n):
                    exact.setdefault(n[1:-1], []).append(a)
                elif n == " ":
                    always.add(a)
                elif _TOKEN_START.fullmatch(n):
                    prefix.setdefault(len(n) - 1, {}).setdefault(n[1:], []).append(a)
                else:
                    generic.append((a, n))
        self._word_stem_atoms = {k: tuple(v) for k, v in stem_atoms.items()}
        self._word_exact = {k: tuple(v) for k, v in exact.items()}
        self._word_prefix = sorted((k, {p: tuple(v) for p, v in d.items()}) for k, d in prefix.items())
        self._word_always = frozenset(always)
        self._generic_atoms = [0] + [a for a, _ in generic]
        self._generic_set = None
        if generic:
            options = re2.Options()
            options.log_errors = False
            gs = re2.Set.SearchSet(options)
            gs.Add(r"\A")  # a sentinel, as in the full set: no answer means the scan failed
            for _, n in generic:
                gs.Add(re2.escape(n))
            gs.Compile()
            self._generic_set = gs._set.Match
        # word → the atoms it makes present, shared by every document (news vocabulary
        # repeats: after warm-up nearly every token is a hit); bounded, cleared when full
        self._word_cache: dict[str, tuple[int, ...]] = {}
        self._use_words = False
        self._seen = 0
        self._confirm_avg = 0.0

    def _word_atoms(self, token: str) -> tuple[int, ...]:
        out: list[int] = []
        starts_of = self._word_stem_atoms.get(textmod.stem(token))
        if starts_of:
            for a, starts in starts_of:
                if token.startswith(starts):
                    out.append(a)
        got = self._word_exact.get(token)
        if got:
            out += got
        for k, by_prefix in self._word_prefix:
            if len(token) < k:
                break
            got = by_prefix.get(token[:k])
            if got:
                out += got
        return tuple(out) if out else ()

    def _compile_set(self):
        """One pattern per atom; pattern 0 (the sentinel) matches every text."""
        patterns = [_atom_pattern(a) for a in self._atom_list]
        max_mem = max(64 << 20, sum(map(len, patterns)) * 512)
        while True:
            options = re2.Options()
            options.max_mem = max_mem
            options.log_errors = False
            s = re2.Set.SearchSet(options)
            for p in patterns:
                s.Add(p)
            try:
                s.Compile()
                return s
            except re2.error:
                if max_mem >= 4 << 30:
                    raise
                max_mem *= 2

    # -- match -------------------------------------------------------------------------
    def candidates(self, padded: str) -> tuple[list[_Compiled], set[int] | None]:
        """The rules worth evaluating: every clause they need is present in ``padded``.

        Two paths, the same rules: :meth:`candidates_scan` (one set scan, then each stem atom
        found confirmed by a few ``str.find`` over the document, ~5 µs an atom) and
        :meth:`candidates_words` (the document's distinct tokens looked up in a per-matcher
        cache, ~100 µs a 4 KB document whatever the rules). The scan path is used while
        documents need few confirmations (small rule sets, text whose words rarely begin
        like rule stems); once the matcher's recent documents averaged more than
        ``_WORDS_WHEN_CONFIRMING`` (real text, ~1,000 rules and more), the word path, with
        every ``_RESAMPLE``-th document still scanned to follow the stream.
        """
        if self._use_words:
            self._seen += 1
            if self._seen % _RESAMPLE:
                return self.candidates_words(padded)
        return self.candidates_scan(padded)

    def _note_confirmations(self, n: int) -> None:
        # a moving average over ~8 scanned documents (racy between threads: only the path
        # taken depends on it, never an answer)
        avg = self._confirm_avg = self._confirm_avg + (n - self._confirm_avg) / 8
        self._use_words = avg > _WORDS_WHEN_CONFIRMING

    def candidates_words(self, padded: str) -> tuple[list[_Compiled], set[int] | None]:
        """The rules worth evaluating: every clause they need is present in ``padded``.

        The word path: the atoms present are those of the document's distinct tokens (each
        token's atoms found once per matcher and cached: its stem's, its own, its
        prefixes'), plus the needles no token start can stand for, scanned for. Each atom
        found this way is really there, so nothing is confirmed; the same rules as
        :meth:`candidates_scan`. Returns those rules and the atoms present.
        """
        present = self._word_present(padded)
        present |= self._word_always
        if self._generic_set is not None:
            ids = self._generic_set(padded.encode())
            if not ids:
                return list(self._compiled), None
            present.update(map(self._generic_atoms.__getitem__, ids))
        out = list(self._always)
        reached = set(chain.from_iterable(map(self._anchored_at, present))).intersection(
            chain.from_iterable(map(self._seconded_at, present)))
        compiled = self._compiled
        for c in map(compiled.__getitem__, reached):
            clauses = c.clauses
            if len(clauses) > 2 and any(map(present.isdisjoint, clauses[2:])):
                continue
            out.append(c)
        return out, present

    def _word_present(self, padded: str) -> set[int]:
        """The atoms the tokens of ``padded`` make present (stem, whole-token and prefix
        atoms; each stem atom only if a token of its stems starts with one of its needles)."""
        cache = self._word_cache
        tokens = set(padded.split())
        got = list(map(cache.get, tokens))
        if None in got:
            word_atoms = self._word_atoms
            if len(cache) > _WORD_CACHE_MAX:
                cache.clear()
            for k, tok in enumerate(tokens):
                if got[k] is None:
                    got[k] = cache[tok] = word_atoms(tok)
        return set(chain.from_iterable(got))

    def candidates_scan(self, padded: str) -> tuple[list[_Compiled], set[int] | None]:
        """The rules worth evaluating: every clause they need is present in ``padded``.

        The set scan says which atoms occur; a stem atom found is then confirmed by stemming
        the tokens it points at, so only rules whose every clause is really there remain.
        Returns those rules, and the atoms the scan found (None if the scan failed).
        """
        ids = self._scan(padded.encode())
        if not ids:  # the sentinel always matches: no answer means the scan failed
            if not self._scan_failed:
                log.warning("the prefilter scan failed (RE2 out of memory?): evaluating every rule "
                            "on such items; slower, still exact")
                self._scan_failed = True
            return list(self._compiled), None
        out = list(self._always)
        if len(ids) == 1:
            self._note_confirmations(0)
            return out, set()
        # the rules filed under an atom found (their anchor clause holds) whose second
        # clause has an atom found too: two unions and an intersection, all in C
        reached = set(chain.from_iterable(map(self._anchored_at, ids))).intersection(
            chain.from_iterable(map(self._seconded_at, ids)))
        if not reached:
            self._note_confirmations(0)
            return out, (set(ids) if out else None)
        hit_atoms = set(ids)
        compiled = self._compiled
        untrusted = self._untrusted
        confirmed: dict[int, bool] = {}
        for c in map(compiled.__getitem__, reached):
            clauses = c.clauses
            # … and any further clause (rules of three or more clauses)
            if len(clauses) > 2 and any(map(hit_atoms.isdisjoint, clauses[2:])):
                continue
            # a clause holds if an atom found needs no stemming (exact, prefix, regex
            # literal); else one of its stem atoms must point at a token of those stems
            for atoms in clauses:
                found = atoms & hit_atoms
                if not found <= untrusted:
                    continue
                for a in found:
                    ok = confirmed.get(a)
                    if ok is None:
                        ok = confirmed[a] = self._confirm(a, padded)
                    if ok:
                        break
                else:
                    break  # no atom of this clause is really there
            else:
                out.append(c)
        self._note_confirmations(len(confirmed))
        return out, hit_atoms

    def _confirm(self, atom: int, padded: str) -> bool:
        stems = self._atom_targets[atom]
        if stems is None:
            return True  # found by the scan, and any token it finds counts
        find = padded.find
        stem = textmod.stem
        for needle in self._atom_list[atom]:  # " " + a prefix forms of the stems start with
            i = find(needle)
            while i >= 0:
                end = find(" ", i + 1)
                if stem(padded[i + 1:end]) in stems:
                    return True
                i = find(needle, end)
        return False

    def match(self, item: Item, rule_ids: set[str] | frozenset[str] | None = None) -> list[RuleMatch]:
        """The rules that fire on ``item``, most severe first, each with its evidence."""
        text = item.document
        padded = f" {textmod.flat_of(text)} "
        if self.prefilter:
            cands, atoms = self.candidates(padded)
        else:
            cands, atoms = list(self._compiled), None
        if rule_ids is not None:
            cands = [c for c in cands if c.rule.id in rule_ids]
        if not cands:
            return []
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
