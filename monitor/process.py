"""Process-wide settings for a long-lived process that holds a large compiled matcher.

    with compiling(): …   the cyclic garbage collector paused while rules are compiled:
                          compiling allocates many small objects and no cycles, and the
                          collector would only rescan them again and again; at start-up
                          (``freeze=True``) what it made is frozen before the collector
                          is back, so no collection walks it at all
    settle()              after (re)loading: collect once, freeze what survives (the rules
                          and the matcher live as long as the process, or until a reload),
                          and give the C heap's free memory back to the system (RE2 keeps
                          scratch memory while it compiles a large set); at start-up
                          without the collection (``collect=False``: a compile leaves
                          no cycles to find)

``monitor run`` compiles the first rules inside ``compiling(freeze=True)`` and the daemon
settles once at start; each reload does both, the same way. The benchmarks call them where they measure
memory. Nothing in the matcher touches process-wide state.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["compiling", "settle", "trim_heap"]


@contextmanager
def compiling(freeze: bool = False) -> Iterator[None]:
    """Pause the cyclic garbage collector for a compile (restored after, as it was).

    ``freeze``: what the compile made is frozen before the collector runs again (at start,
    with no other thread yet: a compile leaves no cyclic garbage). Without it, the first
    allocation after the pause starts a collection of the youngest generation, which now
    holds every object of the compile: 0.6–1 s at 10,000 rules, finding nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        if freeze:
            gc.freeze()
    finally:
        if enabled:
            gc.enable()


def settle(collect: bool = True) -> None:
    """After loading rules: collect, freeze the survivors, trim the C heap.

    ``collect=False`` freezes without the full collection (a pass over every object the
    compile made: 0.8 s at 10,000 rules). Right for the daemon's start, where only the
    start-up itself has run since the last collection: a compile leaves no cyclic garbage
    once the morphological analyser is loaded (tests/test_process.py), so the collection
    would find only the few dozen objects of that first load. A reload collects: other
    threads kept polling while the collector was paused.
    """
    if collect:
        gc.collect()
    gc.freeze()
    trim_heap()


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(
            ctypes.util.find_library("c") or "libc.so.6"
        ).malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None
    return trim


def trim_heap() -> None:
    """Give the C heap's free memory back to the system (glibc's ``malloc_trim``)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
