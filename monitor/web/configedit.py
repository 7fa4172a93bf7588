"""The config file's ``sources:`` edited from the web app, the careful way.

The file is read with ruamel's round-trip loader (comments, order and layout kept), one
source is added or changed, and the new text is written beside the config under a
temporary name, loaded with ``monitor.config.load_config`` exactly as the daemon will
load it, and only then renamed over the config (atomic). A change that does not load is
refused with the loader's own ``file:line:col`` message, and the file is left as it was.
A running daemon sees the new file at its next check and reloads.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from monitor.errors import ConfigError

EDITABLE = ("url", "interval", "enabled", "language", "full_text", "selector", "tags")
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


def _rewrite(config_path: Path, change) -> None:
    from monitor.config import load_config

    with _lock:
        text = config_path.read_text(encoding="utf-8")
        y = _yaml()
        doc = y.load(text) if text.strip() else CommentedMap()
        if not isinstance(doc, dict):
            raise RefusedEdit([f"{config_path}: the config file is not a mapping"])
        if doc.get("sources") is None:
            doc["sources"] = CommentedSeq()
        change(doc["sources"])
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


def add_source(config_path: Path, fields: dict[str, Any]) -> None:
    def change(sources: CommentedSeq) -> None:
        if any(isinstance(s, dict) and s.get("name") == fields["name"] for s in sources):
            raise RefusedEdit([f"there is already a source named {fields['name']}"])
        entry = CommentedMap()
        for key in ("name", "kind", *EDITABLE):
            if fields.get(key) not in (None, [], ""):
                entry[key] = fields[key]
        sources.append(entry)

    _rewrite(config_path, change)


def update_source(config_path: Path, name: str, fields: dict[str, Any]) -> None:
    def change(sources: CommentedSeq) -> None:
        entry = next((s for s in sources if isinstance(s, dict) and s.get("name") == name), None)
        if entry is None:
            raise KeyError(name)
        for key, value in fields.items():
            if key not in EDITABLE:
                raise RefusedEdit([f"{key} cannot be edited here"])
            if value is None:
                entry.pop(key, None)
            else:
                entry[key] = value

    _rewrite(config_path, change)
