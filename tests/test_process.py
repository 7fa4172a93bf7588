"""The process-wide settings of a long-lived process (monitor.process): a compile leaves no
cyclic garbage once the analyser is loaded — which is why the daemon's start freezes what it
compiled without a full collection — and settle() freezes and trims either way."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import weakref

from conftest import ROOT
from monitor import process

_COMPILE_TWICE = textwrap.dedent(
    """
    import gc, sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from monitor import process
    from monitor.matching import Matcher, wordparts
    from monitor.rules import load_rules

    rules = Path({root!r}) / "rules"
    with process.compiling():
        Matcher(load_rules([rules]).active())  # the analyser and its dictionaries load
    first = gc.collect()
    wordparts.clear()  # every word of every rule analysed afresh
    with process.compiling():
        matcher = Matcher(load_rules([rules]).active())
    print(first, gc.collect(), matcher.rule_count)
    """
)


def test_a_compile_leaves_no_cyclic_garbage():
    # alone in a process of its own: no other thread makes garbage meanwhile
    out = subprocess.run(
        [sys.executable, "-c", _COMPILE_TWICE.format(root=str(ROOT))],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout.split()
    first, second, rules = map(int, out)
    assert rules >= 10
    assert first > 0  # loading the analyser does leave some: the collector sees them
    assert second == 0


class _Node:
    pass


def _cycle():
    a = _Node()
    a.me = a  # unreachable once dropped, freed only by the collector
    return weakref.ref(a)


def test_settle_collects_then_freezes_and_at_start_only_freezes():
    try:
        gc.unfreeze()
        gone = _cycle()
        process.settle()
        assert gone() is None  # collected
        assert gc.get_freeze_count() > 0
        gc.unfreeze()
        gc.disable()  # no automatic collection in between
        kept = _cycle()
        process.settle(collect=False)
        assert kept() is not None  # frozen as it was: why the start needs a compile without cycles
        assert gc.get_freeze_count() > 0
    finally:
        gc.enable()
        gc.unfreeze()
        gc.collect()


def test_compiling_with_freeze_leaves_the_compile_to_no_collection():
    try:
        gc.unfreeze()
        gc.collect()
        with process.compiling(freeze=True):
            assert not gc.isenabled()
            made = [_Node() for _ in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(made)  # frozen before the collector was back
        assert gc.get_count()[0] < len(made)  # not left in the youngest generation

        gc.unfreeze()
        with process.compiling():  # without: left young, for the next collection to walk
            more = [_Node() for _ in range(1000)]
        assert gc.get_freeze_count() == 0
        assert len(more) == 1000

        gc.unfreeze()
        try:
            with process.compiling(freeze=True):
                raise ValueError("a failed compile")
        except ValueError:
            pass
        assert gc.get_freeze_count() == 0  # a failed compile's garbage is not kept
        assert gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()
        gc.collect()
