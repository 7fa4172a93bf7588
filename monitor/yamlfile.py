"""Load YAML keeping line numbers, and turn pydantic errors into ``file:line:col`` errors
(the one mapping, for config.yaml and rule files alike: ``YamlDoc.validation_errors``).

Rules and config are data, never code: this uses ruamel's safe round-trip loader, which
builds no Python objects from tags, and hands back plain dicts and lists plus a way to find
the line and column of any node by its path (the ``loc`` of a pydantic error).

Before a document is built, its shape is checked on the parser's events, in one pass and
constant memory per open collection, and refused at the ``file:line:col`` that crosses a
limit: a file over ``MAX_BYTES``, collections nested deeper than ``MAX_DEPTH``, more than
``MAX_ALIASES`` aliases, or aliases that expand the document past ``MAX_NODES`` nodes (an
alias bomb: 729 bytes can stand for billions of nodes), or an alias inside its own anchor.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    ScalarEvent,
)

from monitor.errors import ConfigError, ConfigErrors
from monitor.plainerrors import clean_loc, dotted, keys_at, plain_message
from monitor.yamlfast import UNREAD, Positions, read_plain

MAX_BYTES = 8 * 1024 * 1024  # a config or rule file larger than this is refused unread
MAX_DEPTH = 64  # nested mappings and lists (a rule's match nests two per level)
MAX_ALIASES = 1000  # ``*name`` references in one file
MAX_NODES = 1_000_000  # nodes of the document with every alias expanded


class YamlDoc:
    """A parsed YAML document: ``data`` (plain Python) and ``where(loc)`` for positions."""

    def __init__(self, path: str, root: Any, positions: Positions | None = None):
        """``root``: ruamel's round-trip document; or, with ``positions``, the plain data
        libyaml read (:mod:`monitor.yamlfast`)."""
        self.path = path
        self.root = root
        self._positions = positions
        self._walked: dict[tuple[Any, ...], tuple[Any, int | None, int | None]] = {}
        self.data = root if positions is not None else _plain(root)

    def where(self, loc: tuple[Any, ...] | list[Any]) -> tuple[int | None, int | None]:
        """1-based (line, column) of the deepest node on ``loc`` that exists."""
        if self._positions is not None:
            return self._where_plain(loc)
        node = self.root
        line, col = (1, 1) if node is not None else (None, None)
        for key in loc:
            if isinstance(node, CommentedMap) and key in node:
                try:
                    ln, cl = node.lc.key(key)
                    line, col = ln + 1, cl + 1
                except (KeyError, TypeError, AttributeError):
                    pass
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
                try:
                    ln, cl = node.lc.item(key)
                    line, col = ln + 1, cl + 1
                except (KeyError, TypeError, AttributeError):
                    pass
                node = node[key]
            else:
                # pydantic adds union branch names and the like to loc; skip what isn't a node
                continue
        return line, col

    def _where_plain(self, loc: tuple[Any, ...] | list[Any]) -> tuple[int | None, int | None]:
        if not loc:
            return (1, 1) if self.data is not None else (None, None)
        loc = tuple(loc)
        _node, line, col = self._step(self._walk(loc[:-1]), loc[-1])
        return line, col

    def _walk(self, loc: tuple[Any, ...]) -> tuple[Any, int | None, int | None]:
        """The deepest node on ``loc`` and its position; remembered per path of containers
        (a term's own place is not kept), as the loader asks for every term of a list in
        turn (a rule file of 10,000 rules: 300,000 terms)."""
        got = self._walked.get(loc)
        if got is None:
            if loc:
                got = self._step(self._walk(loc[:-1]), loc[-1])
            else:
                got = (self.data, *((1, 1) if self.data is not None else (None, None)))
            self._walked[loc] = got
        return got

    def _step(
        self, at: tuple[Any, int | None, int | None], key: Any
    ) -> tuple[Any, int | None, int | None]:
        node, line, col = at
        if (type(node) is dict and key in node) or (
            type(node) is list and type(key) is int and 0 <= key < len(node)
        ):
            assert self._positions is not None
            line, col = self._positions[id(node)][key]
            return node[key], line, col
        # pydantic adds union branch names and the like to loc; skip what isn't a node
        return node, line, col

    def error(
        self,
        message: str,
        loc: tuple[Any, ...] | list[Any] = (),
        cls: type[ConfigError] = ConfigError,
    ) -> ConfigError:
        line, col = self.where(loc)
        return cls(message, path=self.path, line=line, column=col)

    def validation_errors(
        self,
        exc: ValidationError,
        prefix: tuple[Any, ...] = (),
        cls: type[ConfigError] = ConfigError,
        model: type[BaseModel] | None = None,
        *,
        data: Any = None,
        keys: Callable[[tuple[Any, ...]], list[str]] | None = None,
        label: str = "",
    ) -> list[ConfigError]:
        """One error per pydantic error, at its node, in plain words: ``{label}{path}: {message}``.

        ``prefix`` is where the validated ``data`` sits in the document; the path is said from
        there, and only the keys and indexes that are in ``data`` are kept in it (pydantic's
        union branch names are not places). A misspelt key gets a "did you mean …?" among
        ``keys(loc)``, or else among the keys of ``model``, the validated class, at its place."""
        out = []
        for err in exc.errors(include_url=False):
            kind = err.get("type", "")
            loc = tuple(err.get("loc", ()))
            if data is not None:
                loc = clean_loc(data, loc, keep_last=kind in ("missing", "extra_forbidden"))
            known = keys(loc) if keys is not None else keys_at(model, loc[:-1])
            msg = plain_message({**err, "loc": loc}, keys=known)
            path = dotted(loc)
            where = prefix + (loc[:-1] if kind == "missing" else loc)
            out.append(self.error(f"{label}{path}: {msg}" if path else f"{label}{msg}", where, cls))
        return out


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            str(k) if not isinstance(k, (str, int, float, bool)) else k: _plain(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    return y


def _at(cls: type[ConfigError], message: str, path: str, mark: Any) -> ConfigError:
    line = mark.line + 1 if mark is not None else None
    col = mark.column + 1 if mark is not None else None
    return cls(message, path=path, line=line, column=col)


def check_shape(text: str, path: str = "<string>", cls: type[ConfigError] = ConfigError) -> None:
    """Refuse a document too deep, with too many aliases, or whose aliases expand past
    ``MAX_NODES`` nodes, at the position where it crosses the limit. Reads only events."""
    open_: list[tuple[str | None, int]] = []  # (anchor, expanded nodes when it opened)
    anchors: dict[str, int] = {}  # anchor → expanded size of its node
    total = aliases = 0
    for ev in _yaml().parse(text):
        if isinstance(ev, ScalarEvent):
            total += 1
            if ev.anchor:
                anchors[ev.anchor] = 1
        elif isinstance(ev, CollectionStartEvent):
            if len(open_) >= MAX_DEPTH:
                raise _at(
                    cls,
                    f"nested more than {MAX_DEPTH} levels deep; refused (flatten it, "
                    "or split it into named parts)",
                    path,
                    ev.start_mark,
                )
            total += 1
            open_.append((ev.anchor, total - 1))
        elif isinstance(ev, CollectionEndEvent):
            anchor, before = open_.pop()
            if anchor:
                anchors[anchor] = total - before
        elif isinstance(ev, AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _at(
                    cls,
                    f"more than {MAX_ALIASES} aliases (*name) in one file; refused",
                    path,
                    ev.start_mark,
                )
            if any(a == ev.anchor for a, _ in open_):
                raise _at(
                    cls,
                    f"alias *{ev.anchor} refers to the collection it is inside; refused",
                    path,
                    ev.start_mark,
                )
            total += anchors.get(ev.anchor, 1)  # an unknown anchor: the loader reports it
        else:
            continue
        if total > MAX_NODES:
            raise _at(
                cls,
                f"aliases expand this document past {MAX_NODES:,} nodes (a YAML alias bomb?); "
                "refused",
                path,
                ev.start_mark,
            )


def load_yaml_text(
    text: str, path: str = "<string>", cls: type[ConfigError] = ConfigError
) -> YamlDoc:
    if len(text) > MAX_BYTES:
        raise cls(f"larger than {MAX_BYTES // (1024 * 1024)} MiB; refused", path=path)
    fast = read_plain(text, MAX_DEPTH, MAX_ALIASES, MAX_NODES)
    if fast is not UNREAD:
        return YamlDoc(path, fast[0], fast[1])
    try:
        check_shape(text, path, cls)
        root = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise cls(f"YAML syntax: {problem}", path=path, line=line, column=col) from None
    except ConfigError:
        raise
    except RecursionError:
        raise cls("YAML: nested too deeply to read; refused", path=path) from None
    except Exception as exc:  # ruamel raises a few non-marked errors (duplicate keys, etc.)
        raise cls(f"YAML: {exc}", path=path) from None
    return YamlDoc(path, root)


def load_yaml_file(path: str | Path, cls: type[ConfigError] = ConfigError) -> YamlDoc:
    p = Path(path)
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise cls(f"larger than {MAX_BYTES // (1024 * 1024)} MiB; refused", path=str(p))
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise cls("file not found", path=str(p)) from None
    except UnicodeDecodeError as exc:
        raise cls(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=str(p)) from None
    except IsADirectoryError:
        raise cls("is a folder, not a file", path=str(p)) from None
    except OSError as exc:
        raise cls(f"cannot read: {exc.strerror}", path=str(p)) from None
    return load_yaml_text(text, str(p), cls=cls)


__all__ = [
    "YamlDoc",
    "load_yaml_text",
    "load_yaml_file",
    "check_shape",
    "ConfigErrors",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_ALIASES",
    "MAX_NODES",
]
