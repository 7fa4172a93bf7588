"""Text as the matcher sees it: folded, flattened, tokenised, stemmed, cut into sentences.

Snippets and highlighting are in ``monitor.snippets``.

Every transformation here keeps the length of the text, so an offset into the folded or
flat text is an offset into the original document:

    document ──lower()+translate(FOLD)──► folded   (ё→е, ’→', “→", dashes→-, NBSP→space)
             ──translate(FLAT)──────────► flat     (every non-word character → a space)
    flat.split() ─► tokens ─► stem(token) ─► stems (Snowball; Cyrillic → Russian, else English)

A token is a run of letters, digits and combining marks; apostrophes, hyphens and dashes
separate tokens, on both sides (rules and text alike), so "Azerbaijan’s" is the tokens
``azerbaijan s`` and "Russia–Armenia" is ``russia armenia``.
"""

from __future__ import annotations

import os.path
import re
import sys
import unicodedata

import Stemmer

# -- folding ----------------------------------------------------------------------------

_QUOTES_SINGLE = "\u2018\u2019\u201a\u201b\u2032\u02bc\u02b9\u0060\u00b4"
_QUOTES_DOUBLE = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u2039\u203a"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u2e3a\u2e3b"
_SPACES = (
    "\u00a0\u2007\u202f\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u3000\u205f"
)

FOLD_CHARS: dict[int, str] = {}
for _c in _QUOTES_SINGLE:
    FOLD_CHARS[ord(_c)] = "'"
for _c in _QUOTES_DOUBLE:
    FOLD_CHARS[ord(_c)] = '"'
for _c in _DASHES:
    FOLD_CHARS[ord(_c)] = "-"
for _c in _SPACES:
    FOLD_CHARS[ord(_c)] = " "
FOLD_CHARS[ord("ё")] = "е"
FOLD_CHARS[ord("Ё")] = "Е"

# the code points the flat table covers: Latin, Greek, Cyrillic, Armenian, Georgian,
# general punctuation and symbols, CJK punctuation, full-width forms, emoji
FLAT_RANGES = (
    (0x0000, 0x0800),
    (0x10A0, 0x1100),
    (0x1E00, 0x3040),
    (0xFE00, 0xFFF0),
    (0x1F000, 0x1FB00),
)


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNM"


def _flat_table(lower: bool) -> dict[int, str]:
    table: dict[int, str] = {}
    for lo, hi in FLAT_RANGES:
        for cp in range(lo, hi):
            ch = chr(cp)
            folded = FOLD_CHARS.get(cp, ch)
            if lower and len(folded.lower()) == 1:
                folded = folded.lower()
                folded = FOLD_CHARS.get(ord(folded), folded)
            elif lower and folded.lower() != folded:
                folded = folded.lower()[0]  # İ → i
            if not _is_word_char(folded):
                table[cp] = " "
            elif folded != ch:
                table[cp] = folded
    # emoji presentation selectors and the keycap mark are marks (category M) but belong to
    # the emoji before them, never to a word: "⚡️Затулин" is the word Затулин
    for cp in (*range(0xFE00, 0xFE10), 0x20E3):
        table[cp] = " "
    # every whitespace character must become a plain space (tokens split on ' ' only)
    for cp in range(0x3100):  # U+3000 is the last space character
        if chr(cp).isspace():
            table[cp] = " "
    return table


# flat: folded, lower-cased (for the scripts covered), non-word characters → spaces
FLAT_TABLE: dict[int, str] = _flat_table(lower=True)
# the same, capitals kept (case-sensitive terms)
FLAT_CASED_TABLE: dict[int, str] = _flat_table(lower=False)
_FOLD_TABLE: dict[int, str] = dict(FOLD_CHARS)
_TOKEN_RE = re.compile(r"[^ ]+")


def lower_same_length(text: str) -> str:
    """``text.lower()``, one character for each (offsets stay offsets into ``text``)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    # a few characters (İ) grow when lowered: lower them one by one, keeping one character
    return "".join(c.lower()[:1] if len(c.lower()) != 1 else c.lower() for c in text)


# the flat table for bytes 0–127; the encoder's placeholder "?" for any other character
# becomes a space, overwritten below by that character's own flat form
_FLAT_ASCII = bytes(ord(FLAT_TABLE.get(b, chr(b))) if b < 128 else 32 for b in range(256))
# the same table with every other code point of its ranges mapped to itself: translate()
# then never looks up a missing key (a KeyError raised and cleared per character)
_FLAT_TOTAL: dict[int, str] = {cp: chr(cp) for lo, hi in FLAT_RANGES for cp in range(lo, hi)}
_FLAT_TOTAL.update(FLAT_TABLE)  # (it also maps spaces outside those ranges)
_RUN_CACHE: dict[str, str] = {}
_RUN_CACHE_MAX = 100_000


def _flat_slow(text: str) -> str:
    flat = text.translate(_FLAT_TOTAL)
    return flat if flat.isascii() else lower_same_length(flat)


def flat_of(text: str) -> str:
    """The flat text: the table lowers and folds; lower() only for what is left outside the
    scripts it covers (never needed for ASCII text).

    ``str.translate`` is fast only on an all-ASCII string; on any other it looks every
    character up in the table, one at a time.
    Most news text is ASCII with a few other characters, so: the text encoded to ASCII with
    a ``?`` for each other character (same length), through a byte table, and each run of
    other characters translated on its own (cached) and put in its place. A character's flat
    form depends on that character alone, so this is exactly ``_flat_slow``. Text mostly in
    another script (Russian) goes through the table in one call.
    """
    if text.isascii():
        return text.translate(FLAT_TABLE)
    asc = text.encode("ascii", "replace")
    if asc.count(b"?") * 8 > len(text):
        return _flat_slow(text)
    flat = asc.translate(_FLAT_ASCII).decode("ascii")
    out: list[str] = []
    prev = 0
    n = len(text)
    find = asc.find
    cache = _RUN_CACHE
    i = find(b"?")
    while i >= 0:
        if text[i] == "?":  # a question mark of the text
            i = find(b"?", i + 1)
            continue
        j = i + 1
        while j < n and asc[j] == 63 and text[j] != "?":
            j += 1
        run = text[i:j]
        got = cache.get(run)
        if got is None:
            got = _flat_slow(run)
            if len(cache) >= _RUN_CACHE_MAX:
                cache.clear()
            cache[run] = got
        out.append(flat[prev:i])
        out.append(got)
        prev = j
        i = find(b"?", j)
    out.append(flat[prev:])
    return "".join(out)


# the fold table with every other code point of the flat ranges mapped to itself (as
# _FLAT_TOTAL): translate() on text outside ASCII then finds every key it looks up
_FOLD_TOTAL: dict[int, str] = {cp: chr(cp) for lo, hi in FLAT_RANGES for cp in range(lo, hi)}
_FOLD_TOTAL.update(_FOLD_TABLE)


def _fold_chars(text: str) -> str:
    return text.translate(_FOLD_TABLE if text.isascii() else _FOLD_TOTAL)


def fold(text: str) -> str:
    """Lower-case, ё→е, curly quotes → straight, dashes → '-', odd spaces → ' ' (same length)."""
    return _fold_chars(lower_same_length(text))


def fold_case_kept(text: str) -> str:
    """Like :func:`fold` without lowering (for case-sensitive regexes)."""
    return _fold_chars(text)


# -- tokens: runs of characters between the spaces of the flat text -------------------------


def words(text: str) -> list[str]:
    """The normalised tokens of a text (no offsets)."""
    return flat_of(text).split()


def cased_words(text: str) -> list[str]:
    """The tokens of a text with their capitals kept (case-sensitive terms)."""
    return text.translate(FLAT_CASED_TABLE).split()


def tokenize(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, token)`` for every token; offsets index into ``text``."""
    return [(m.start(), m.end(), m.group()) for m in _TOKEN_RE.finditer(flat_of(text))]


# -- stemming ---------------------------------------------------------------------------

_EN = Stemmer.Stemmer("english")
_RU = Stemmer.Stemmer("russian")
_STEM_CACHE: dict[str, str] = {}
_STEM_CACHE_MAX = 400_000


def is_cyrillic(token: str) -> bool:
    return bool(token) and "\u0400" <= token[0] <= "\u04ff"


def language_of_script(token: str) -> str:
    """The stemmer language a token gets: its script decides (Cyrillic → ru, else en)."""
    return "ru" if is_cyrillic(token) else "en"


def stem(token: str) -> str:
    """Snowball stem of one normalised token, chosen by script; cached. A token with a lone
    surrogate (a JSON feed may hold one) is its own stem: the stemmer cannot encode it."""
    s = _STEM_CACHE.get(token)
    if s is None:
        try:
            s = (_RU if is_cyrillic(token) else _EN).stemWord(token)
        except UnicodeEncodeError:
            s = token
        s = sys.intern(s)
        if len(_STEM_CACHE) >= _STEM_CACHE_MAX:
            _STEM_CACHE.clear()
        _STEM_CACHE[token] = s
    return s


_RU_HARD_ENDINGS = ("а", "у", "ом", "е", "ы", "ов", "ами", "ах")
_RU_SOFT_ENDINGS = ("я", "ю", "ем", "е", "и", "ей")


def term_stems(word: str) -> tuple[str, ...]:
    """The stems a rule word accepts: its own, and for a Russian noun-like word ending in a
    consonant or ь, the stems of its case forms too.

    Snowball Russian cuts a final ``н`` after ``а``/``я`` as if it were a verb ending, so
    Азербайджан → азербайджа but Азербайджаном → азербайджан; обмен → обм but обмена →
    обмен. Accepting the stems of the case forms makes one written form match them all.
    """
    own = stem(word)
    if not is_cyrillic(word) or len(word) < 3:
        return (own,)
    last = word[-1]
    if last == "ь":
        forms = [word[:-1] + e for e in _RU_SOFT_ENDINGS]
    elif last not in "аеиоуыэюяй":
        forms = [word + e for e in _RU_HARD_ENDINGS]
    else:
        return (own,)
    others = sorted({stem(f) for f in forms} - {own})
    return (own, *others)


# Porter2 exceptions whose stem is not a prefix of the word
_EN_EXCEPTIONS = {"die": "dying", "lie": "lying", "tie": "tying", "sky": "skies"}


def stem_needles(s: str) -> tuple[str, ...]:
    """Prefixes such that every word with stem ``s`` starts with one of them.

    Snowball Russian only removes endings, so the stem itself. Snowball English may add a
    final ``e`` (hoping → hope), turn ``y`` into ``i`` (happy → happi) or ``bility`` into
    ``bl`` (possibility → possibl); the other forms start with the stem. Checked on
    ~580,000 English and ~99,000 Russian word forms.
    """
    if not s or is_cyrillic(s):
        return (s,)
    exc = _EN_EXCEPTIONS.get(s)
    if exc:
        return (os.path.commonprefix([s, exc]),)
    if s.endswith("e"):
        return (s, s[:-1] + "ing", s[:-1] + "ed")
    if s.endswith("i"):
        return (s, s[:-1] + "y")
    if s.endswith("bl"):
        return (s, s[:-1] + "il")
    return (s,)


# -- sentences --------------------------------------------------------------------------

_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st gen col lt sgt gov sen rep jr sr inc ltd co corp vs etc no nos
    fig approx dept est jan feb mar apr jun jul aug sep sept oct nov dec mt ft
    гг им ул см стр тыс млн млрд руб коп др пр проф акад""".split()
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"'»”)\]]*(?=\s)|\n\s*")


def sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the sentences of ``text``.

    A sentence ends at ``.``, ``!``, ``?`` or ``…`` followed by a space, unless the word
    before is a known abbreviation or an initial ("U.S.", "Mr.", "J."), or next comes a
    lower-case word; a line break always ends one.
    """
    out: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    for m in _SENTENCE_END.finditer(text):
        end = m.end()
        if m.group()[0] not in "\n\r \t":
            before = text[start : m.start()].rsplit(None, 1)
            last = before[-1].lower().rstrip(".") if before else ""
            last = last.rsplit(".", 1)[-1] if "." in last else last
            if m.group()[0] == "." and (
                last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())
            ):
                continue
            nxt = text[end : end + 3].lstrip()
            if nxt and nxt[0].islower():
                continue
        seg = text[start:end]
        if seg.strip():
            lead = len(seg) - len(seg.lstrip())
            out.append((start + lead, start + len(seg.rstrip())))
        start = end
    if start < n and text[start:].strip():
        seg = text[start:]
        lead = len(seg) - len(seg.lstrip())
        out.append((start + lead, start + len(seg.rstrip())))
    return out
