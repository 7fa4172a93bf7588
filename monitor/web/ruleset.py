"""Rule files as the web app edits them: which files may be edited, a candidate text
checked exactly as ``monitor rules check`` checks the folder it would land in, an atomic
save that a broken text never reaches, and the records the API shares with the CLI.

A candidate is checked by loading a private copy of every rule file with the candidate in
its place (so vocabularies and duplicate ids across files count), through the same public
loader (``monitor.rules.load_rule_set`` and ``check_examples``); the copies' names are
mapped back, so each problem reads ``rules/x.yaml:12:7: …`` as the CLI prints it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.models import Item

if TYPE_CHECKING:
    from monitor.rules import Rule
    from monitor.store import Store

MAX_RULE_FILE_BYTES = 1024 * 1024
MAX_CHANGES = 1000  # changed items listed by a backtest (all are counted)


class RefusedSave(Exception):
    def __init__(self, problems: list[dict[str, Any]]):
        self.problems = problems
        super().__init__("\n".join(p["text"] for p in problems))


@dataclass(frozen=True)
class Checked:
    rule_set: Any
    problems: list[
        dict[str, Any]
    ]  # {"text": "file:line:col: message", "path", "line", "column", "message"}


def rule_files(paths: list[Path]) -> list[Path]:
    from monitor.rules import rule_files as found

    return found(paths)[0]


def editable(paths: list[Path], name: str) -> Path:
    """The rule file ``name`` (relative to a rules folder, or one of the rule files): a YAML
    file inside the configured rule paths, existing or new; ValueError otherwise."""
    if (
        not name
        or "\x00" in name
        or "\\" in name
        or name.startswith("/")
        or ".." in Path(name).parts
    ):
        raise ValueError(f"{name!r} is not a rule file name")
    if Path(name).suffix not in (".yaml", ".yml") or any(
        p.startswith(".") for p in Path(name).parts
    ):
        raise ValueError(f"{name!r}: a rule file is a .yaml file")
    for f in rule_files(paths):
        if label(paths, f) == name:
            return f
    folders = [p for p in paths if p.is_dir()]
    if not folders:
        raise ValueError("there is no rules folder to put a new file in")
    target = folders[0] / name
    if folders[0].resolve() not in target.resolve().parents:
        raise ValueError(f"{name!r} is outside the rules folder")
    return target


def label(paths: list[Path], f: Path) -> str:
    """A rule file's name as the API shows it: relative to its rules folder."""
    for p in paths:
        if p.is_dir():
            try:
                return f.resolve().relative_to(p.resolve()).as_posix()
            except ValueError:
                continue
    return f.name


def check(paths: list[Path], target: Path | None = None, text: str | None = None) -> Checked:
    """Every problem ``monitor rules check`` would print if ``target`` held ``text``."""
    from monitor.rules import check_examples, load_rule_set

    if text is not None and len(text.encode("utf-8")) > MAX_RULE_FILE_BYTES:
        raise ValueError(f"a rule file is at most {MAX_RULE_FILE_BYTES // 1024} KiB")
    files = rule_files(paths)
    if target is not None and all(f.resolve() != target.resolve() for f in files):
        files.append(target)
    with tempfile.TemporaryDirectory(prefix="monitor-rules-") as tmp:
        back: dict[str, str] = {}
        copies = []
        for i, f in enumerate(files):
            copy = Path(tmp) / f"{i:04d}-{f.name}"
            if target is not None and text is not None and f.resolve() == target.resolve():
                copy.write_text(text, encoding="utf-8")
            else:
                shutil.copyfile(f, copy)
            back[str(copy)] = str(f)
            copies.append(copy)
        rule_set, errors = load_rule_set(copies)
        problems = errors + check_examples(rule_set.rules)

        def real(s: str) -> str:
            for copy, original in back.items():
                s = s.replace(copy, original)
            return s

        out = [
            {
                "text": real(str(e)),
                "path": real(str(e.path)) if e.path else None,
                "line": e.line,
                "column": e.column,
                "message": real(e.message),
            }
            for e in problems
        ]
    return Checked(rule_set, out)


def save(paths: list[Path], target: Path, text: str) -> Checked:
    """Write ``text`` to ``target`` atomically, only if the rules then check clean."""
    checked = check(paths, target, text)
    if checked.problems:
        raise RefusedSave(checked.problems)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + target.name + ".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return checked


def try_text(
    rules: list[Rule], text: str, title: str = "", language: str | None = None
) -> list[dict[str, Any]]:
    from monitor.matching import Matcher

    status = {r.id: r.status for r in rules}
    item = Item(source="web", key="try", title=title, text=text, language=language)
    return [m.record(status[m.rule_id]) for m in Matcher(rules).match(item)]


def backtest(
    store: Store, rules: list[Rule], since: datetime, only: set[str] | None = None
) -> dict[str, Any]:
    """What ``monitor rules backtest --json`` reports, over items fetched since ``since``."""
    from monitor.backtest import backtest as replay
    from monitor.backtest import backtest_record
    from monitor.matching import Matcher

    return backtest_record(replay(store.backtest_items(since), Matcher(rules), only), MAX_CHANGES)
