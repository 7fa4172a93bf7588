"""Item language when the source does not say: script first, then common words.

Small and predictable rather than clever: Cyrillic text is Russian unless it carries
letters only Ukrainian, Belarusian or Bulgarian/Serbian use; Latin text is the language
whose most common words (articles, prepositions, conjunctions) it uses most. Too little
text, or no clear winner, gives ``None`` — and a rule limited to some languages then
still runs (not knowing is not a reason to stay silent).
"""

from __future__ import annotations

import re

__all__ = ["detect_language", "normalise_language"]

_SAMPLE = 3000
_MIN_LETTERS = 12

_STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the and of to in is that for on with as was by at from it be are this have has "
        "had not but which were will would an its their they been after said",
        "de": "der die das und ist nicht mit von den dem des ein eine zu auf für sich im "
        "auch wird sind wurde bei nach aus",
        "fr": "le la les et des est un une du dans pour que qui sur pas par au aux avec ce "
        "sont été il elle",
        "es": "el la los las y de que en un una es por con para del al se su lo como más "
        "pero fue",
        "it": "il la di che è per un una del della con non sono gli le nel alla anche",
        "pt": "o a os as e de que em um uma para com não por do da dos das no na se",
        "tr": "ve bir bu da de için ile olarak olan daha çok gibi ama en ya",
        "nl": "de het een en van in is dat op te zijn met voor niet aan er ook",
    }.items()
}

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD = re.compile(r"[^\W\d_]+")


def normalise_language(code: str | None) -> str | None:
    """``"en-US"`` → ``"en"``; ``"RU"`` → ``"ru"``; empty → None."""
    if not code:
        return None
    code = code.strip().lower().replace("_", "-").split("-", 1)[0]
    return code or None


def detect_language(text: str) -> str | None:
    """A two-letter code for ``text`` (en, ru, uk, be, bg, sr, de, fr, es, it, pt, tr, nl) or None."""
    sample = text[:_SAMPLE]
    cyr = len(_CYRILLIC.findall(sample))
    lat = len(_LATIN.findall(sample))
    if cyr + lat < _MIN_LETTERS:
        return None
    if cyr > lat:
        low = sample.lower()
        if any(c in low for c in "ґєії"):
            return "uk" if "ў" not in low else "be"
        if "ў" in low:
            return "be"
        if any(c in low for c in "ђћџљњ"):
            return "sr"
        if "ъ" in low and "ы" not in low and "э" not in low:
            return "bg"
        return "ru"
    words = [w.lower() for w in _WORD.findall(sample)]
    if not words:
        return None
    counts = {lang: sum(1 for w in words if w in sw) for lang, sw in _STOPWORDS.items()}
    best = max(counts, key=counts.__getitem__)
    ranked = sorted(counts.values(), reverse=True)
    if ranked[0] == 0:
        return None
    # a clear winner: some share of the words, and ahead of the next language
    if ranked[0] >= max(2, 0.05 * len(words)) and ranked[0] >= 1.5 * ranked[1]:
        return best
    if len(words) < 8 and ranked[0] > ranked[1]:
        return best
    return None
