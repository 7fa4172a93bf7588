"""Problems found while loading rules, each at its ``file:line:col``, in plain words.

pydantic ValidationError ─► (where in the YAML, message) per error: the union branch
names pydantic puts in ``loc`` dropped, in the project's words (monitor.plainerrors):
"unknown key 'tagz' (did you mean 'tags'?)", "'hihg' is not one of info, … (did you mean 'high'?)"
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from monitor.errors import RuleError
from monitor.plainerrors import plain_message
from monitor.rules.spec import (
    DerivedFrom,
    ExampleSpec,
    ExamplesSpec,
    GroupSpec,
    RegexSpec,
    RuleSpec,
    TermSpec,
    VocabularySpec,
    _node_kind,
)
from monitor.yamlfile import YamlDoc

__all__ = ["Problems", "dotted"]


def clean_loc(data: Any, loc: tuple[Any, ...], keep_last: bool) -> tuple[Any, ...]:
    """Drop the union branch names pydantic puts in ``loc``; keep real keys and indexes."""
    out: list[Any] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif keep_last and i == len(loc) - 1 and isinstance(part, str):
            out.append(part)
    return tuple(out)


def known_keys(data: Any, loc: tuple[Any, ...], vocabularies: bool = False) -> list[str]:
    """The keys the mapping holding ``loc[-1]`` accepts (for "did you mean …?")."""
    parent: Any = data
    for part in loc[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return []
    where = loc[:-1]
    spec: Any = None
    if vocabularies:
        spec = VocabularySpec if len(where) == 1 else None
    elif not where:
        spec = RuleSpec
    elif where == ("examples",):
        spec = ExamplesSpec
    elif where == ("derived_from",):
        spec = DerivedFrom
    elif where[:1] == ("examples",):
        spec = ExampleSpec
    if spec is None and isinstance(parent, dict):
        spec = {"group": GroupSpec, "term_object": TermSpec, "regex": RegexSpec}.get(
            _node_kind(parent) or ""
        )
    if spec is None:
        return []
    return [f.alias or name for name, f in spec.model_fields.items()]


def dotted(loc: tuple[Any, ...]) -> str:
    """``("match", "all", 2)`` as ``match.all[2]``."""
    s = ""
    for part in loc:
        s += f"[{part}]" if isinstance(part, int) else ("." if s else "") + str(part)
    return s


class Problems:
    """Every problem of one load, in the order found; ``label`` ("rule 'id': ") is put
    before the errors inside a rule's match tree while that rule is being built."""

    def __init__(self) -> None:
        self.errors: list[RuleError] = []
        self.label = ""

    def error(self, doc: YamlDoc, loc: tuple[Any, ...], message: str) -> None:
        line, col = doc.where(loc)
        self.errors.append(RuleError(message, path=doc.path, line=line, column=col))

    def node_error(self, doc: YamlDoc, loc: tuple[Any, ...], message: str) -> None:
        """An error inside a match tree: prefixed with the rule and the path in it."""
        start = next((i for i, k in enumerate(loc) if k == "match"), None)
        if self.label and start is not None:
            message = f"{self.label}{dotted(loc[start:])}: {message}"
        elif loc and loc[0] == "vocabularies":
            message = f"{dotted(loc)}: {message}"
        self.error(doc, loc, message)

    def validation_errors(
        self, doc: YamlDoc, exc: ValidationError, prefix: tuple[Any, ...], data: Any, label: str
    ) -> None:
        for err in exc.errors(include_url=False):
            kind = err.get("type", "")
            loc = clean_loc(
                data, tuple(err.get("loc", ())), keep_last=kind in ("missing", "extra_forbidden")
            )
            keys = known_keys(data, loc, vocabularies=prefix[-1:] == ("vocabularies",))
            msg = plain_message({**err, "loc": loc}, keys=keys)
            if kind == "string_pattern_mismatch" and loc and loc[-1] == "id":
                msg = "id must be lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
            where = prefix + (loc[:-1] if kind == "missing" else loc)
            path = dotted(loc)
            self.error(doc, where, f"{label}{path}: {msg}" if path else f"{label}{msg}")

    def sorted_unique(self) -> list[RuleError]:
        """By file, line and column; each message once."""
        out: list[RuleError] = []
        seen: set[str] = set()
        for e in sorted(self.errors, key=lambda e: (str(e.path), e.line or 0, e.column or 0)):
            if str(e) not in seen:
                seen.add(str(e))
                out.append(e)
        return out
