"""One item's text in the forms the evaluation needs, each computed at most once.

text     the document (title, blank line, text)
padded   " " + flat + " ": offset i in it is offset i - 1 in the document
folded   for case-insensitive regexes; cased: folded, capitals kept
sentence starts, language (given, else detected): on first use
"""

from __future__ import annotations

from typing import Any

from monitor import text as textmod
from monitor.langdetect import detect_language, normalise_language

__all__ = ["Document", "Evidence", "Span"]

# an occurrence: (start, end) character offsets in the document
Span = tuple[int, int]
# evidence: (term label, span) pairs; None means "did not match"
Evidence = list[tuple[str, Span]]

_UNKNOWN: Any = object()


class Document:
    """Per-item state of one ``match`` call; ``atoms`` are the atoms the set scan found
    (None: not known, every leaf is looked for)."""

    __slots__ = (
        "_cased",
        "_folded",
        "_language",
        "_sentences",
        "atoms",
        "evals",
        "finds",
        "given_language",
        "held",
        "occurrences",
        "padded",
        "text",
        "title_end",
    )

    def __init__(
        self, text: str, padded: str, title_end: int, language: str | None, atoms: set[int] | None
    ):
        self.atoms = atoms
        self.text = text
        self.padded = padded
        self.title_end = title_end
        self.given_language = language
        self._folded: str | None = None
        self._cased: str | None = None
        self._sentences: list[int] | None = None
        self._language: str | None = _UNKNOWN
        self.occurrences: dict[int, list[Span]] = {}  # leaf id → its spans
        self.evals: dict[int, Evidence | None] = {}  # operator results, kept for the hits
        self.held: dict[int, bool] = {}  # shared operators: whether each holds
        self.finds: dict[int, list[Span]] = {}  # a word's places, by its key (see leaves)

    @property
    def folded(self) -> str:
        if self._folded is None:
            self._folded = textmod.fold(self.text)
        return self._folded

    @property
    def cased(self) -> str:
        if self._cased is None:
            self._cased = textmod.fold_case_kept(self.text)
        return self._cased

    @property
    def sentence_starts(self) -> list[int]:
        if self._sentences is None:
            self._sentences = [s for s, _ in textmod.sentences(self.text)] or [0]
        return self._sentences

    @property
    def language(self) -> str | None:
        if self._language is _UNKNOWN:
            self._language = normalise_language(self.given_language) or detect_language(self.text)
        return self._language

    def words_between(self, a: int, b: int) -> int:
        """How many tokens lie between document offsets ``a`` and ``b``."""
        return len(self.padded[a + 1 : b + 1].split()) if b > a else 0

    def words_within(self, a: int, b: int, n: int) -> bool:
        """Whether at most ``n`` tokens lie between offsets ``a`` and ``b`` (``words_between``
        ≤ n, counting no further than n + 1 tokens)."""
        if b <= a or b - a <= 2 * n:  # a token and its space take two characters at least
            return True
        return len(self.padded[a + 1 : b + 1].split(None, n)) <= n
