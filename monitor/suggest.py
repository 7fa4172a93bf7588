"""“Did you mean …?” for a misspelt key, name or id (difflib; imports nothing of ours)."""

from __future__ import annotations

import difflib
from typing import Iterable


def closest(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The choices that look most like ``word`` (case-insensitive): the best one, and any
    other as close as it (``tass`` → ``tass-en``, ``tass-ru``); at most ``n``."""
    options = sorted({str(c) for c in choices})
    lowered = {c.lower(): c for c in options}
    target = str(word).lower()
    found = difflib.get_close_matches(target, list(lowered), n=n, cutoff=0.6)
    if not found:
        return []
    best = difflib.SequenceMatcher(None, target, found[0]).ratio()
    return sorted(
        lowered[f] for f in found if difflib.SequenceMatcher(None, target, f).ratio() >= best - 1e-9
    )


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'feed'?)"`` when a choice is close to ``word``, else ``""``."""
    found = closest(word, choices)
    if not found:
        return ""
    return " (did you mean " + one_of([repr(f) for f in found]) + "?)"


def one_of(choices: Iterable[str]) -> str:
    """``"feed, page or folder"``."""
    items = [str(c) for c in choices]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
