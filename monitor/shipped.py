"""Where the shipped defaults are: the config, the rules and the seed briefs.

In an installed wheel they are package data (``monitor/_data/``, put there by setup.py);
in a source checkout they are the repository's own ``config.yaml``, ``rules/`` and ``seeds/``.
"""

from __future__ import annotations

from pathlib import Path

NAMES = ("config.yaml", "rules", "seeds")


def shipped(name: str) -> Path:
    """The shipped ``config.yaml``, ``rules`` or ``seeds``; FileNotFoundError if neither copy exists."""
    if name not in NAMES:
        raise ValueError(f"nothing shipped under {name!r}")
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data" / name, here.parent / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"the shipped {name} is missing from this installation")
