"""Search as people type it, turned into safe SQLite FTS5 queries. The one translation: the
CLI's ``--search`` and the review page's search box both reach it through ``HitFilter``.

    Armenia Baku            both words (each also as a prefix: Armen → Armenia, Armenian)
    Armenia OR Baku         either word (OR in capitals; it binds two neighbours)
    "exact phrase"          the words together, in this order
    -stock  NOT stock       without this word (or -"a phrase")

Nothing a person types reaches FTS5 unquoted, so no input is an FTS5 syntax error. A quote
left open runs to the end of the query; a query that cannot be read (OR with nothing on one
side, a NOT with nothing after it, OR next to an exclusion) raises SearchError saying what
to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORDISH = re.compile(r"\w")


class SearchError(ValueError):
    """A search that cannot be read; the message says how to write it."""


@dataclass(frozen=True)
class FtsQuery:
    """``match``: FTS5 query every hit's item must match (None: no condition);
    ``exclude``: FTS5 query no hit's item may match (None: nothing excluded)."""

    match: str | None
    exclude: str | None


@dataclass(frozen=True)
class _Token:
    kind: str  # term | or | not
    text: str = ""
    phrase: bool = False
    negated: bool = False


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _term(tok: _Token) -> str:
    return _quote(tok.text) if tok.phrase else _quote(tok.text.rstrip("*")) + "*"


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        negated = False
        if c == "-" and i + 1 < n and not text[i + 1].isspace():
            negated, i = True, i + 1
            c = text[i]
        if c == '"':
            end = text.find('"', i + 1)
            if end < 0:
                end = n  # a quote left open runs to the end, as in a search box being typed into
            phrase = " ".join(text[i + 1 : end].split())
            i = end + 1
            if _WORDISH.search(phrase):
                out.append(_Token("term", phrase, phrase=True, negated=negated))
            elif negated or phrase:
                pass  # a quoted run of punctuation matches no word: nothing to search for
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != '"':
            j += 1
        word = text[i:j]
        i = j
        if not negated and word == "OR":
            out.append(_Token("or"))
        elif not negated and word == "NOT":
            out.append(_Token("not"))
        elif not negated and word == "AND":
            continue  # words are joined by AND anyway
        elif _WORDISH.search(word):
            out.append(_Token("term", word, negated=negated))
        elif negated:
            raise SearchError("a - must be followed by the word to leave out, as in -stock")
    return out


def fts_query(text: str) -> FtsQuery:
    """Translate a person's search into FTS5 (see the module docstring); raises SearchError."""
    tokens = _tokens(text or "")
    groups: list[list[str]] = []  # AND of ORs
    excluded: list[str] = []
    negate_next = False
    joining = False  # the previous token was OR
    for tok in tokens:
        if tok.kind == "or":
            if not groups or joining or negate_next:
                raise SearchError("OR needs a word on each side, as in: Armenia OR Baku")
            joining = True
            continue
        if tok.kind == "not":
            if joining:
                raise SearchError(
                    "OR joins two words to look for; leave a word out with -word instead"
                )
            negate_next = True
            continue
        if tok.negated or negate_next:
            if joining:
                raise SearchError(
                    "OR joins two words to look for; leave a word out with -word instead"
                )
            excluded.append(_term(tok))
            negate_next = False
            continue
        if joining:
            groups[-1].append(_term(tok))
            joining = False
        else:
            groups.append([_term(tok)])
    if joining:
        raise SearchError("OR needs a word on each side, as in: Armenia OR Baku")
    if negate_next:
        raise SearchError("NOT must be followed by the word to leave out, as in: NOT stock")
    match = (
        " AND ".join(g[0] if len(g) == 1 else "(" + " OR ".join(g) + ")" for g in groups) or None
    )
    return FtsQuery(match=match, exclude=" OR ".join(excluded) or None)


def check_search(text: str) -> str:
    """The search as given, once it is known to translate (for input validation)."""
    fts_query(text)
    return text
