"""The parts of a rule term, as the compiler makes them, kept by the term's content.

    term (words, exact, case, prefix) ─► parts: per word its kind, its stems or lemma keys,
                                          and the needles every form of it begins with

Most of compiling is here: a Russian word is analysed (its readings, its lemma, every form
of its lexeme for the needles) at about a millisecond a word. The parts depend only on the
term's content (and the analysers, fixed for a process), so they are kept for the process,
bounded, and shared by every compile: a reload, ``rules test``, the web pages' matchers,
the examples checked at load. A changed term is another key: it is analysed afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["TermKey", "clear", "parts"]

# (words, exact, case, prefix)
TermKey = tuple[tuple[str, ...], bool, bool, bool]
Parts = tuple[tuple[str, Any, tuple[str, ...]], ...]

_CACHE: dict[TermKey, Parts] = {}
_CACHE_MAX = 500_000


def parts(key: TermKey, make: Callable[[], Parts]) -> Parts:
    """The parts of the term ``key``, made by ``make()`` the first time."""
    got = _CACHE.get(key)
    if got is None:
        got = make()
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = got
    return got


def clear() -> None:
    _CACHE.clear()
