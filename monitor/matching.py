"""All rules compiled once into one Matcher; ``match(item)`` is pure (no I/O).

    compile:  every term ─► literal "atoms" on flattened text (a token start + the stem's
              guaranteed prefix, an exact token, a regex's required literal) in one re2.Set;
              every rule ─► the clauses (sets of atoms, one of which must occur) it needs.
    match:    document ─lower+translate─► flat ─re2.Set─► atoms present ─► clauses hit
              ─► candidate rules (all their clauses hit) ─► exact evaluation on tokens and
              stems ─► RuleMatch with terms, spans, snippet and why, most severe first.

The prefilter is a necessary condition only; every hit is decided by the exact evaluation,
so a rule never fires on the prefilter's say-so. Most items stop after the set scan.
"""

from __future__ import annotations

import bisect
import gc
import logging
from dataclasses import dataclass
from itertools import chain
from typing import Any, Iterable

import re2

from monitor import text as textmod
from monitor.langdetect import detect_language, normalise_language
from monitor.models import SEVERITY_RANK, Item, RuleMatch
from monitor.rules import Group, MatchNode, Pattern, Rule, Term, compile_regex

log = logging.getLogger(__name__)

__all__ = ["Matcher"]

_SNIPPET_WIDTH = 240
_MAX_SPANS = 64


# == per-item state, computed lazily ========================================================


class _Doc:
    """One item's text in every form the evaluation needs, each computed at most once."""

    __slots__ = ("text", "low", "flat", "title_end", "given_language", "_tokens", "_stems",
                 "_starts", "_ends", "_n_title", "_folded", "_cased", "_sentences", "_language",
                 "_token_set", "cache")

    def __init__(self, text: str, low: str, flat: str, title_end: int, language: str | None):
        self.text = text
        self.low = low
        self.flat = flat
        self.title_end = title_end
        self.given_language = language
        self._tokens: list[str] | None = None
        self._stems: list[str] | None = None
        self._starts: list[int] | None = None
        self._ends: list[int] | None = None
        self._n_title: int | None = None
        self._folded: str | None = None
        self._cased: str | None = None
        self._sentences: list[int] | None = None
        self._language: str | None | bool = False
        self._token_set: set[str] | None = None
        self.cache: dict[int, list[tuple[int, int, int, int]]] = {}

    @property
    def tokens(self) -> list[str]:
        if self._tokens is None:
            self._tokens = self.flat.split()
        return self._tokens

    @property
    def token_set(self) -> set[str]:
        if self._token_set is None:
            self._token_set = set(self.tokens)
        return self._token_set

    @property
    def stems(self) -> list[str]:
        if self._stems is None:
            self._stems = textmod.stems(self.tokens)
        return self._stems

    @property
    def starts(self) -> list[int]:
        if self._starts is None:
            self._starts = textmod.token_starts(self.flat)
        return self._starts

    @property
    def ends(self) -> list[int]:
        if self._ends is None:
            self._ends = [s + len(t) for s, t in zip(self.starts, self.tokens)]
        return self._ends

    @property
    def n_title(self) -> int:
        if self._n_title is None:
            self._n_title = len(self.flat[: self.title_end].split()) if self.title_end else 0
        return self._n_title

    @property
    def folded(self) -> str:
        if self._folded is None:
            self._folded = self.low.translate(textmod._FOLD_TABLE)
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

    def char_span(self, occ: tuple[int, int, int, int]) -> tuple[int, int]:
        ts, te, cs, ce = occ
        if cs >= 0:
            return cs, ce
        return self.starts[ts], self.ends[te - 1]


# == compiled leaves ========================================================================

# an occurrence: (first token, end token, char start or -1, char end or -1)
Occ = tuple[int, int, int, int]


def _positions(seq: list[str], value: str) -> list[int]:
    out: list[int] = []
    i = -1
    index = seq.index
    try:
        while True:
            i = index(value, i + 1)
            out.append(i)
    except ValueError:
        return out


class _Words:
    """A word or phrase: per word ('s', stem) | ('t', token) | ('p', prefix)."""

    __slots__ = ("id", "parts", "case_words")

    def __init__(self, leaf_id: int, parts: tuple[tuple[str, str], ...], case_words: tuple[str, ...] | None):
        self.id = leaf_id
        self.parts = parts
        self.case_words = case_words

    def _first(self, doc: _Doc, kind: str, value: str) -> list[int]:
        if kind == "s":
            return _positions(doc.stems, value)
        if kind == "t":
            return _positions(doc.tokens, value)
        found = [t for t in doc.token_set if t.startswith(value)]
        if not found:
            return []
        tokens = doc.tokens
        return sorted(chain.from_iterable(_positions(tokens, t) for t in found))

    @staticmethod
    def _ok(doc: _Doc, i: int, kind: str, value: str) -> bool:
        if kind == "s":
            return doc.stems[i] == value
        if kind == "t":
            return doc.tokens[i] == value
        return doc.tokens[i].startswith(value)

    def occurrences(self, doc: _Doc) -> list[Occ]:
        got = doc.cache.get(self.id)
        if got is not None:
            return got
        kind, value = self.parts[0]
        first = self._first(doc, kind, value)
        n = len(self.parts)
        out: list[Occ] = []
        if first:
            limit = len(doc.tokens)
            for i in first:
                if i + n > limit:
                    continue
                if n > 1 and not all(self._ok(doc, i + k, kd, v) for k, (kd, v) in enumerate(self.parts[1:], 1)):
                    continue
                if self.case_words is not None and not self._case_ok(doc, i):
                    continue
                out.append((i, i + n, -1, -1))
        doc.cache[self.id] = out
        return out

    def _case_ok(self, doc: _Doc, i: int) -> bool:
        cased, starts, ends = doc.cased, doc.starts, doc.ends
        return all(cased[starts[i + k]:ends[i + k]] == w for k, w in enumerate(self.case_words or ()))


class _Regex:
    __slots__ = ("id", "regex", "case")

    def __init__(self, leaf_id: int, pattern: Pattern):
        self.id = leaf_id
        self.regex = compile_regex(pattern.pattern, pattern.case)
        self.case = pattern.case

    def occurrences(self, doc: _Doc) -> list[Occ]:
        got = doc.cache.get(self.id)
        if got is not None:
            return got
        hay = doc.cased if self.case else doc.folded
        out: list[Occ] = []
        for m in self.regex.finditer(hay):
            cs, ce = m.span()
            if ce <= cs:
                continue
            ts = bisect.bisect_right(doc.ends, cs)
            te = max(bisect.bisect_left(doc.starts, ce), ts + 1)
            out.append((ts, te, cs, ce))
            if len(out) >= _MAX_SPANS:
                break
        doc.cache[self.id] = out
        return out


# == compiled nodes =========================================================================

# evidence: a list of (term label, occurrence); None means "did not match"
Evidence = list[tuple[str, Occ]]


def _in_scope(doc: _Doc, occs: list[Occ], scope: str) -> list[Occ]:
    if scope == "both" or not occs:
        return occs
    nt = doc.n_title
    if scope == "title":
        return [o for o in occs if o[1] <= nt]
    return [o for o in occs if o[0] >= nt]


class _Leaf:
    __slots__ = ("leaf", "scope", "label", "vocabulary")

    def __init__(self, leaf: Any, scope: str, label: str, vocabulary: str | None):
        self.leaf = leaf
        self.scope = scope
        self.label = label
        self.vocabulary = vocabulary

    def eval(self, doc: _Doc) -> Evidence | None:
        occs = _in_scope(doc, self.leaf.occurrences(doc), self.scope)
        if not occs:
            return None
        label = self.label
        return [(label, o) for o in occs[:_MAX_SPANS]]

    def describe(self, doc: _Doc) -> str:
        ev = self.eval(doc)
        name = f"${self.vocabulary}:{self.label}" if self.vocabulary else self.label
        if not ev:
            return name
        ts, te, cs, ce = ev[0][1]
        s, e = doc.char_span(ev[0][1])
        found = doc.text[s:e]
        return name if textmod.fold(found) == textmod.fold(self.label) else f'{name}≈"{found}"'


class _Op:
    __slots__ = ("op", "children", "n", "within", "vocabulary")

    def __init__(self, op: str, children: list[Any], n: int = 0, within: int = 0, vocabulary: str | None = None):
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
            out = []
            for c in self.children:
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

    def _args(self, doc: _Doc) -> list[Evidence] | None:
        args = []
        for c in self.children:
            ev = c.eval(doc)
            if not ev:
                return None
            args.append(ev)
        return args

    def _near(self, doc: _Doc) -> Evidence | None:
        args = self._args(doc)
        if args is None:
            return None
        need = len(args)
        events = sorted((occ[0], occ[1], k, label, occ) for k, ev in enumerate(args) for label, occ in ev)
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
                if events[right][0] - first_end <= self.within:
                    return [(label, occ) for _, _, _, label, occ in window]
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
            for label, occ in ev:
                s = bisect.bisect_right(starts, doc.char_span(occ)[0]) - 1
                by_sentence.setdefault(s, []).append((label, occ))
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
        if self.vocabulary and self.op == "any":
            hits = [c.describe(doc) for c in self.children if c.eval(doc) is not None]
            return ", ".join(hits) if hits else f"${self.vocabulary}"
        if self.op == "none":
            return "none of [" + ", ".join(_plain_label(c) for c in self.children) + "]"
        parts = [c.describe(doc) for c in self.children if c.eval(doc) is not None]
        if self.op == "any":
            return parts[0] if len(parts) == 1 else "any(" + ", ".join(parts) + ")"
        if self.op == "all":
            return "all(" + "; ".join(parts) + ")"
        if self.op == "at_least":
            return f"at_least {self.n}(" + "; ".join(parts) + ")"
        if self.op == "near":
            return "near(" + "; ".join(parts) + f"; within {self.within})"
        return "sentence(" + "; ".join(parts) + ")"


def _plain_label(node: Any) -> str:
    if isinstance(node, _Leaf):
        return node.label
    if node.vocabulary:
        return f"${node.vocabulary}"
    return "…"


# == the matcher ============================================================================


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Rule
    root: Any
    languages: frozenset[str]
    clauses: frozenset[int]
    order: int


class Matcher:
    """Every rule compiled into one prefilter and one evaluation tree per rule.

    ``Matcher(rules)`` compiles (and by default ``gc.freeze()``s the long-lived result);
    ``match(item)`` returns the rules that fire, most severe first. Thread-safe for
    concurrent ``match`` calls (per-item state lives in the call).
    """

    def __init__(self, rules: Iterable[Rule], *, freeze: bool = True):
        self.rules: list[Rule] = list(rules)
        self._leaf_ids: dict[Any, Any] = {}
        self._atoms: dict[str, int] = {"": 0}  # 0: the sentinel, present in every scan
        self._atom_list: list[str] = [""]
        self._clause_ids: dict[frozenset[int], int] = {}
        compiled: list[_Compiled] = []
        for order, rule in enumerate(self.rules):
            root = self._node(rule.match)
            clauses = frozenset(self._clause_id(c) for c in self._cnf(rule.match))
            langs = frozenset(normalise_language(x) or x for x in rule.language)
            compiled.append(_Compiled(rule, root, langs, clauses, order))
        self._compiled = compiled
        # index: anchor clause → rules; atom → clauses it satisfies
        atom_clauses: list[list[int]] = [[] for _ in self._atoms]
        for clause, cid in self._clause_ids.items():
            for a in clause:
                atom_clauses[a].append(cid)
        self._atom_clauses: list[tuple[int, ...]] = [tuple(x) for x in atom_clauses]
        self._anchored: dict[int, list[_Compiled]] = {}
        self._always: list[_Compiled] = []
        clause_of = {cid: clause for clause, cid in self._clause_ids.items()}
        for c in compiled:
            if not c.clauses:
                self._always.append(c)
                continue
            anchor = max(c.clauses, key=lambda cid: self._selectivity(clause_of[cid]))
            self._anchored.setdefault(anchor, []).append(c)
        self._set = self._compile_set()
        self._by_id = {c.rule.id: c for c in compiled}
        if freeze:
            gc.collect()
            gc.freeze()
        log.debug("matcher: %d rules, %d atoms, %d clauses, %d always evaluated",
                  len(compiled), len(self._atoms), len(self._clause_ids), len(self._always))

    @classmethod
    def compile(cls, rules: Iterable[Rule], **kwargs: Any) -> "Matcher":
        return cls(rules, **kwargs)

    @property
    def rule_count(self) -> int:
        return len(self._compiled)

    @property
    def atom_count(self) -> int:
        return len(self._atoms) - 1

    # -- compile -----------------------------------------------------------------------
    def _atom(self, s: str) -> int:
        got = self._atoms.get(s)
        if got is None:
            got = self._atoms[s] = len(self._atoms)
            self._atom_list.append(s)
        return got

    def _clause_id(self, clause: frozenset[int]) -> int:
        got = self._clause_ids.get(clause)
        if got is None:
            got = self._clause_ids[clause] = len(self._clause_ids)
        return got

    def _selectivity(self, clause: frozenset[int]) -> tuple[int, int]:
        """Higher is rarer: clauses of long atoms, and fewer of them, occur less often."""
        names = self._atom_list
        return (min(len(names[a].strip()) for a in clause), -len(clause))

    @staticmethod
    def _parts(term: Term) -> tuple[tuple[str, str], ...]:
        words = [w.lower() for w in term.words] if term.case else list(term.words)
        parts = []
        for i, w in enumerate(words):
            if term.prefix and i == len(words) - 1:
                parts.append(("p", w))
            elif term.exact:
                parts.append(("t", w))
            else:
                parts.append(("s", textmod.stem(w)))
        return tuple(parts)

    def _leaf(self, node: Term | Pattern) -> Any:
        if isinstance(node, Term):
            key = ("w", self._parts(node), node.words if node.case else None)
            leaf = self._leaf_ids.get(key)
            if leaf is None:
                leaf = self._leaf_ids[key] = _Words(len(self._leaf_ids), key[1], key[2])
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

    def _term_atoms(self, term: Term) -> list[frozenset[int]]:
        out = []
        for kind, value in self._parts(term):
            if kind == "s":
                atom = " " + textmod.stem_prefix(value)
            elif kind == "t":
                atom = " " + value + " "
            else:
                atom = " " + value
            out.append(frozenset((self._atom(atom),)))
        return out

    def _cnf(self, node: MatchNode) -> list[frozenset[int]]:
        """Clauses (sets of atoms, at least one present) the node needs to match; [] = none."""
        if isinstance(node, Term):
            return self._term_atoms(node)
        if isinstance(node, Pattern):
            if not node.literal:
                return []
            flat = node.literal.translate(textmod.FLAT_TABLE)
            return [frozenset((self._atom(flat),))] if flat.strip() else []
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
        return []  # none

    def _compile_set(self):
        names = self._atom_list
        size = sum(len(n) for n in names)
        max_mem = max(64 << 20, size * 512)
        while True:
            options = re2.Options()
            options.max_mem = max_mem
            options.literal = True
            options.log_errors = False
            s = re2.Set.SearchSet(options)
            for name in names:
                s.Add(name)
            try:
                s.Compile()
                return s
            except re2.error:
                if max_mem >= 4 << 30:
                    raise
                max_mem *= 2

    # -- match -------------------------------------------------------------------------
    def candidates(self, flat: str) -> list[_Compiled]:
        """The rules whose every clause has an atom in ``flat`` (plus those with none)."""
        ids = self._set.Match(" " + flat + " ")
        if not ids:  # the sentinel always matches: no answer means the scan failed
            log.warning("prefilter scan failed; evaluating every rule for this item")
            return list(self._compiled)
        if len(ids) == 1:
            return list(self._always)
        hit = set(chain.from_iterable(map(self._atom_clauses.__getitem__, ids)))
        out = list(self._always)
        anchored = self._anchored
        for cid in hit.intersection(anchored):
            for c in anchored[cid]:
                if c.clauses <= hit:
                    out.append(c)
        return out

    def match(self, item: Item, rule_ids: set[str] | None = None) -> list[RuleMatch]:
        """The rules that fire on ``item``, most severe first, each with its evidence."""
        text = item.document
        low = text.lower()
        if len(low) != len(text):
            low = textmod._lower_same_length(text)
        flat = low.translate(textmod.FLAT_TABLE)
        cands = self.candidates(flat)
        if rule_ids is not None:
            cands = [c for c in cands if c.rule.id in rule_ids]
        if not cands:
            return []
        doc = _Doc(text, low, flat, item.title_end, item.language)
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

    def _result(self, c: _Compiled, doc: _Doc, ev: Evidence) -> RuleMatch:
        seen_terms: dict[str, int] = {}
        spans = []
        for label, occ in ev:
            s, e = doc.char_span(occ)
            spans.append((s, e))
            if label not in seen_terms or s < seen_terms[label]:
                seen_terms[label] = s
        merged = textmod.merge_spans(spans)[:_MAX_SPANS]
        terms = tuple(sorted(seen_terms, key=seen_terms.__getitem__))
        rule = c.rule
        return RuleMatch(
            rule_id=rule.id,
            rule_title=rule.title,
            severity=rule.severity,
            terms=terms,
            spans=tuple(merged),
            snippet=textmod.snippet(doc.text, merged, width=_SNIPPET_WIDTH),
            why=c.root.describe(doc),
            tags=rule.tags,
        )
