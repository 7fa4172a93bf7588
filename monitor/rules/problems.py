"""Problems found while loading rules, each at its ``file:line:col``, in plain words.

    pydantic ValidationError ─► (where in the YAML, message) per error: the union branch
    names pydantic puts in ``loc`` dropped, "unknown key 'x'", "missing required key 'y'"
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from monitor.errors import RuleError
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

    def validation_errors(self, doc: YamlDoc, exc: ValidationError, prefix: tuple[Any, ...],
                          data: Any, label: str) -> None:
        for err in exc.errors(include_url=False):
            kind = err.get("type", "")
            loc = clean_loc(data, tuple(err.get("loc", ())), keep_last=kind in ("missing", "extra_forbidden"))
            msg = err.get("msg", "invalid")
            if kind == "extra_forbidden":
                msg = f"unknown key {loc[-1]!r}" if loc else "unknown key"
            elif kind == "missing":
                msg = f"missing required key {loc[-1]!r}" if loc else "missing required key"
            elif kind == "literal_error":
                msg = msg.replace("Input should be", "should be")
            elif kind == "value_error":
                msg = msg.removeprefix("Value error, ")
            elif kind == "string_pattern_mismatch" and loc and loc[-1] == "id":
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
