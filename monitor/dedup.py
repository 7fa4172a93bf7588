"""Near-duplicate detection: the same story syndicated by several outlets.

    text ──► words (lower-cased, Unicode) ──► 3-word shingles ──► 64-bit SimHash

``fingerprint(text)`` is a 64-bit SimHash over word 3-shingles (each shingle hashed with
BLAKE2b, so fingerprints are stable across processes and machines). Two texts are near
duplicates when their fingerprints differ in at most ``THRESHOLD`` bits (``similar``).

Threshold (measured on 991 real feed items and the seeds): syndicated copies of one story
of 200+ words (another headline, a byline, a "Read more" footer, a dropped paragraph)
differ by ≤ 8 bits; unrelated texts centre on 32 bits, and 4 of 490,000 unrelated pairs
came within 12 (episode notes of one podcast, written from one template). Short texts
vary more: for 30–80-word summaries given a new headline, byline and footer, two in three
stay within 12. ``THRESHOLD = 12`` favours never merging two different stories (a missed
alert) over catching every copy (a repeated alert). Comparing items of *different*
sources only, and fingerprinting the body rather than the headline, helps further.

Texts shorter than ``MIN_WORDS`` words carry too little to compare: their fingerprint is
0, and 0 is never similar to anything. Fingerprints are unsigned; ``similar`` also
accepts them as stored in SQLite (signed 64-bit), since it compares the low 64 bits.

Finding the earlier copies without comparing against every hit of the window:
``bands(fp)`` cuts the 64 bits into ``BANDS`` = 5 bands (13, 13, 13, 13 and 12 bits), one
key each, which the store indexes per hit. Two fingerprints within ``THRESHOLD`` = 12
differing bits differ in at most ``RADIUS`` = 2 bits of at least one band (by pigeonhole:
three or more in each of five bands would be 15). So ``probe_keys(fp)`` — every value
within 2 bits of each of fp's bands, 447 keys — finds every earlier copy through the
index; an unrelated fingerprint turns up as a candidate with a chance of about 6 %
(4 × 92 / 2^13 + 79 / 2^12), and ``earlier_copies`` confirms them by distance. (Exact-match bands
would need 13 bands of 5 bits, and then about 37 % of unrelated hits are candidates.)

    earlier_copies(fp, matches, candidates) ──► {rule: the oldest similar hit}
    fold(source, matches, earlier) ──► Fold(new matches, folded into earlier hits, story)
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from functools import cache

from monitor.models import RuleMatch, StoryCandidate, StoryHit

BITS = 64
THRESHOLD = 12
MIN_WORDS = 8
SHINGLE = 3
_MASK = (1 << BITS) - 1
_WORD = re.compile(r"\w+", re.UNICODE)
# one translate table per bit: byte → 1 when that bit is set, else 0 (C-speed bit counting)
_BIT_TABLES = [bytes((b >> bit) & 1 for b in range(256)) for bit in range(8)]


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def fingerprint(text: str) -> int:
    """64-bit SimHash of ``text`` over word 3-shingles; 0 for texts under MIN_WORDS words."""
    tokens = words(text)
    if len(tokens) < MIN_WORDS:
        return 0
    shingles = [" ".join(tokens[i : i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)]
    digest = b"".join(
        hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        for s in shingles
    )
    half = len(shingles) / 2
    result = 0
    for byte_index in range(8):
        column = digest[byte_index::8]  # that byte of every shingle hash
        for bit in range(8):
            if column.translate(_BIT_TABLES[bit]).count(1) > half:
                result |= 1 << (byte_index * 8 + bit)
    return result


def distance(a: int, b: int) -> int:
    """Number of differing bits between two fingerprints."""
    return ((a ^ b) & _MASK).bit_count()


def similar(a: int | None, b: int | None, threshold: int = THRESHOLD) -> bool:
    """True when two fingerprints are near duplicates (≤ ``threshold`` differing bits)."""
    if not a or not b or not (a & _MASK) or not (b & _MASK):
        return False
    return distance(a, b) <= threshold


BANDS = 5
RADIUS = THRESHOLD // BANDS
_WIDTHS = [BITS // BANDS + (1 if i < BITS % BANDS else 0) for i in range(BANDS)]
_KEY_SHIFT = 16  # a key is the band number above the band's value


def _band_values(fp: int) -> list[int]:
    values: list[int] = []
    shift = 0
    for width in _WIDTHS:
        values.append((fp >> shift) & ((1 << width) - 1))
        shift += width
    return values


@cache
def _flips(width: int, radius: int) -> tuple[int, ...]:
    """Every mask of at most ``radius`` set bits among ``width``."""
    return tuple(
        sum(1 << b for b in bits)
        for r in range(radius + 1)
        for bits in itertools.combinations(range(width), r)
    )


def bands(fp: int | None) -> tuple[int, ...]:
    """The band keys of a fingerprint, as stored for a hit; empty for a fingerprint that
    is never similar to anything (0 or None)."""
    if not fp or not (fp & _MASK):
        return ()
    return tuple((n << _KEY_SHIFT) | v for n, v in enumerate(_band_values(fp & _MASK)))


def probe_keys(fp: int | None) -> tuple[int, ...]:
    """The band keys any fingerprint within THRESHOLD bits of ``fp`` has at least one of."""
    if not fp or not (fp & _MASK):
        return ()
    return tuple(
        (n << _KEY_SHIFT) | (v ^ flip)
        for n, (v, width) in enumerate(zip(_band_values(fp & _MASK), _WIDTHS))
        for flip in _flips(width, RADIUS)
    )


@dataclass(frozen=True)
class Folded:
    """A match that is another copy of an earlier hit's story; ``also_in`` is that hit's list
    with this source added, or None when it already names it (nothing to write)."""

    earlier: StoryHit
    also_in: tuple[str, ...] | None


@dataclass(frozen=True)
class Fold:
    new: tuple[RuleMatch, ...]  # matches that become hits
    folded: tuple[Folded, ...]  # matches that fold into an earlier hit of the same story
    story_id: int | None  # the story the item belongs to (None: its own)


def earlier_copies(
    fp: int | None,
    matches: list[RuleMatch],
    candidates: list[StoryCandidate],
    threshold: int = THRESHOLD,
) -> dict[str, int]:
    """For each matched rule, the oldest candidate hit within ``threshold`` bits of ``fp``."""
    found: dict[str, int] = {}
    rules = {m.rule_id for m in matches}
    for c in sorted(candidates, key=lambda c: c.hit_id):
        if c.rule_id in rules and c.rule_id not in found and similar(fp, c.fingerprint, threshold):
            found[c.rule_id] = c.hit_id
    return found


def fold(source: str, matches: list[RuleMatch], earlier_hits: dict[str, StoryHit]) -> Fold:
    """Which matches of a new item are copies of a story an earlier hit of the same rule
    already carries (``earlier_hits``, by rule, from ``earlier_copies``). Pure."""
    new: list[RuleMatch] = []
    folded: list[Folded] = []
    story: int | None = None
    for m in matches:
        earlier = earlier_hits.get(m.rule_id)
        if earlier is None:
            new.append(m)
            continue
        story = earlier.story_id or earlier.item_id
        also = None
        if source != earlier.source and source not in earlier.also_in:
            also = (*earlier.also_in, source)
        folded.append(Folded(earlier, also))
    return Fold(tuple(new), tuple(folded), story)
