"""Pydantic's validation errors in the project's words, with "did you mean …?".

    plain_message(err, model)   one error of ``ValidationError.errors()`` as a sentence:
                                "unknown key 'intervl' (did you mean 'interval'?)",
                                "'fead' is not one of feed, page or folder (did you mean 'feed'?)",
                                "must be true or false" … (never "Value error, …" or "Input should be")
    keys_at(model, loc)         the keys a mapping at ``loc`` may hold (for the suggestion)
    clean_loc(data, loc)        ``loc`` with pydantic's union branch names dropped
    dotted(loc)                 ``("match", "all", 2)`` as ``match.all[2]``

Imports only pydantic and ``suggest``; used for config.yaml and for rule files alike, through
``monitor.yamlfile.YamlDoc.validation_errors``, which puts each message at its node.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any

from pydantic import BaseModel

from monitor.suggest import did_you_mean, one_of


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` down to the type that holds keys or items."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models[0] if models else (args[0] if args else tp)
            if not args:
                return tp
        else:
            return tp


def _model_at(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    tp: Any = model
    for part in loc:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
        elif origin in (list, tuple, set, frozenset) and isinstance(part, int):
            args = typing.get_args(tp)
            tp = args[0] if args else None
        elif origin is dict:
            args = typing.get_args(tp)
            tp = args[1] if len(args) == 2 else None
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def keys_at(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> list[str]:
    """The keys the mapping at ``loc`` (below ``model``) accepts; empty when unknown."""
    found = _model_at(model, loc)
    return (
        [] if found is None else [name for name in found.model_fields if not name.startswith("_")]
    )


def clean_loc(data: Any, loc: tuple[Any, ...], keep_last: bool) -> tuple[Any, ...]:
    """Drop the union branch names pydantic puts in ``loc``; keep the keys and indexes that
    are in ``data`` (and, with ``keep_last``, a last key that is not: a missing or unknown one)."""
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


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


_TYPE_WORDS = {
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "string_type": "must be text",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "dict_type": "must be a mapping of keys and values",
    "model_type": "must be a mapping of keys and values",
    "model_attributes_type": "must be a mapping of keys and values",
    "path_type": "must be a path",
    "none_required": "must be empty",
}


def plain_message(
    err: dict[str, Any], model: type[BaseModel] | None = None, keys: list[str] | None = None
) -> str:
    """One pydantic error (from ``errors(include_url=False)``) in plain words, without its place.
    The keys a misspelt key is compared with: ``keys``, or those of ``model`` at its place."""
    kind = err.get("type", "")
    loc = tuple(err.get("loc", ()))
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "extra_forbidden":
        key = loc[-1] if loc else "?"
        known = keys if keys is not None else keys_at(model, loc[:-1])
        return f"unknown key {str(key)!r}{did_you_mean(str(key), known)}"
    if kind == "missing":
        return f"missing required key {str(loc[-1])!r}" if loc else "a required key is missing"
    if kind in ("literal_error", "enum"):
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = did_you_mean(str(value), choices) if isinstance(value, str) else ""
        return (
            f"{_shown(value)} is not one of {one_of(choices)}{hint}"
            if choices
            else "is not an allowed value"
        )
    if kind == "string_pattern_mismatch" and loc and loc[-1] == "id":
        return "id must be lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error") or err.get("msg", "invalid")).removeprefix("Value error, ")
    if kind in _TYPE_WORDS:
        return (
            f"{_TYPE_WORDS[kind]}, not {_shown(value)}" if value is not None else _TYPE_WORDS[kind]
        )
    if kind == "greater_than":
        return f"must be more than {ctx.get('gt')}, not {_shown(value)}"
    if kind == "greater_than_equal":
        return f"must be {ctx.get('ge')} or more, not {_shown(value)}"
    if kind == "less_than":
        return f"must be less than {ctx.get('lt')}, not {_shown(value)}"
    if kind == "less_than_equal":
        return f"must be {ctx.get('le')} or less, not {_shown(value)}"
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return f"needs at least {n} entr{'y' if n == 1 else 'ies'}"
    if kind == "too_long":
        return f"may have at most {ctx.get('max_length')} entries"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    msg = str(err.get("msg", "invalid"))
    return msg.removeprefix("Value error, ")
