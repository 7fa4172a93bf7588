"""The operator tree of a rule, one class per operator, each with three questions:

eval(doc)      the evidence, (label, span) pairs, if the node holds; None if not
holds(doc)     whether it holds, without gathering evidence where that can be skipped
describe(doc)  why it held, as an analyst reads it:
               azerbaijan · detention · “freed” near “Russian citizens” (4 words apart)

Leaf     a word, phrase or regex in its scope (title, body or both)
AnyOf    one child or more;     AllOf   every child;   NoneOf  no child (holds by absence)
AtLeast  n children or more;    Near, Sentence (:mod:`.proximity`) every child, close

Equal subtrees are one node (the compiler builds each once: a vocabulary used by many
clauses and rules is one group), and a document keeps each operator's evidence once it is
gathered, and a shared operator's answer once it is decided: a vocabulary is looked at once
per document, whichever rules use it. A group of many words asks only the words whose atoms
the scan found (filed by atom), in their written order where the order shows (evidence).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.matching.document import Document, Evidence, Span
from monitor.matching.leaves import Leaf as LeafMatcher

__all__ = ["AllOf", "AnyOf", "AtLeast", "Leaf", "Node", "NoneOf", "Operator", "evaluated"]

_WHY_LABEL = 32
# a group of more children than this files its word children by the atom each needs
_FILED = 12
_MISSING: Any = object()


def _vocabulary_name(name: str) -> str:
    return name.replace("_", " ")


def _short(text: str) -> str:
    return text if len(text) <= _WHY_LABEL else text[: _WHY_LABEL - 1] + "…"


def quote(doc: Document, span: Span) -> str:
    s, e = span
    return f"“{_short(' '.join(doc.text[s:e].split()))}”"


def evaluated(node: Node, doc: Document) -> Evidence | None:
    """``node.eval(doc)``, kept in the document (for the rest of the match and its hits)."""
    key = id(node)
    got = doc.evals.get(key, _MISSING)
    if got is _MISSING:
        got = doc.evals[key] = node.eval(doc)
    result: Evidence | None = got
    return result


class Node:
    __slots__ = ("shared", "vocabulary")

    def __init__(self, vocabulary: str | None):
        self.vocabulary = vocabulary
        self.shared = False  # used in more than one place (its answer is kept per document)

    def eval(self, doc: Document) -> Evidence | None:
        raise NotImplementedError

    def holds(self, doc: Document) -> bool:
        return self.eval(doc) is not None

    def describe(self, doc: Document, clause: bool = True) -> str:
        """A node that is a vocabulary, as a whole clause of its rule, is named by its
        vocabulary; any other by what it found."""
        if clause and self.vocabulary:
            return _vocabulary_name(self.vocabulary)
        return self.explain(doc, clause)

    def explain(self, doc: Document, clause: bool) -> str:
        raise NotImplementedError

    def found(self, doc: Document) -> str:
        """What it found, as an argument of ``near`` or ``sentence`` names it."""
        return self.describe(doc, False)


class Leaf(Node):
    __slots__ = ("label", "leaf", "scope")

    def __init__(self, leaf: LeafMatcher, scope: str, label: str, vocabulary: str | None):
        super().__init__(vocabulary)
        self.leaf = leaf
        self.scope = scope
        self.label = label

    def _spans(self, doc: Document) -> list[Span]:
        spans = doc.occurrences.get(self.leaf.id)
        return self.leaf.occurrences(doc) if spans is None else spans

    def eval(self, doc: Document) -> Evidence | None:
        spans = self._spans(doc)
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

    def holds(self, doc: Document) -> bool:
        spans = self._spans(doc)
        if not spans:
            return False
        scope = self.scope
        if scope == "both":
            return True
        te = doc.title_end
        if scope == "title":
            return any(sp[1] <= te for sp in spans)
        return any(sp[0] >= te for sp in spans)

    def found(self, doc: Document) -> str:
        """The words this leaf matched first, as the text has them, quoted."""
        ev = evaluated(self, doc)
        if not ev:
            return f"“{_short(self.label)}”"
        return quote(doc, ev[0][1])

    def explain(self, doc: Document, clause: bool) -> str:
        return self.found(doc)


class Operator(Node):
    """A group: ``eval`` and ``holds`` look in the document first; subclasses answer in
    ``evaluate`` (the evidence) and ``decide`` (whether it holds)."""

    __slots__ = ("children", "filed", "filed_atoms", "gated", "unfiled")

    def __init__(self, children: Sequence[Node], vocabulary: str | None = None):
        super().__init__(vocabulary)
        self.children = list(children)
        # each child with the atoms the scan must have found for it to hold (None: no such
        # atoms known): a child whose atoms were not all found is not asked
        self.gated = [
            (c, c.leaf.atoms if isinstance(c, Leaf) and c.leaf.atoms else None)
            for c in self.children
        ]
        # many children: those with atoms filed (by position) under the least of them
        self.filed: dict[int, list[int]] | None = None
        self.filed_atoms: frozenset[int] = frozenset()
        self.unfiled: list[int] = []
        if len(self.children) > _FILED:
            filed: dict[int, list[int]] = {}
            for i, (_c, atoms) in enumerate(self.gated):
                if atoms is None:
                    self.unfiled.append(i)
                else:
                    filed.setdefault(min(atoms), []).append(i)
            self.filed = filed
            self.filed_atoms = frozenset(filed)

    def eval(self, doc: Document) -> Evidence | None:
        key = id(self)
        evals = doc.evals
        got = evals.get(key, _MISSING)
        if got is _MISSING:
            got = evals[key] = self.evaluate(doc)
        result: Evidence | None = got
        return result

    def holds(self, doc: Document) -> bool:
        key = id(self)
        got = doc.evals.get(key, _MISSING)
        if got is not _MISSING:
            return got is not None
        if not self.shared:
            return self.decide(doc)
        held = doc.held
        answer = held.get(key)
        if answer is None:
            answer = held[key] = self.decide(doc)
        return answer

    def evaluate(self, doc: Document) -> Evidence | None:
        raise NotImplementedError

    def decide(self, doc: Document) -> bool:
        return self.eval(doc) is not None

    def candidates(self, doc: Document) -> list[Node]:
        """The children that may hold, in their written order: those whose atoms were all
        found (every child when the scan's atoms are not known)."""
        found = doc.atoms
        if found is None:
            return self.children
        filed = self.filed
        if filed is None:
            return [c for c, atoms in self.gated if atoms is None or atoms <= found]
        gated = self.gated
        picked = list(self.unfiled)
        for a in self.filed_atoms.intersection(found):
            for i in filed[a]:
                if gated[i][1] <= found:  # type: ignore[operator]
                    picked.append(i)
        picked.sort()
        return [gated[i][0] for i in picked]

    def any_holds(self, doc: Document) -> bool:
        """Whether some child holds."""
        found = doc.atoms
        filed = self.filed
        if filed is None or found is None:
            for c, atoms in self.gated:
                if atoms is not None and found is not None and not atoms <= found:
                    continue
                if c.holds(doc):
                    return True
            return False
        gated = self.gated
        for i in self.unfiled:
            if gated[i][0].holds(doc):
                return True
        for a in self.filed_atoms.intersection(found):
            for i in filed[a]:
                c, atoms = gated[i]
                if atoms <= found and c.holds(doc):  # type: ignore[operator]
                    return True
        return False

    def held(self, doc: Document) -> list[Node]:
        return [c for c in self.candidates(doc) if evaluated(c, doc) is not None]

    def _clauses(self, doc: Document, held: list[Node]) -> str:
        parts = [p for p in (c.describe(doc, True) for c in held) if p]
        return " · ".join(dict.fromkeys(parts))  # one clause named once


class AnyOf(Operator):
    __slots__ = ()

    def evaluate(self, doc: Document) -> Evidence | None:
        out: Evidence | None = None
        for c in self.candidates(doc):
            ev = c.eval(doc)
            if ev is not None:
                out = ev if out is None else out + ev
        return out

    def decide(self, doc: Document) -> bool:
        return self.any_holds(doc)

    def explain(self, doc: Document, clause: bool) -> str:
        held = self.held(doc)
        return held[0].describe(doc, clause) if held else ""


def _cost(node: Node) -> int:
    """How much deciding a node costs, roughly: a word's occurrences are looked up once per
    document; near and sentence compare places; nested groups add up."""
    if isinstance(node, Leaf):
        return 1
    if isinstance(node, (AnyOf, NoneOf)) and all(isinstance(c, Leaf) for c in node.children):
        return 2
    return 3


class AllOf(Operator):
    __slots__ = ("checks",)

    def __init__(self, children: Sequence[Node], vocabulary: str | None = None):
        super().__init__(children, vocabulary)
        # the children in the order they are checked: the cheap ones first, as one that
        # fails decides the group (the evidence is still gathered in the written order)
        self.checks = sorted(self.children, key=_cost)

    def evaluate(self, doc: Document) -> Evidence | None:
        # whether every child holds, each stopping at its first match, before gathering
        # every child's evidence: most candidate rules fail on some child
        children = self.children
        if len(children) > 1 and not self.decide(doc):
            return None
        out: Evidence = []
        for c in children:
            ev = c.eval(doc)
            if ev is None:
                return None
            out += ev
        return out

    def decide(self, doc: Document) -> bool:
        for c in self.checks:  # noqa: SIM110 - a plain loop: no generator per document on the hot path
            if not c.holds(doc):
                return False
        return True

    def explain(self, doc: Document, clause: bool) -> str:
        return self._clauses(doc, self.held(doc))


class NoneOf(Operator):
    __slots__ = ()

    def evaluate(self, doc: Document) -> Evidence | None:
        return None if self.any_holds(doc) else []

    def decide(self, doc: Document) -> bool:
        return not self.any_holds(doc)

    def explain(self, doc: Document, clause: bool) -> str:
        return ""  # an exclusion held by being absent: nothing to name


class AtLeast(Operator):
    __slots__ = ("n",)

    def __init__(self, children: Sequence[Node], n: int, vocabulary: str | None = None):
        super().__init__(children, vocabulary)
        self.n = n

    def evaluate(self, doc: Document) -> Evidence | None:
        out: Evidence = []
        count = 0
        for c in self.candidates(doc):
            ev = c.eval(doc)
            if ev is not None:
                count += 1
                out += ev
        return out if count >= self.n else None

    def decide(self, doc: Document) -> bool:
        need = self.n
        for c in self.candidates(doc):
            if c.holds(doc):
                need -= 1
                if need <= 0:
                    return True
        return False

    def explain(self, doc: Document, clause: bool) -> str:
        held = self.held(doc)
        return f"{len(held)} of {len(self.children)}: {self._clauses(doc, held)}"
