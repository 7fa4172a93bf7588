"""The compiled set scan: one RE2 set of every atom's pattern, swapped whole when recompiled.

    patterns 0 … n-1   the atoms (0, the sentinel, matches every text)
    pattern n          the unsafe class: an item the raw scan cannot read as its flat text

``ScanSet.match(data)`` is the scan: UTF-8 bytes in, the indices of the patterns found out
(None when the scan failed). The set is compiled with a memory budget by the patterns'
size, doubled until it compiles, up to RE2's ceiling for it; at that ceiling RE2 drops its
cache of automaton states and rebuilds it while scanning, slower but bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import re2

from monitor.matching.patterns import SPACE, SPACE_CHARS, Atom, PhraseRest, atom_pattern
from monitor.matching.scantext import raw_scan_unsafe

__all__ = ["Exclusions", "ScanSet"]

# per stem atom, per needle, the rests of tokens to skip (see monitor.matching.learner)
Exclusions = Mapping[int, Mapping[str, frozenset[str]]]

_MAX_MEM_CAP = 256 << 20
_MAX_MEM_FLOOR = 64 << 20
_BYTES_PER_PATTERN_CHAR = 512
_COMPILE_CEILING = 4 << 30


def _compile(patterns: Sequence[str]) -> re2.Set:
    size = sum(len(p.replace(SPACE, " ").replace(SPACE_CHARS, " ")) for p in patterns)
    max_mem = min(max(_MAX_MEM_FLOOR, size * _BYTES_PER_PATTERN_CHAR), _MAX_MEM_CAP)
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
            if max_mem >= _COMPILE_CEILING:
                raise
            max_mem *= 2


class ScanSet:
    """The atoms' patterns compiled into one RE2 set; :meth:`recompile` builds a new one with
    learned exclusions and swaps it in (a scan running meanwhile finishes on the old one)."""

    def __init__(self, atoms: Sequence[Atom], phrase_rests: Mapping[Atom, set[PhraseRest]]):
        self._atoms = atoms
        self.phrase_rests = phrase_rests
        self.unsafe = len(atoms)  # the index of the unsafe pattern, after the atoms
        self.match: Callable[[bytes], list[int] | None] = self._build({}).Match

    def _build(self, excluded: Exclusions) -> re2.Set:
        rests = self.phrase_rests
        patterns = [
            atom_pattern(a, excluded.get(i), rests.get(a)) for i, a in enumerate(self._atoms)
        ]
        patterns.append(raw_scan_unsafe())
        return _compile(patterns)

    def recompile(self, excluded: Exclusions) -> None:
        """Compile the set again with ``excluded``; raises ``re2.error`` if it does not
        compile (the set before stays)."""
        self.match = self._build(excluded).Match
