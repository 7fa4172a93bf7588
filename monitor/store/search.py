"""Search as people type it, read once into a ``SearchQuery`` (AND of OR-groups of terms,
plus terms to leave out), then written as a safe SQLite FTS5 query (``fts_query``) or, by
the PostgreSQL dialect, as a ``tsquery``. The one reading: the CLI's ``--search`` and the
review page's search box both reach it through ``HitFilter``.

    Armenia Baku            both words (each also as a prefix: Armen → Armenia, Armenian)
    Armenia OR Baku         either word (OR in capitals; it binds two neighbours)
    "exact phrase"          the words together, in this order
    -stock  NOT stock       without this word (or -"a phrase")

Nothing a person types reaches FTS5 unquoted (or a tsquery other than as quoted words), so
no input is a syntax error. A quote
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
class Term:
    """One thing to look for: a word (also as a prefix) or, ``phrase``, words in this order."""

    text: str
    phrase: bool = False


@dataclass(frozen=True)
class SearchQuery:
    """``groups``: every group must match, a group by any of its terms; ``excluded``: no
    term may match. Both empty: no condition."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...]


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


def _fts_term(t: Term) -> str:
    return _quote(t.text) if t.phrase else _quote(t.text.rstrip("*")) + "*"


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


def parse_search(text: str) -> SearchQuery:
    """Read a person's search (see the module docstring); raises SearchError."""
    tokens = _tokens(text or "")
    groups: list[list[Term]] = []  # AND of ORs
    excluded: list[Term] = []
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
        term = Term(tok.text, tok.phrase)
        if tok.negated or negate_next:
            if joining:
                raise SearchError(
                    "OR joins two words to look for; leave a word out with -word instead"
                )
            excluded.append(term)
            negate_next = False
            continue
        if joining:
            groups[-1].append(term)
            joining = False
        else:
            groups.append([term])
    if joining:
        raise SearchError("OR needs a word on each side, as in: Armenia OR Baku")
    if negate_next:
        raise SearchError("NOT must be followed by the word to leave out, as in: NOT stock")
    return SearchQuery(tuple(tuple(g) for g in groups), tuple(excluded))


def fts_query(text: str) -> FtsQuery:
    """A person's search as FTS5 queries (see the module docstring); raises SearchError."""
    q = parse_search(text)
    match = (
        " AND ".join(
            _fts_term(g[0]) if len(g) == 1 else "(" + " OR ".join(map(_fts_term, g)) + ")"
            for g in q.groups
        )
        or None
    )
    return FtsQuery(match=match, exclude=" OR ".join(map(_fts_term, q.excluded)) or None)


def check_search(text: str) -> str:
    """The search as given, once it is known to translate (for input validation)."""
    parse_search(text)
    return text
