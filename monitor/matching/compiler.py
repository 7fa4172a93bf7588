"""Rules compiled for matching: each rule's operator tree, and the atoms and clauses the
prefilter needs.

    term ─► parts (per word: stems, a lemma, the token, or a prefix; with the needles every
            form of it starts with) ─► a leaf, and one atom (a phrase: one atom of its first
            word, shared by the phrases that begin with it)
    regex ─► a leaf, and an atom of its required literal (if it has one)
    rule ─► clauses: sets of atoms, at least one of each must be found for the rule to
            match (all / near / sentence: every child's; any / at_least: one set, the
            rarest of each child's; none: nothing), rarest first
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain
from typing import Any

from monitor import morph
from monitor import text as textmod
from monitor.langdetect import normalise_language
from monitor.matching import wordparts
from monitor.matching.leaves import LEMMA, PREFIX, STEM, TOKEN, Part, Regex, Words
from monitor.matching.patterns import PHRASE, SENTINEL, Atom, PhraseRest
from monitor.matching.proximity import Near, Sentence
from monitor.matching.tree import AllOf, AnyOf, AtLeast, Leaf, Node, NoneOf, Operator
from monitor.rules.model import Group, MatchNode, Pattern, Rule, Term
from monitor.rules.tree import positive

__all__ = ["CompiledRule", "RuleCompiler"]

Clause = frozenset[int]
# a phrase atom is rarer than its first word alone by about this many characters
_PHRASE_RARITY = 4


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    root: Node
    languages: frozenset[str]
    clauses: tuple[Clause, ...]  # the atom sets it needs, its anchor (rarest) first
    order: int
    # it can only hold by finding something (every loaded rule): holding means evidence;
    # else (a rule built in code that holds by absence) it fires only with some evidence
    positive: bool = True


_OPERATORS: dict[str, Callable[[Group, list[Node]], Node]] = {
    "any": lambda g, kids: AnyOf(kids, g.vocabulary),
    "all": lambda g, kids: AllOf(kids, g.vocabulary),
    "none": lambda g, kids: NoneOf(kids, g.vocabulary),
    "at_least": lambda g, kids: AtLeast(kids, g.n, g.vocabulary),
    "near": lambda g, kids: Near(kids, g.within, g.vocabulary),
    "sentence": lambda g, kids: Sentence(kids, g.vocabulary),
}
# what a group needs of its children's clauses: EVERY child's, ONE set (the rarest clause of
# each child, any of whose atoms will do), or NOTHING (it holds by absence)
EVERY, ONE, NOTHING = "every", "one", "nothing"
_NEEDS = {
    "all": EVERY,
    "near": EVERY,
    "sentence": EVERY,
    "any": ONE,
    "at_least": ONE,
    "none": NOTHING,
}


def _make_parts(term: Term) -> tuple[Part, ...]:
    words = [w.lower() for w in term.words] if term.case else list(term.words)
    parts: list[Part] = []
    for i, w in enumerate(words):
        if term.prefix and i == len(words) - 1:
            parts.append((PREFIX, w, (" " + w,)))
        elif term.exact:
            parts.append((TOKEN, w, (" " + w + " ",)))
        elif textmod.is_cyrillic(w) and (lemma := morph.rule_lemma(w)) is not None:
            parts.append((LEMMA, frozenset((lemma,)), morph.lexeme_needles(w)))
        elif textmod.is_cyrillic(w) and (guess := morph.guessed_lemma(w)) is not None:
            # unknown to the dictionary: its stems, or the lemma the analyser guesses
            stems = textmod.term_stems(w)
            needles = dict.fromkeys(
                [
                    *(" " + n for s in stems for n in textmod.stem_needles(s)),
                    *morph.lexeme_needles(w),
                ]
            )
            parts.append((LEMMA, frozenset((guess, *stems)), tuple(needles)))
        else:
            stems = textmod.term_stems(w)
            needles = dict.fromkeys(" " + n for s in stems for n in textmod.stem_needles(s))
            parts.append((STEM, frozenset(stems), tuple(needles)))
    return tuple(parts)


class RuleCompiler:
    """One compile: the atom table grows as rules are read; leaves are shared by equal terms."""

    def __init__(self) -> None:
        self.atoms: list[Atom] = [SENTINEL]  # 0, the sentinel, is in every text
        self._atom_ids: dict[Atom, int] = {SENTINEL: 0}
        # how rare an atom is: its shortest needle's length (a phrase's first word's, + 4)
        self._rarity: list[int] = [0]
        # for a stem atom: the stems a token found by it may have (None: found is enough)
        self._stems: list[set[str] | None] = [None]
        # a phrase atom (its first word) → the rests of the phrases that begin with it
        self.phrase_rests: dict[Atom, set[PhraseRest]] = {}
        self._leaves: dict[Any, Words | Regex] = {}
        self._firsts: dict[Part, int] = {}  # a word's key: leaves that begin with it share it
        # every node built, by what it is: equal subtrees (a vocabulary in many clauses and
        # rules) are one node, whose answer a document keeps
        self._nodes: dict[tuple[Any, ...], Node] = {}
        self._parts: dict[Any, tuple[Part, ...]] = {}
        self._term_clauses: dict[tuple[Part, ...], list[Clause]] = {}

    def compile(self, rules: Iterable[Rule]) -> list[CompiledRule]:
        out: list[CompiledRule] = []
        for order, rule in enumerate(rules):
            root = self._node(rule.match)
            clauses = sorted(set(self._clauses(rule.match)), key=self.selectivity, reverse=True)
            langs = frozenset(normalise_language(x) or x for x in rule.language)
            out.append(CompiledRule(rule, root, langs, tuple(clauses), order, positive(rule.match)))
        return out

    def atom_stems(self) -> list[frozenset[str] | None]:
        """Per atom, the stems (and lemma keys) a token it finds must have; None: any."""
        return [frozenset(t) if t is not None else None for t in self._stems]

    # -- atoms ---------------------------------------------------------------------------
    def _atom(self, key: Atom, stems: frozenset[str] | None = None) -> int:
        got = self._atom_ids.get(key)
        if got is None:
            got = self._atom_ids[key] = len(self.atoms)
            self.atoms.append(key)
            self._stems.append(set() if stems is not None else None)
            if key[0] == PHRASE:  # a first word and at least one more
                rarity = min(len(n.strip()) for n in key[1][1]) + _PHRASE_RARITY
            else:
                rarity = min(len(n.strip()) for n in key)
            self._rarity.append(rarity)
        targets = self._stems[got]
        if stems is None:
            self._stems[got] = None  # an exact or prefix term: any token found counts
        elif targets is not None:
            targets.update(stems)
        return got

    def selectivity(self, clause: Clause) -> tuple[int, int]:
        """Higher is rarer: clauses of long atoms, and fewer of them, occur less often."""
        rarity = self._rarity
        return (min(rarity[a] for a in clause), -len(clause))

    # -- leaves and nodes ------------------------------------------------------------------
    def _term_parts(self, term: Term) -> tuple[Part, ...]:
        key = (term.words, term.exact, term.case, term.prefix)
        got = self._parts.get(key)
        if got is None:
            got = self._parts[key] = wordparts.parts(key, lambda: _make_parts(term))
        return got

    def _leaf(self, node: Term | Pattern) -> Words | Regex:
        if isinstance(node, Term):
            parts = self._term_parts(node)
            case_words = node.words if node.case else None
            key: tuple[Any, ...] = ("w", parts, case_words)
            leaf = self._leaves.get(key)
            if leaf is None:
                atoms = frozenset(a for clause in self._clauses(node) for a in clause)
                first = self._firsts.setdefault(parts[0], len(self._firsts))
                leaf = self._leaves[key] = Words(len(self._leaves), parts, case_words, atoms, first)
            return leaf
        key = ("r", node.pattern, node.case)
        leaf = self._leaves.get(key)
        if leaf is None:
            atoms = frozenset(a for clause in self._clauses(node) for a in clause)
            leaf = self._leaves[key] = Regex(len(self._leaves), node, atoms)
        return leaf

    def _node(self, node: MatchNode) -> Node:
        if isinstance(node, (Term, Pattern)):
            leaf = self._leaf(node)
            scope = node.scope or "both"
            key: tuple[Any, ...] = ("leaf", leaf.id, scope, node.label, node.vocabulary)
            got = self._nodes.get(key)
            if got is None:
                got = self._nodes[key] = Leaf(leaf, scope, node.label, node.vocabulary)
            return got
        kids = [self._node(c) for c in node.children]
        key = (node.op, node.n, node.within, node.vocabulary, *map(id, kids))
        got = self._nodes.get(key)
        if got is None:
            got = self._nodes[key] = _OPERATORS[node.op](node, kids)
        elif isinstance(got, Operator):
            got.shared = True
        return got

    # -- clauses ---------------------------------------------------------------------------
    def _clauses(self, node: MatchNode) -> list[Clause]:
        """Clauses (sets of atoms, at least one present) the node needs to match; [] = none."""
        if isinstance(node, Term):
            return self._term_clause(node)
        if isinstance(node, Pattern):
            if not node.literal:
                return []
            flat = node.literal.translate(textmod.FLAT_TABLE)
            return [frozenset((self._atom((flat,)),))] if flat.strip() else []
        needs = _NEEDS[node.op]
        if needs == EVERY:
            return list(chain.from_iterable(self._clauses(c) for c in node.children))
        if needs == ONE:
            picked: set[int] = set()
            for c in node.children:
                clauses = self._clauses(c)
                if not clauses:
                    return []
                rarest: Clause = max(clauses, key=self.selectivity)
                picked |= rarest
            return [frozenset(picked)]
        return []

    def _term_clause(self, term: Term) -> list[Clause]:
        parts = self._term_parts(term)
        got = self._term_clauses.get(parts)
        if got is None:
            if len(parts) == 1:
                kind, value, needles = parts[0]
                stems = value if kind in (STEM, LEMMA) else None
                got = [frozenset((self._atom(needles, stems),))]
            else:  # a phrase: its words on consecutive tokens, one atom (found is enough)
                # shared by the phrases of the same first word
                key = (PHRASE, (parts[0][0], parts[0][2]))
                self.phrase_rests.setdefault(key, set()).add(
                    tuple((kind, needles) for kind, _, needles in parts[1:])
                )
                got = [frozenset((self._atom(key),))]
            self._term_clauses[parts] = got
        return got
