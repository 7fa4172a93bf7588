"""The operators of places: every child found, close to one another.

Near      every child, within n words (counted on the flat text, never more than n + 1)
Sentence  every child in one sentence (the document's sentence starts, found once)
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from monitor.matching.document import Document, Evidence, Span
from monitor.matching.tree import Node, Operator, evaluated, quote

__all__ = ["Near", "Sentence"]


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


class _Together(Operator):
    """Every child found, in some relation to one another (near, one sentence)."""

    __slots__ = ()

    def decide(self, doc: Document) -> bool:
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
                    words.append(quote(doc, span))
                    break
            else:
                words.append(c.found(doc))
        return words, used


class Near(_Together):
    __slots__ = ("within",)

    def __init__(self, children: Sequence[Node], within: int, vocabulary: str | None = None):
        super().__init__(children, vocabulary)
        self.within = within

    def evaluate(self, doc: Document) -> Evidence | None:
        """The first window holding every argument with at most ``within`` words between."""
        args = self.arguments(doc)
        if args is None:
            return None
        need = len(args)
        events = sorted((sp[0], sp[1], k, label) for k, ev in enumerate(args) for label, sp in ev)
        counts = [0] * need
        covered = left = 0
        within = self.within
        close = doc.words_within
        for right in range(len(events)):
            k = events[right][2]
            if counts[k] == 0:
                covered += 1
            counts[k] += 1
            while covered == need:
                window = events[left : right + 1]
                first_end = min(e[1] for e in window)
                if close(first_end, events[right][0], within):
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

    def evaluate(self, doc: Document) -> Evidence | None:
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
