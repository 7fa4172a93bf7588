"""Plain YAML read through libyaml (PyYAML's C parser), with the position of every node.

    text ─libyaml events─► plain dicts, lists, str, int, bool, None
                          + per mapping its keys' and per list its items' (line, column)

A rule file of 10,000 rules is a few megabytes: ruamel's pure-Python reader takes tens of
seconds over it, libyaml a fraction of one. This reads only what it can read exactly as
the round-trip reader (:mod:`monitor.yamlfile`) would: plain scalars are resolved by
ruamel's own YAML 1.2 resolver, an alias is the object of its anchor (as ruamel gives
it), and a document with anything else — a tag, a recursive or unknown alias, an alias as
a key, a merge key, a version directive, a duplicate key, a key that is not a string, a
number other than a plain decimal integer, a syntax error, nesting, aliases or expanded
nodes past the limits — is handed back (:data:`UNREAD`) for that reader, which has every
message and check.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

__all__ = ["UNREAD", "Positions", "read_plain"]

# per container (by id): a mapping's keys, or a list's items, → (line, column), 1-based
Positions = dict[int, dict[Any, tuple[int, int]]]
UNREAD: Any = object()

_STR = "tag:yaml.org,2002:str"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_INT = "tag:yaml.org,2002:int"
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
# line breaks of YAML 1.1 that YAML 1.2 reads as ordinary characters
_OTHER_BREAKS = re.compile("[\x85\u2028\u2029]")
_RESOLVER = VersionedResolver(version=(1, 2))
_PLAIN_CACHE: dict[str, Any] = {}
_PLAIN_CACHE_MAX = 50_000


class _Unread(Exception):
    """Something only the round-trip reader reads the same way."""


def _plain(value: str) -> Any:
    got = _PLAIN_CACHE.get(value, UNREAD)
    if got is not UNREAD:
        return got
    tag = _RESOLVER.resolve(ScalarNode, value, (True, False))
    if tag == _STR:
        got = value
    elif tag == _BOOL:
        got = value.lower() == "true"
    elif tag == _NULL:
        got = None
    elif tag == _INT and _DECIMAL.match(value):
        got = int(value)
    else:
        raise _Unread
    if len(_PLAIN_CACHE) < _PLAIN_CACHE_MAX:
        _PLAIN_CACHE[value] = got
    return got


def read_plain(
    text: str, max_depth: int, max_aliases: int = 1000, max_nodes: int = 1_000_000
) -> tuple[Any, Positions] | Any:
    """The document's data and positions, or :data:`UNREAD`. An alias is the very object of
    its anchor, as the round-trip reader gives it; a document past a limit (depth, aliases,
    nodes with every alias expanded) is :data:`UNREAD`, for that reader's message."""
    if _OTHER_BREAKS.search(text):
        return UNREAD
    try:
        return _read(text, max_depth, max_aliases, max_nodes)
    except (_Unread, yaml.YAMLError, RecursionError):
        return UNREAD


def _read(text: str, max_depth: int, max_aliases: int, max_nodes: int) -> tuple[Any, Positions]:
    positions: Positions = {}
    # open containers: [container, its positions, the pending key (mappings), its anchor,
    # the node count before it]
    stack: list[list[Any]] = []
    root: Any = None
    documents = 0
    anchored: dict[str, tuple[Any, int]] = {}  # anchor → (its value, its expanded node count)
    total = aliases = 0
    loader = yaml.CSafeLoader(text)
    try:
        while True:
            ev = loader.get_event()
            if ev is None:
                break
            kind = type(ev)
            if (
                kind is yaml.ScalarEvent
                or kind is yaml.MappingStartEvent
                or (kind is yaml.SequenceStartEvent)
                or kind is yaml.AliasEvent
            ):
                if kind is yaml.AliasEvent:
                    aliases += 1
                    if aliases > max_aliases or ev.anchor not in anchored:
                        raise _Unread  # (an anchor still open: a recursive alias)
                    value, size = anchored[ev.anchor]
                    total += size
                else:
                    if ev.tag is not None:
                        raise _Unread
                    total += 1
                    if kind is yaml.ScalarEvent:
                        value = ev.value if ev.style else _plain(ev.value)
                        if ev.anchor is not None:
                            anchored[ev.anchor] = (value, 1)
                    else:
                        if len(stack) >= max_depth:
                            raise _Unread
                        value = {} if kind is yaml.MappingStartEvent else []
                if total > max_nodes:
                    raise _Unread
                mark = ev.start_mark
                where = (mark.line + 1, mark.column + 1)
                if not stack:
                    root = value
                else:
                    top = stack[-1]
                    container = top[0]
                    if type(container) is list:
                        top[1][len(container)] = where
                        container.append(value)
                    elif top[2] is UNREAD:  # a key
                        if (
                            kind is yaml.AliasEvent
                            or type(value) is not str
                            or value in container
                            or value == "<<"
                        ):
                            raise _Unread
                        top[2] = value
                        top[1][value] = where
                    else:
                        container[top[2]] = value
                        top[2] = UNREAD
                if kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                    own: dict[Any, tuple[int, int]] = {}
                    positions[id(value)] = own
                    stack.append([value, own, UNREAD, ev.anchor, total - 1])
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                value, _, _, anchor, before = stack.pop()
                if anchor is not None:
                    anchored[anchor] = (value, total - before)
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1 or ev.version is not None or ev.tags:
                    raise _Unread
    finally:
        loader.dispose()
    return root, positions
