"""Problems found while loading rules, each at its ``file:line:col``, in plain words.

pydantic ValidationError ─► (where in the YAML, message) per error, through the one mapping
for every file (``YamlDoc.validation_errors``), with the keys a rule's mapping accepts at
each place for "did you mean …?" (``known_keys``):
"unknown key 'tagz' (did you mean 'tags'?)", "'hihg' is not one of info, … (did you mean 'high'?)"
"""

from __future__ import annotations

from typing import Any, cast

from pydantic import ValidationError

from monitor.errors import RuleError
from monitor.plainerrors import dotted
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

__all__ = ["Problems", "dotted", "known_keys"]


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
        vocabularies = prefix[-1:] == ("vocabularies",)
        found = doc.validation_errors(
            exc,
            prefix,
            cls=RuleError,
            data=data,
            keys=lambda loc: known_keys(data, loc, vocabularies=vocabularies),
            label=label,
        )
        self.errors.extend(cast(list[RuleError], found))

    def sorted_unique(self) -> list[RuleError]:
        """By file, line and column; each message once."""
        out: list[RuleError] = []
        seen: set[str] = set()
        for e in sorted(self.errors, key=lambda e: (str(e.path), e.line or 0, e.column or 0)):
            if str(e) not in seen:
                seen.add(str(e))
                out.append(e)
        return out
