"""“Did you mean …?” for a misspelt key, name or id (difflib; imports nothing of ours)."""

from __future__ import annotations

import difflib
from typing import Iterable


def closest(word: str, choices: Iterable[str], n: int = 1) -> list[str]:
    """The choices that look most like ``word`` (case-insensitive), best first."""
    options = sorted({str(c) for c in choices})
    lowered = {c.lower(): c for c in options}
    found = difflib.get_close_matches(str(word).lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[f] for f in found]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'feed'?)"`` when one choice is close to ``word``, else ``""``."""
    found = closest(word, choices)
    return f" (did you mean {found[0]!r}?)" if found else ""


def one_of(choices: Iterable[str]) -> str:
    """``"feed, page or folder"``."""
    items = [str(c) for c in choices]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
