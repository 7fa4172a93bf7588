"""Add sources to a config file in place, keeping its comments and layout (ruamel round trip).

The new text is checked before it replaces the file: every line of the old file must still be
there, in order (only lines were added), and the result must load as a valid config. The file
is replaced atomically (a temporary file beside it, then a rename).
"""

from __future__ import annotations

import difflib
import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.errors import ConfigError

if TYPE_CHECKING:
    from ruamel.yaml import YAML


def _yaml_for(text: str) -> YAML:
    from ruamel.yaml import YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    _, indent, offset = load_yaml_guess_indent(text)
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never fold a long URL
    if offset is None:  # no block sequence in the file yet: the layout of the shipped config
        indent, offset = 4, 2
    y.indent(mapping=2, sequence=max(indent or 0, offset + 2), offset=offset)
    return y


def append_sources(path: Path, entries: list[dict[str, Any]], comment: str | None = None) -> None:
    """Append ``entries`` (plain dicts of source settings) to ``sources:`` in the file at ``path``."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    from monitor.config import load_config

    text = path.read_text(encoding="utf-8")
    y = _yaml_for(text)
    doc = y.load(text)
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise ConfigError("the config file must be a mapping of sections", path=str(path))
    seq = doc.get("sources")
    if seq is None:
        seq = doc["sources"] = CommentedSeq()
    if not isinstance(seq, CommentedSeq):
        raise ConfigError("sources: must be a list", path=str(path))
    seq.fa.set_block_style()
    first = len(seq)
    for entry in entries:
        seq.append(CommentedMap(entry))
    if comment and entries:
        seq.yaml_set_comment_before_after_key(first, before=comment, indent=2)
    out = io.StringIO()
    y.dump(doc, out)
    new = out.getvalue()
    _check_only_added(text, new, path)
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(new)
        try:
            load_config(tmp)  # refuse to write a config the monitor would not start on
        except ConfigError as exc:
            raise ConfigError(
                f"not changed, the result would not load:\n{str(exc).replace(tmp, str(path))}"
            ) from None
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _check_only_added(old: str, new: str, path: Path) -> None:
    ops = difflib.SequenceMatcher(
        None, old.splitlines(), new.splitlines(), autojunk=False
    ).get_opcodes()
    if any(tag in ("replace", "delete") for tag, *_ in ops):
        raise ConfigError(
            "cannot add to this file without changing its other lines; add the sources by hand",
            path=str(path),
        )
