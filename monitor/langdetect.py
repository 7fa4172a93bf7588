"""Item language when the source does not say: py3langid, restricted to the languages a
news stream of this kind carries, and silent when it is not sure.

A rule limited to some languages (``language: [en, ru]``) skips an item only when the item
is known to be in another one. So the detector must rather say nothing than guess: below
:data:`MIN_PROBABILITY` (a six-word headline it cannot place) it returns ``None`` and the
rule runs. Russian text that quotes a Ukrainian name (Київ, Олександр) stays Russian; a
letter is evidence, not a verdict.

Chosen by measurement (``benchmarks/langdetect.py``: six-word headlines in 14 languages,
Russian with Ukrainian names, English quoting Russian, and the blind corpus's titles and
texts) over lingua-language-detector (its high-accuracy models take ~170–370 MB, its
low-accuracy mode misread a tenth of the English headlines) and the stop-word heuristic
used before (one Ukrainian letter made a Russian text Ukrainian). The model (~100 MB with
numpy) is loaded on first use: only when a rule with ``language:`` meets an item whose
source gave none.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

__all__ = ["detect_language", "normalise_language", "LANGUAGES", "MIN_PROBABILITY"]

# what the detector may answer: the stream's languages and their close neighbours (a
# Ukrainian or Bulgarian text must be able to be told from a Russian one)
LANGUAGES = (
    "en",
    "ru",
    "uk",
    "be",
    "bg",
    "sr",
    "mk",
    "kk",
    "de",
    "fr",
    "es",
    "it",
    "pt",
    "tr",
    "nl",
    "pl",
    "hy",
    "ka",
    "az",
    "fa",
    "ar",
    "zh",
)
MIN_PROBABILITY = 0.45
_SAMPLE = 3000
_MIN_LETTERS = 12
_LETTER = re.compile(r"[^\W\d_]")
_lock = threading.Lock()


def normalise_language(code: str | None) -> str | None:
    """``"en-US"`` → ``"en"``; ``"RU"`` → ``"ru"``; empty → None."""
    if not code:
        return None
    code = code.strip().lower().replace("_", "-").split("-", 1)[0]
    return code or None


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(LANGUAGES))
    return ident


def detect_language(text: str) -> str | None:
    """A two-letter code for ``text`` (one of :data:`LANGUAGES`), or None when the text is
    too short or the detector is not sure."""
    sample = text[:_SAMPLE]
    if len(_LETTER.findall(sample)) < _MIN_LETTERS:
        return None
    with _lock:  # the identifier keeps per-call arrays on itself
        lang, prob = _identifier().classify(sample)
    return str(lang) if prob >= MIN_PROBABILITY else None
