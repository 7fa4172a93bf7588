"""The operator tree of a rule, one class per operator, each with three questions:

eval(doc)      the evidence, (label, span) pairs, if the node holds; None if not
holds(doc)     whether it holds, without gathering evidence where that can be skipped
describe(doc)  why it held, as an analyst reads it:
               azerbaijan · detention · “freed” near “Russian citizens” (4 words apart)

Leaf     a word, phrase or regex in its scope (title, body or both)
AnyOf    one child or more;     AllOf   every child;   NoneOf  no child (holds by absence)
AtLeast  n children or more;    Near    every child, within n words;
Sentence every child in one sentence
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from monitor.matching.document import Document, Evidence, Span
from monitor.matching.leaves import Leaf as LeafMatcher

__all__ = ["AllOf", "AnyOf", "AtLeast", "Leaf", "Near", "Node", "NoneOf", "Operator", "Sentence"]

_WHY_LABEL = 32


def _vocabulary_name(name: str) -> str:
    return name.replace("_", " ")


def _short(text: str) -> str:
    return text if len(text) <= _WHY_LABEL else text[: _WHY_LABEL - 1] + "…"


def _quote(doc: Document, span: Span) -> str:
    s, e = span
    return f"“{_short(' '.join(doc.text[s:e].split()))}”"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def evaluated(node: Node, doc: Document) -> Evidence | None:
    """``node.eval(doc)``, kept in the document while its hit is described."""
    key = id(node)
    if key in doc.evals:
        return doc.evals[key]
    result = doc.evals[key] = node.eval(doc)
    return result


class Node:
    __slots__ = ("vocabulary",)

    def __init__(self, vocabulary: str | None):
        self.vocabulary = vocabulary

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
        return _quote(doc, ev[0][1])

    def explain(self, doc: Document, clause: bool) -> str:
        return self.found(doc)


class Operator(Node):
    __slots__ = ("children", "gated")

    def __init__(self, children: Sequence[Node], vocabulary: str | None = None):
        super().__init__(vocabulary)
        self.children = list(children)
        # each child with the atoms the scan must have found for it to hold (None: no such
        # atoms known): a child whose atoms were not all found is not asked
        self.gated = [
            (c, c.leaf.atoms if isinstance(c, Leaf) and c.leaf.atoms else None)
            for c in self.children
        ]

    def any_holds(self, doc: Document) -> bool:
        """Whether some child holds."""
        found = doc.atoms
        for c, atoms in self.gated:
            if atoms is not None and found is not None and not atoms <= found:
                continue
            if c.holds(doc):
                return True
        return False

    def held(self, doc: Document) -> list[Node]:
        return [c for c in self.children if evaluated(c, doc) is not None]

    def _clauses(self, doc: Document, held: list[Node]) -> str:
        parts = [p for p in (c.describe(doc, True) for c in held) if p]
        return " · ".join(dict.fromkeys(parts))  # one clause named once


class AnyOf(Operator):
    __slots__ = ()

    def eval(self, doc: Document) -> Evidence | None:
        out: Evidence | None = None
        for c in self.children:
            ev = c.eval(doc)
            if ev is not None:
                out = ev if out is None else out + ev
        return out

    def holds(self, doc: Document) -> bool:
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

    def eval(self, doc: Document) -> Evidence | None:
        # whether every child holds, each stopping at its first match, before gathering
        # every child's evidence: most candidate rules fail on some child
        children = self.children
        if len(children) > 1 and not self.holds(doc):
            return None
        out: Evidence = []
        for c in children:
            ev = c.eval(doc)
            if ev is None:
                return None
            out += ev
        return out

    def holds(self, doc: Document) -> bool:
        for c in self.checks:  # noqa: SIM110 - a plain loop: no generator per document on the hot path
            if not c.holds(doc):
                return False
        return True

    def explain(self, doc: Document, clause: bool) -> str:
        return self._clauses(doc, self.held(doc))


class NoneOf(Operator):
    __slots__ = ()

    def eval(self, doc: Document) -> Evidence | None:
        return None if self.any_holds(doc) else []

    def holds(self, doc: Document) -> bool:
        return not self.any_holds(doc)

    def explain(self, doc: Document, clause: bool) -> str:
        return ""  # an exclusion held by being absent: nothing to name


class AtLeast(Operator):
    __slots__ = ("n",)

    def __init__(self, children: Sequence[Node], n: int, vocabulary: str | None = None):
        super().__init__(children, vocabulary)
        self.n = n

    def eval(self, doc: Document) -> Evidence | None:
        out: Evidence = []
        count = 0
        for c in self.children:
            ev = c.eval(doc)
            if ev is not None:
                count += 1
                out += ev
        return out if count >= self.n else None

    def holds(self, doc: Document) -> bool:
        need = self.n
        for c in self.children:
            if c.holds(doc):
                need -= 1
                if need <= 0:
                    return True
        return False

    def explain(self, doc: Document, clause: bool) -> str:
        held = self.held(doc)
        return f"{len(held)} of {len(self.children)}: {self._clauses(doc, held)}"


class _Together(Operator):
    """Every child found, in some relation to one another (near, one sentence)."""

    __slots__ = ()

    def holds(self, doc: Document) -> bool:
        # every argument found (cheap: occurrences are looked up once per document) before
        # their places are compared
        for c in self.children:
            if not c.holds(doc):
                return False
        return self.eval(doc) is not None

    def arguments(self, doc: Document) -> list[Evidence] | None:
        args = []
        for c in self.children:
            ev = c.eval(doc)
            if not ev:
                return None
            args.append(ev)
        return args

    def quoted(self, doc: Document) -> tuple[list[str], set[Span]]:
        """What each child found where the group held: its words in quotes; and those spans."""
        used = {sp for _, sp in evaluated(self, doc) or []}
        words = []
        for c in self.children:
            for _, span in evaluated(c, doc) or ():
                if span in used:
                    words.append(_quote(doc, span))
                    break
            else:
                words.append(c.found(doc))
        return words, used


class Near(_Together):
    __slots__ = ("within",)

    def __init__(self, children: Sequence[Node], within: int, vocabulary: str | None = None):
        super().__init__(children, vocabulary)
        self.within = within

    def eval(self, doc: Document) -> Evidence | None:
        """The first window holding every argument with at most ``within`` words between."""
        args = self.arguments(doc)
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
                window = events[left : right + 1]
                first_end = min(e[1] for e in window)
                if doc.words_between(first_end, events[right][0]) <= self.within:
                    return [(label, (s, e)) for s, e, _, label in window]
                kl = events[left][2]
                counts[kl] -= 1
                if counts[kl] == 0:
                    covered -= 1
                left += 1
        return None

    def explain(self, doc: Document, clause: bool) -> str:
        words, used = self.quoted(doc)
        spans = sorted(used)
        gap = doc.words_between(min(e for _, e in spans), max(s for s, _ in spans)) if spans else 0
        if gap == 0:
            return " next to ".join(words)
        return f"{' near '.join(words)} ({gap} word{'s' if gap != 1 else ''} apart)"


class Sentence(_Together):
    __slots__ = ()

    def eval(self, doc: Document) -> Evidence | None:
        args = self.arguments(doc)
        if args is None:
            return None
        starts = doc.sentence_starts
        per_arg = []
        for ev in args:
            by_sentence: dict[int, Evidence] = {}
            for label, sp in ev:
                by_sentence.setdefault(bisect.bisect_right(starts, sp[0]) - 1, []).append(
                    (label, sp)
                )
            per_arg.append(by_sentence)
        common = set(per_arg[0]).intersection(*per_arg[1:])
        if not common:
            return None
        out: Evidence = []
        for s in sorted(common):
            for by_sentence in per_arg:
                out += by_sentence[s]
        return out

    def explain(self, doc: Document, clause: bool) -> str:
        words, _ = self.quoted(doc)
        return f"{_and(words)} in one sentence"
