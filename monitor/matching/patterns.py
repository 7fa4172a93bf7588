"""RE2 patterns of the set scan: one per atom, read over ``" " + flat + " "`` in UTF-8.

    needle  " stem" (a token start), " token " (a whole token), or a regex's literal
    atom    a tuple of needles, one of which the text must contain; or a phrase atom
            (PHRASE, (kind, needles)): the first word of the phrases that begin with it,
            each phrase's further words read on the next tokens
    learned the rests of tokens a stem atom finds that have other stems: the needle is then
            followed by anything but those rests (:func:`other_than`)

Every token of the padded flat text has a space on each side, so the spaces mark token
edges exactly, for every script (RE2's ``\\b`` is ASCII-only), and a set of plain literals
scans faster than one with ``\\b`` assertions. The raw scan reads non-ASCII characters
unflattened, so a space here is any character of :data:`SCAN_SPACE_RANGES` too, and a
letter its capitals (:func:`~monitor.matching.scantext.changed_to`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import re2

from monitor.matching.scantext import SCAN_SPACE_RANGES, changed_to, re2_ranges

__all__ = ["PHRASE", "SENTINEL", "Atom", "PhraseRest", "atom_pattern"]

# the marker of a phrase atom: (PHRASE, (kind, needles of its first word))
PHRASE = "\x00phrase"
# the atom every text has (pattern 0): an empty answer from the set means the scan failed
SENTINEL: tuple[str, ...] = ("",)

Atom = tuple[Any, ...]
# a phrase's words after its first: per word (kind, needles)
PhraseRest = tuple[tuple[str, tuple[str, ...]], ...]

# a space of the flat text, as the patterns take it: a space, or a character the raw scan
# leaves that the flat text makes a space
SPACE_CHARS = " " + re2_ranges(SCAN_SPACE_RANGES)
SPACE = f"[{SPACE_CHARS}]"

_CHAR_MEMBERS: dict[str, str] = {}


def _members(ch: str) -> str:
    """One character of a needle as members of an RE2 class: itself, and outside ASCII the
    characters whose flat form it is (the raw scan reads them unflattened: ü and Ü)."""
    got = _CHAR_MEMBERS.get(ch)
    if got is None:
        others = () if ch.isascii() else changed_to(ch)
        got = _CHAR_MEMBERS[ch] = re2.escape(ch) + re2_ranges((cp, cp) for cp in others)
    return got


def _char(ch: str) -> str:
    """One character of a needle as a pattern: ``ü`` as ``[üÜ]``, ``е`` as ``[еЕёЁ]``."""
    m = _members(ch)
    return m if ch.isascii() or m == re2.escape(ch) else f"[{m}]"


def needle_pattern(needle: str) -> str:
    """The RE2 pattern of one needle: the needle itself, each space taken as :data:`SPACE`."""
    return "".join([SPACE if ch == " " else _char(ch) for ch in needle])


def other_than(residues: Iterable[str]) -> str:
    """The rest of a token (after a needle) that is none of ``residues``: a pattern for
    ``" " + needle`` to be followed by, matching every other continuation.

    Built on the trie of the residues: at each node, the token may end there (a space)
    unless that node is a residue, or go on with a character that leaves the trie (then no
    residue can follow), or with one of the node's children.
    """
    trie: dict[str, Any] = {}
    for r in residues:
        node = trie
        for ch in r:
            node = node.setdefault(ch, {})
        node[""] = None

    def walk(node: dict[str, Any]) -> str:
        kids = sorted(k for k in node if k)
        alts = [] if "" in node else [SPACE]
        alts.append(f"[^{SPACE_CHARS}" + "".join(map(_members, kids)) + "]")
        alts += [_char(k) + walk(node[k]) for k in kids]
        return "(?:" + "|".join(alts) + ")"

    return walk(trie)


def phrase_pattern(first: tuple[str, tuple[str, ...]], rests: Iterable[PhraseRest]) -> str:
    """Consecutive tokens: the first word's needle at a token start, the rest of that token
    (for a stem or prefix word), one or more spaces, then the next words of any phrase that
    begins with this word, each the same way. Phrases are grouped by their first word: the
    scan's automaton then carries one thread per first word from one token to the next,
    not one per phrase, and needs far fewer states on dense text."""

    def part(kind: str, needles: tuple[str, ...], last: bool) -> str:
        body = "|".join(needle_pattern(n.strip(" ")) for n in needles)
        tail = (SPACE if last else "") if kind == "t" else ("" if last else f"[^{SPACE_CHARS}]*")
        return f"(?:{body}){tail}"

    alts = [
        f"{SPACE}+".join(part(k, n, i == len(rest) - 1) for i, (k, n) in enumerate(rest))
        for rest in sorted(rests)
    ]
    return SPACE + part(*first, last=False) + f"{SPACE}+(?:" + "|".join(alts) + ")"


def atom_pattern(
    atom: Atom,
    excluded: Mapping[str, frozenset[str]] | None = None,
    rests: Iterable[PhraseRest] | None = None,
) -> str:
    """The pattern of one atom; ``excluded``: per needle, the learned rests to skip;
    ``rests``: for a phrase atom, the further words of its phrases."""
    if atom == SENTINEL:
        return r"\A"  # matches every text (and, unlike "", costs nothing)
    if atom[0] == PHRASE:
        return phrase_pattern(atom[1], rests or ())
    pats = [
        needle_pattern(n) + (other_than(excluded[n]) if excluded and excluded.get(n) else "")
        for n in atom
    ]
    return pats[0] if len(pats) == 1 else "(?:" + "|".join(pats) + ")"
