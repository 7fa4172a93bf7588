"""What the matcher learns of the stream: the words that only begin like a rule's stem.

    a stem atom (" pub") found by the scan ─► its tokens stemmed ─► those of other stems
    ("public", "published") noted here, per needle, by their rest ("lic", "lished")
    refresh() ─► the set recompiled with each needle followed by anything but those rests

A token's stem never changes, so what is learned is a fact forever; it only narrows the
prefilter, and every answer is still decided by the exact evaluation. ``refresh()`` is the
one place that compiles: the daemon's learn job calls it, off the polling threads; a match
only notes what it refused.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

import re2

from monitor.matching.scanset import ScanSet

log = logging.getLogger(__name__)

__all__ = ["Learner"]

# at most this many rests a needle, and this many characters in all: the set's patterns grow
# by about that much, well inside what RE2 walks when it compiles a set
_EXCLUDED_PER_NEEDLE = 256
_EXCLUDED_CHARS = 60_000
# every 4th document scanned, up to 4 stem atoms it found that no rule needed confirmed are
# checked, each at most once per 512 documents
_CHECK_EVERY_MASK = 3
_CHECK_ATOMS = 4
_RECHECK = 512
_CHECKED_MAX = 200_000


class Learner:
    """The learned exclusions of one matcher, and the pace of checking found atoms.

    Safe from several threads: noting takes a lock; ``refresh`` compiles outside it and
    swaps the new set in whole; a second ``refresh`` while one runs returns at once.
    """

    def __init__(self, scan_set: ScanSet, enabled: bool):
        self.enabled = enabled
        self._scan_set = scan_set
        # per stem atom, per needle, the rests of tokens that begin with the needle but
        # have another stem
        self._excluded: dict[int, dict[str, set[str]]] = {}
        self._chars = 0
        self._pending = 0  # rests noted since the set was compiled
        self._lock = threading.Lock()
        self._compiling = threading.Lock()
        self._documents = 0  # documents scanned (racy between threads: only the pace uses it)
        self._checked: dict[int, int] = {}  # stem atom → the document it was last checked at

    @property
    def excluded_count(self) -> int:
        """How many token rests have been learned (compiled in or not yet)."""
        return sum(len(v) for d in list(self._excluded.values()) for v in list(d.values()))

    @property
    def pending(self) -> int:
        return self._pending

    def note(self, atom: int, refused: Iterable[tuple[str, str]]) -> None:
        """Remember tokens (with the needle that found them) that the scan found for a stem
        atom but that have another stem."""
        if not self.enabled:
            return
        with self._lock:
            if self._chars >= _EXCLUDED_CHARS:
                return
            by_needle = self._excluded.setdefault(atom, {})
            for needle, token in refused:
                rest = token[len(needle) - 1 :]
                known = by_needle.setdefault(needle, set())
                if rest in known or len(known) >= _EXCLUDED_PER_NEEDLE:
                    continue
                known.add(rest)
                self._chars += len(rest) + 1
                self._pending += 1

    def check_due(self) -> bool:
        """Counts a document scanned; whether to check the stem atoms it found (every 4th)."""
        if not self.enabled:
            return False
        self._documents += 1
        return not self._documents & _CHECK_EVERY_MASK

    def atoms_to_check(self, found: Iterable[int]) -> list[int]:
        """Of the stem atoms a document's scan found that no rule needed confirmed, the few
        to check now: up to 4 not checked in the last 512 documents. Most are tokens of other
        stems found document after document; an atom really there (a rule word in the news)
        is found again and again, and checked again only then."""
        now = self._documents
        checked = self._checked
        out: list[int] = []
        for a in found:
            last = checked.get(a)
            if last is not None and now - last < _RECHECK:
                continue
            checked[a] = now
            out.append(a)
            if len(out) == _CHECK_ATOMS:
                break
        if len(checked) > _CHECKED_MAX:
            checked.clear()
        return out

    def refresh(self) -> bool:
        """Compile what was learned into the scan; whether a new set was swapped in."""
        if not self.enabled or not self._pending or not self._compiling.acquire(blocking=False):
            return False
        try:
            with self._lock:
                snapshot = {
                    a: {n: frozenset(r) for n, r in d.items()} for a, d in self._excluded.items()
                }
                self._pending = 0
            t0 = time.perf_counter()
            try:
                self._scan_set.recompile(snapshot)
            except re2.error:
                log.warning(
                    "matcher: the set with learned exclusions did not compile; "
                    "keeping the one before and learning no more"
                )
                self.enabled = False
                return False
            log.debug(
                "matcher: set recompiled with %d learned exclusions in %.3f s",
                self.excluded_count,
                time.perf_counter() - t0,
            )
            return True
        finally:
            self._compiling.release()
