"""The Matcher: every rule compiled once; ``match(item)`` is pure (no I/O, no compiling).

    Matcher(rules) ─► RuleCompiler (operator trees, atoms, clauses) ─► ScanSet (one RE2 set)
                   ─► Prefilter (the scan and the rule index) and Learner (what it learns)
    match(item)    ─► candidates ─► each decided exactly (whether it holds, no evidence
                      gathered) ─► RuleMatch, most severe first, whose terms, spans, snippet
                      and why are built when first read
    refresh()      ─► what was learned compiled into the scan (the daemon's learn job)

Safe to call from several threads at once: per-item state lives in the call; the learned
exclusions and the set they are compiled into are swapped whole, under a lock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial

from monitor import text as textmod
from monitor.matching.compiler import CompiledRule, RuleCompiler
from monitor.matching.document import Document
from monitor.matching.learner import Learner
from monitor.matching.leaves import MAX_SPANS
from monitor.matching.prefilter import Prefilter
from monitor.matching.scanset import ScanSet
from monitor.matching.tree import evaluated
from monitor.models import SEVERITY_RANK, Item, RuleEvidence, RuleMatch
from monitor.snippets import merge_spans, snippet
from monitor.rules.model import Rule

log = logging.getLogger(__name__)

__all__ = ["Matcher"]

_SNIPPET_WIDTH = 240


class Matcher:
    """Every rule compiled into one prefilter and one evaluation tree per rule.

    ``prefilter=False`` evaluates every rule on every item (for checking the prefilter);
    ``learn=False`` keeps the scan as compiled.
    """

    def __init__(self, rules: Iterable[Rule], *, prefilter: bool = True, learn: bool = True):
        self.rules: list[Rule] = list(rules)
        compiler = RuleCompiler()
        self._compiled = compiler.compile(self.rules)
        self._use_prefilter = prefilter
        scan_set = ScanSet(compiler.atoms, compiler.phrase_rests)
        self._learner = Learner(scan_set, enabled=learn and prefilter)
        self._prefilter = Prefilter(
            self._compiled, compiler.atoms, compiler.atom_stems(), scan_set, self._learner
        )
        log.debug(
            "matcher: %d rules, %d atoms, %d clauses, %d evaluated on every item",
            len(self._compiled),
            self.atom_count,
            sum(len(c.clauses) for c in self._compiled),
            len(self._prefilter.unfiltered),
        )

    @property
    def rule_count(self) -> int:
        return len(self._compiled)

    @property
    def atom_count(self) -> int:
        """How many atoms the scan looks for (the sentinel not counted)."""
        return self.prefilter.scan_set.unsafe - 1

    @property
    def excluded_count(self) -> int:
        """How many token rests the matcher has learned to skip (see :mod:`.learner`)."""
        return self._learner.excluded_count

    @property
    def prefilter(self) -> Prefilter:
        return self._prefilter

    def refresh(self) -> None:
        """Compile what was learned into the scan (the only time the matcher compiles after
        it is built); the daemon's learn job calls it every few minutes."""
        self._learner.refresh()

    def scan(self, text: str) -> list[int] | None:
        """The atoms found in ``text`` (see :meth:`Prefilter.scan`)."""
        return self._prefilter.scan(text)

    def match(
        self, item: Item, rule_ids: set[str] | frozenset[str] | None = None
    ) -> list[RuleMatch]:
        """The rules that fire on ``item``, most severe first, each with its evidence."""
        text = item.document
        padded = None
        candidates: list[CompiledRule]
        if self._use_prefilter:
            candidates, atoms, padded = self._prefilter.candidates(text)
        else:
            candidates, atoms = list(self._compiled), None
        if rule_ids is not None:
            candidates = [c for c in candidates if c.rule.id in rule_ids]
        if not candidates:
            return []
        if padded is None:
            padded = f" {textmod.flat_of(text)} "
        doc = Document(text, padded, item.title_end, item.language, atoms)
        out: list[tuple[int, int, RuleMatch]] = []
        for c in candidates:
            if c.languages:
                lang = doc.language
                if lang is not None and lang not in c.languages:
                    continue
            if not c.root.holds(doc) or not (c.positive or evaluated(c.root, doc)):
                continue
            rule = c.rule
            hit = RuleMatch.lazy(
                rule.id, rule.title, rule.severity, rule.tags, partial(_evidence, c, doc)
            )
            out.append((-SEVERITY_RANK.get(rule.severity, 0), c.order, hit))
        out.sort(key=lambda x: (x[0], x[1]))
        return [m for _, _, m in out]

    def match_text(
        self, text: str, title: str = "", language: str | None = None
    ) -> list[RuleMatch]:
        """``match`` for a bare text (``rules test``, examples)."""
        return self.match(
            Item(source="text", key="text", title=title, text=text, language=language)
        )


def _evidence(c: CompiledRule, doc: Document) -> RuleEvidence:
    """A fired rule's terms, spans, snippet and why (built when the hit's evidence is read)."""
    ev = evaluated(c.root, doc)
    assert ev is not None  # the rule held on this document
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
    spans = merge_spans(sp for _, sp in ev)[:MAX_SPANS]
    return (
        tuple(sorted(first_seen, key=first_seen.__getitem__)),
        tuple(spans),
        snippet(doc.text, spans, width=_SNIPPET_WIDTH),
        c.root.describe(doc),
    )
