"""Every YAML block in the README and docs/ loads: config sections through the config's own
models, rule files through the rule loader (their examples hold), a list as ``sources:``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from conftest import ROOT
from monitor.config import Config, env_names
from monitor.rules import load_rule_set
from monitor.rules.examples import check_examples
from monitor.yamlfile import load_yaml_text

FENCE = re.compile(r"^```ya?ml\n(.*?)^```", re.MULTILINE | re.DOTALL)
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def yaml_blocks() -> list[tuple[str, int, str]]:
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            found.append((path.relative_to(ROOT).as_posix(), line, m.group(1)))
    return found


BLOCKS = yaml_blocks()


def test_the_docs_have_yaml_blocks():
    assert len(BLOCKS) >= 10
    assert {where for where, _, _ in BLOCKS} >= {"README.md", "docs/alerts.md", "docs/rules.md"}


def _section_problems(data: dict[str, Any]) -> list[str]:
    problems = []
    for key, value in data.items():
        field = Config.model_fields.get(key)
        if field is None or key in ("path", "base_dir"):
            problems.append(f"{key!r} is not a section of config.yaml")
            continue
        try:
            TypeAdapter(field.annotation).validate_python(value)
        except ValidationError as exc:
            problems.append(f"{key}: {exc}")
    return problems


@pytest.mark.parametrize("where,line,block", BLOCKS, ids=[f"{w}:{n}" for w, n, _ in BLOCKS])
def test_every_yaml_block_in_the_docs_loads(
    where: str, line: int, block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    for name in env_names(block):  # set, as the docs tell the reader to
        monkeypatch.setenv(name, "example")
    data = load_yaml_text(block, f"{where}:{line}").data
    if isinstance(data, list):  # a list of sources, shown under `sources:`
        assert _section_problems({"sources": data}) == []
    elif isinstance(data, dict) and ({"rules", "vocabularies"} & data.keys()):
        rule_file = tmp_path / "rules" / "example.yaml"
        rule_file.parent.mkdir()
        rule_file.write_text(block, encoding="utf-8")
        rule_set, errors = load_rule_set([rule_file.parent])
        assert [str(e) for e in errors] == []
        assert [str(e) for e in check_examples(rule_set.rules)] == []
        assert len(rule_set.rules) == len(data.get("rules") or [])
    else:
        assert isinstance(data, dict) and data, f"{where}:{line}: not a mapping of sections"
        assert _section_problems(data) == []
