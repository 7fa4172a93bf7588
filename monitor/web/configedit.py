"""The config file's ``sources:`` and ``channels:`` edited from the web app, the careful way.

The file is read with ruamel's round-trip loader (comments, order and layout kept), one
source or channel is added or changed, and the new text is written beside the config
under a temporary name, loaded with ``monitor.config.load_config`` exactly as the daemon
will load it, and only then renamed over the config (atomic). A change that does not load
is refused with the loader's own ``file:line:col`` message, and the file is left as it
was. A running daemon sees the new file at its next check and reloads.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from monitor.errors import ConfigError

EDITABLE = ("url", "interval", "enabled", "language", "full_text", "selector", "tags")
CHANNEL_KEYS = (
    "type",
    "urls",
    "enabled",
    "format",
    "rate_limit",
    "rate_window",
    "base_url",
    "template",
    "subject_template",
)
CHANNEL_EDITABLE = CHANNEL_KEYS[1:]  # a channel's type is chosen when it is added
_lock = threading.Lock()  # one edit at a time in this process


class RefusedEdit(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    return y


def _rewrite(config_path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    from monitor.config import load_config

    with _lock:
        text = config_path.read_text(encoding="utf-8")
        y = _yaml()
        doc = y.load(text) if text.strip() else CommentedMap()
        if not isinstance(doc, dict):
            raise RefusedEdit([f"{config_path}: the config file is not a mapping"])
        change(doc)
        out = io.StringIO()
        y.dump(doc, out)
        fd, tmp = tempfile.mkstemp(
            prefix="." + config_path.name + ".", suffix=".tmp", dir=config_path.parent
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(out.getvalue())
                fh.flush()
                os.fsync(fh.fileno())
            try:
                load_config(tmp)
            except ConfigError as exc:
                raise RefusedEdit(
                    [line.replace(tmp, str(config_path)) for line in str(exc).splitlines()]
                ) from None
            os.chmod(tmp, config_path.stat().st_mode & 0o777)
            os.replace(tmp, config_path)
        finally:
            Path(tmp).unlink(missing_ok=True)


def _sources(doc: dict[str, Any]) -> list[Any]:
    if doc.get("sources") is None:
        doc["sources"] = CommentedSeq()
    sources = doc["sources"]
    if not isinstance(sources, list):
        raise RefusedEdit(["sources: is not a list in the config file"])
    return sources


def _channels(doc: dict[str, Any]) -> dict[str, Any]:
    if doc.get("channels") is None:
        doc["channels"] = CommentedMap()
    channels = doc["channels"]
    if not isinstance(channels, dict):
        raise RefusedEdit(["channels: is not a mapping in the config file"])
    return channels


def _set(entry: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        entry.pop(key, None)
    elif isinstance(value, list):
        entry[key] = CommentedSeq(value)
    else:
        entry[key] = value


def add_source(config_path: Path, fields: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        sources = _sources(doc)
        if any(isinstance(s, dict) and s.get("name") == fields["name"] for s in sources):
            raise RefusedEdit([f"there is already a source named {fields['name']}"])
        entry = CommentedMap()
        for key in ("name", "kind", *EDITABLE):
            if fields.get(key) not in (None, [], ""):
                entry[key] = fields[key]
        sources.append(entry)

    _rewrite(config_path, change)


def update_source(config_path: Path, name: str, fields: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        sources = _sources(doc)
        entry = next((s for s in sources if isinstance(s, dict) and s.get("name") == name), None)
        if entry is None:
            raise KeyError(name)
        for key, value in fields.items():
            if key not in EDITABLE:
                raise RefusedEdit([f"{key} cannot be edited here"])
            _set(entry, key, value)

    _rewrite(config_path, change)


def channel_templates(config_path: Path, name: str) -> list[str]:
    """A channel's URLs as the file spells them (``${VAR}`` unexpanded)."""
    doc = _yaml().load(config_path.read_text(encoding="utf-8"))
    channels = doc.get("channels") if isinstance(doc, dict) else None
    entry = channels.get(name) if isinstance(channels, dict) else None
    if not isinstance(entry, dict):
        raise KeyError(name)
    urls = entry.get("urls")
    return [str(u) for u in urls] if isinstance(urls, list) else []


def add_channel(config_path: Path, name: str, fields: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        channels = _channels(doc)
        if name in channels:
            raise RefusedEdit([f"there is already a channel named {name}"])
        entry = CommentedMap()
        for key in CHANNEL_KEYS:
            if fields.get(key) not in (None, [], ""):
                _set(entry, key, fields[key])
        channels[name] = entry

    _rewrite(config_path, change)


def update_channel(config_path: Path, name: str, fields: dict[str, Any]) -> None:
    def change(doc: dict[str, Any]) -> None:
        entry = _channels(doc).get(name)
        if not isinstance(entry, dict):
            raise KeyError(name)
        for key, value in fields.items():
            if key not in CHANNEL_EDITABLE:
                raise RefusedEdit([f"{key} cannot be edited here"])
            _set(entry, key, value)

    _rewrite(config_path, change)
