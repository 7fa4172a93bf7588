"""The few pieces of SQL that differ between SQLite and PostgreSQL, one object per dialect.

The query modules write one SQL text for both, with ``?`` placeholders, standard SQL
(``ON CONFLICT``, ``COUNT(*) FILTER (WHERE …)``, window functions, row values) and ISO time
text as parameters; the PostgreSQL connection turns ``?`` into its own placeholders. What
cannot be written once comes from here:

    one of many values          col IN (?, ?, …)                col = ANY(?)  (one array)
    JSON of a subquery          json_group_array(…)             json_agg(…)
    a JSON array's elements     json_each(col) j                jsonb_array_elements_text(col) j(value)
    full-text search            items_fts MATCH (FTS5)          items.search @@ tsquery (russian, english)
    pruning old band rows       DELETE                          DELETE of the rows nobody holds (SKIP LOCKED)
    one story, one hit          the write lock (BEGIN IMMEDIATE) pg_advisory_xact_lock per rule
    a claim (sources, outbox)   the write lock                  FOR UPDATE SKIP LOCKED
    read, then rewrite a row    the write lock                  FOR UPDATE
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Sequence

from monitor.store.search import SearchQuery, Term, fts_query, parse_search

_WORD = re.compile(r"\w+")
RULE_LOCK_CLASS = 0x6D6E  # the first key of the per-rule advisory locks ("mn")


class Dialect:
    name = ""
    # the rules of every hit on the hit's item, as JSON [[rule_id, title, severity], …]
    item_rules = ""

    def json_list(self, expr: str) -> str:
        """A JSON array of ``expr`` over the rows of a subquery."""
        raise NotImplementedError

    def json_elements(self, column: str, alias: str) -> str:
        """A FROM item with one row (``alias.value``) per element of a JSON array column."""
        raise NotImplementedError

    def search(self, text: str) -> tuple[list[str], list[Any]]:
        """WHERE conditions (on ``hits h JOIN items i``) for a person's search, and their
        parameters; raises SearchError for a search that cannot be read."""
        raise NotImplementedError

    prune_bands = "DELETE FROM story_bands WHERE created_at < ?"
    # appended to the SELECT of a claim (due sources, due deliveries): where the database
    # locks rows, a claim passes over the rows another daemon is claiming at that moment
    claim_lock = ""
    # appended to a SELECT whose row the transaction then rewrites from what it read (a
    # summary's list of hits): the other writer is waited for
    row_lock = ""

    def after_copy(self, table: str) -> str | None:
        """A statement to run after rows with their own ids were copied into ``table``
        (``monitor db copy``): the next id given out comes after them."""
        return None

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``column`` is one of ``values``: a condition and its parameters."""
        return f"{column} IN ({','.join('?' * len(values))})", list(values)

    def rule_locks(self, rule_ids: list[str]) -> list[tuple[str, tuple[Any, ...]]]:
        """Statements that serialise the units of work on these rules (none: the dialect's
        transaction is already serial)."""
        return []


class SqliteDialect(Dialect):
    name = "sqlite"
    item_rules = """(SELECT json_group_array(json_array(h2.rule_id, h2.rule_title, h2.severity))
       FROM hits h2 WHERE h2.item_id = h.item_id)"""

    def json_list(self, expr: str) -> str:
        return f"json_group_array({expr})"

    def json_elements(self, column: str, alias: str) -> str:
        return f"json_each({column}) {alias}"

    def search(self, text: str) -> tuple[list[str], list[Any]]:
        q = fts_query(text)
        where: list[str] = []
        params: list[Any] = []
        if q.match:
            where.append("h.item_id IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)")
            params.append(q.match)
        if q.exclude:
            where.append("h.item_id NOT IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)")
            params.append(q.exclude)
        return where, params


def tsquery_text(term: Term) -> str | None:
    """A term in ``to_tsquery`` syntax: its words quoted, in order (``<->``), the last one a
    prefix unless the term is a phrase; None when it has no word."""
    words = _WORD.findall(term.text)
    if not words:
        return None
    parts = [f"'{w}'" for w in words]
    if not term.phrase:
        parts[-1] += ":*"
    return " <-> ".join(parts)


TS_CONFIGS = ("russian", "english")  # the configurations items.search is built with


class PostgresDialect(Dialect):
    name = "postgresql"
    claim_lock = " FOR UPDATE SKIP LOCKED"
    row_lock = " FOR UPDATE"

    def after_copy(self, table: str) -> str | None:
        return (
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )

    item_rules = """(SELECT json_agg(json_build_array(h2.rule_id, h2.rule_title, h2.severity))
       FROM hits h2 WHERE h2.item_id = h.item_id)"""
    # rows another transaction is deleting are left for the next poll: a prune never waits
    prune_bands = """DELETE FROM story_bands WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM story_bands WHERE created_at < ? FOR UPDATE SKIP LOCKED))"""

    def json_list(self, expr: str) -> str:
        return f"json_agg({expr})"

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        # one array parameter: the statement's text stays the same whatever the count
        return f"{column} = ANY(?)", [list(values)]

    def json_elements(self, column: str, alias: str) -> str:
        return f"jsonb_array_elements_text({column}) AS {alias}(value)"

    @staticmethod
    def _any_of(terms: tuple[Term, ...], params: list[Any]) -> str | None:
        alternatives = []
        for t in terms:
            text = tsquery_text(t)
            if text is None:
                continue
            alternatives += [f"to_tsquery('{cfg}', ?)" for cfg in TS_CONFIGS]
            params += [text] * len(TS_CONFIGS)
        return "(" + " || ".join(alternatives) + ")" if alternatives else None

    def search(self, text: str) -> tuple[list[str], list[Any]]:
        q: SearchQuery = parse_search(text)
        where: list[str] = []
        params: list[Any] = []
        groups = [g for g in (self._any_of(g, params) for g in q.groups) if g]
        if groups:
            where.append(f"i.search @@ ({' && '.join(groups)})")
        excluded = self._any_of(q.excluded, params)
        if excluded:
            where.append(f"NOT (i.search @@ {excluded})")
        return where, params

    def rule_locks(self, rule_ids: list[str]) -> list[tuple[str, tuple[Any, ...]]]:
        # sorted, so two units of work never wait on each other's locks in a cycle
        return [
            (
                "SELECT pg_advisory_xact_lock(CAST(? AS integer), CAST(? AS integer))",
                (RULE_LOCK_CLASS, rule_lock_key(r)),
            )
            for r in sorted(set(rule_ids))
        ]


def rule_lock_key(rule_id: str) -> int:
    """A rule's advisory lock key: a 32-bit signed digest of its id, the same in every process."""
    digest = hashlib.blake2b(rule_id.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


SQLITE = SqliteDialect()
POSTGRES = PostgresDialect()
