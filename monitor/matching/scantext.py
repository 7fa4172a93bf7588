"""The bytes the set scan reads, and the RE2 classes that let it read an item's raw text.

    item text ─UTF-8, ASCII flattened by a byte table─► raw scan bytes   (most items)
              ─flat_of, padded, UTF-8─────────────────► flat scan bytes  (the rest)

The raw bytes keep every non-ASCII character as it is. The patterns take the characters of
:data:`SCAN_SPACE_RANGES` for spaces and name each letter with the characters whose flat form
it is (:func:`changed_to`: ü as [üÜ]); one more pattern, :func:`raw_scan_unsafe`, finds any
other character the flat text would change, and such an item is scanned again from
:func:`scan_bytes`. Offsets never matter here: the scan only says which atoms occur.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from monitor.text import FLAT_RANGES, FLAT_TABLE, flat_of

__all__ = [
    "SCAN_SPACE_RANGES",
    "changed_to",
    "raw_scan_bytes",
    "raw_scan_unsafe",
    "re2_ranges",
    "scan_bytes",
]


def scan_bytes(text: str) -> bytes:
    """``" " + flat_of(text) + " "`` in UTF-8: what the matcher's set scan reads when
    :func:`raw_scan_bytes` cannot stand for the flat text (a lone surrogate is a "?")."""
    return f" {flat_of(text)} ".encode("utf-8", "replace")


# the non-ASCII characters the flat text turns into spaces that news text is full of: the
# Latin-1 signs (no-break space, «», ©, °, £, ·), General Punctuation up to U+203F (quotes,
# dashes, odd spaces, ellipsis, bullets, direction marks) and €. The matcher's patterns
# take each of them wherever they take a space: a few byte ranges in UTF-8 (C2 A0–BF,
# E2 80 xx, E2 82 AC), as every pattern holds them (each more costs compile time and memory).
SCAN_SPACE_RANGES = (
    (0xA0, 0xA9),
    (0xAB, 0xB1),
    (0xB4, 0xB4),
    (0xB6, 0xB8),
    (0xBB, 0xBB),
    (0xBF, 0xBF),
    (0x2000, 0x203F),
    (0x20AC, 0x20AC),
)
assert all(FLAT_TABLE.get(cp) == " " for lo, hi in SCAN_SPACE_RANGES for cp in range(lo, hi + 1))
# ASCII as in the flat table; every other byte (UTF-8 of the other characters) kept
_SCAN_ASCII = bytes(ord(FLAT_TABLE.get(b, chr(b))) if b < 128 else b for b in range(256))


def raw_scan_bytes(text: str) -> bytes | None:
    """The item as the set scan may read it without flattening it: ``" " + text + " "`` in
    UTF-8 with its ASCII flattened (lower case, non-word characters → spaces), or None when
    it cannot be encoded (lone surrogates).

    Every other character is left as it is. The matcher's patterns take the characters of
    :data:`SCAN_SPACE_RANGES` for spaces, and one more pattern finds the characters of
    :func:`raw_scan_unsafe` — those whose flat form differs from them in a way a pattern
    could see: an item with none of them reads the same to every pattern in both forms,
    an item with one is scanned again from :func:`scan_bytes`.
    """
    try:
        return f" {text} ".encode("utf-8").translate(_SCAN_ASCII)
    except UnicodeEncodeError:  # lone surrogates: the flat scan handles them
        return None


def re2_ranges(ranges: Iterable[tuple[int, int]]) -> str:
    """Code point ranges as the inside of an RE2 character class (``\\x{a0}-\\x{a9}``)."""
    return "".join(f"\\x{{{lo:x}}}" + (f"-\\x{{{hi:x}}}" if hi != lo else "") for lo, hi in ranges)


_CHUNK = 256


@functools.cache
def _changed_tables() -> tuple[tuple[int, ...], dict[str, tuple[int, ...]]]:
    """Computed once a process: the non-ASCII characters the flat text makes spaces, but for
    the scan's spaces; and for each flat character, the other characters whose flat form it
    is."""
    scan_spaces = {cp for lo, hi in SCAN_SPACE_RANGES for cp in range(lo, hi + 1)}
    spaces = sorted(
        cp for cp, v in FLAT_TABLE.items() if cp >= 128 and v == " " and cp not in scan_spaces
    )
    changed: dict[str, list[int]] = {}
    for cp, v in FLAT_TABLE.items():
        if cp >= 128 and v != " " and v != chr(cp):
            changed.setdefault(v, []).append(cp)
    # outside the table's ranges the flat text only lowers (and spaces are in the table)
    edge = 0x80
    for lo, hi in [*sorted(FLAT_RANGES), (0x110000, 0x110000)]:
        for start in range(edge, lo, _CHUNK):
            cps = range(start, min(start + _CHUNK, lo))
            if "".join(map(chr, cps)).lower() == "".join(map(chr, cps)):
                continue  # no capital in this block (most of them): nothing to look at
            for cp in cps:
                if cp in FLAT_TABLE or 0xD800 <= cp < 0xE000:
                    continue
                low = chr(cp).lower()[:1]
                if low != chr(cp):
                    changed.setdefault(low, []).append(cp)
        edge = max(edge, hi)
    return tuple(spaces), {k: tuple(v) for k, v in changed.items()}


def changed_to(ch: str) -> tuple[int, ...]:
    """The other characters whose flat form is ``ch`` (its capitals; ё and Ё for е)."""
    return _changed_tables()[1].get(ch, ())


@functools.cache
def raw_scan_unsafe() -> str:
    """An RE2 character class: the characters an item read by :func:`raw_scan_bytes` may
    hold that the matcher's patterns would read otherwise in the flat text — every non-ASCII
    character the flat text makes a space but for :data:`SCAN_SPACE_RANGES`, and the few
    whose flat form is an ASCII letter or digit (İ, the Kelvin sign). The patterns name
    every other letter with the characters :func:`changed_to` it (ü as [üÜ], е as [еЕёЁ])."""
    spaces, changed = _changed_tables()
    cps = set(spaces)
    for ch in "abcdefghijklmnopqrstuvwxyz0123456789":
        cps.update(changed.get(ch, ()))
    ranges: list[list[int]] = []
    for cp in sorted(cps):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return f"[{re2_ranges((lo, hi) for lo, hi in ranges)}]"
