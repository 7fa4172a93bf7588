"""Load YAML keeping line numbers, and turn pydantic errors into ``file:line:col`` errors.

Rules and config are data, never code: this uses ruamel's safe round-trip loader, which
builds no Python objects from tags, and hands back plain dicts and lists plus a way to find
the line and column of any node by its path (the ``loc`` of a pydantic error).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from monitor.errors import ConfigError, ConfigErrors


class YamlDoc:
    """A parsed YAML document: ``data`` (plain Python) and ``where(loc)`` for positions."""

    def __init__(self, path: str, root: Any):
        self.path = path
        self.root = root
        self.data = _plain(root)

    def where(self, loc: tuple[Any, ...] | list[Any]) -> tuple[int | None, int | None]:
        """1-based (line, column) of the deepest node on ``loc`` that exists."""
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

    def error(self, message: str, loc: tuple[Any, ...] | list[Any] = (), cls=ConfigError) -> ConfigError:
        line, col = self.where(loc)
        return cls(message, path=self.path, line=line, column=col)

    def validation_errors(
        self, exc: ValidationError, prefix: tuple[Any, ...] = (), cls=ConfigError
    ) -> list[ConfigError]:
        """One ConfigError per pydantic error, each pointing at its node."""
        out = []
        for err in exc.errors(include_url=False):
            loc = tuple(prefix) + tuple(err.get("loc", ()))
            dotted = _dotted(loc)
            msg = err.get("msg", "invalid")
            if err.get("type") == "extra_forbidden":
                msg = f"unknown key {loc[-1]!r}"
            elif err.get("type") == "missing":
                msg = f"missing required key {loc[-1]!r}"
            out.append(self.error(f"{dotted}: {msg}" if dotted else msg, loc, cls=cls))
        return out


def _dotted(loc: tuple[Any, ...]) -> str:
    s = ""
    for part in loc:
        if isinstance(part, int):
            s += f"[{part}]"
        else:
            s += ("." if s else "") + str(part)
    return s


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, (str, int, float, bool)) else k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    return y


def load_yaml_text(text: str, path: str = "<string>", cls=ConfigError) -> YamlDoc:
    try:
        root = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise cls(f"YAML syntax: {problem}", path=path, line=line, column=col) from None
    except Exception as exc:  # ruamel raises a few non-marked errors (duplicate keys, etc.)
        raise cls(f"YAML: {exc}", path=path) from None
    return YamlDoc(path, root)


def load_yaml_file(path: str | Path, cls=ConfigError) -> YamlDoc:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise cls("file not found", path=str(p)) from None
    except UnicodeDecodeError as exc:
        raise cls(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=str(p)) from None
    except OSError as exc:
        raise cls(f"cannot read: {exc.strerror}", path=str(p)) from None
    return load_yaml_text(text, str(p), cls=cls)


__all__ = ["YamlDoc", "load_yaml_text", "load_yaml_file", "ConfigErrors"]
