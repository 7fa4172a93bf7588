"""The code passes ruff's checks (the rule set in pyproject.toml: pyflakes, bugbear,
simplifications, comprehensions …) and is as ruff's formatter writes it; fixtures live in
conftest.py, never in a helper module a test imports."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT


def _ruff() -> str | None:
    local = Path(sys.executable).parent / "ruff"
    return str(local) if local.exists() else shutil.which("ruff")


@pytest.mark.skipif(_ruff() is None, reason="ruff is not installed (pip install -e '.[test]')")
def test_the_code_has_no_ruff_findings():
    done = subprocess.run(
        [_ruff(), "check", "--no-cache", "monitor", "tests", "benchmarks", "dev.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(_ruff() is None, reason="ruff is not installed (pip install -e '.[test]')")
def test_the_code_is_formatted():
    done = subprocess.run(
        [_ruff(), "format", "--check", "--no-cache", "monitor", "tests", "benchmarks", "dev.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, (
        "run `ruff format monitor tests benchmarks dev.py`:\n" + done.stdout + done.stderr
    )


def test_fixtures_are_defined_in_conftest_not_in_helper_modules():
    tests = ROOT / "tests"
    helpers = [
        p for p in tests.rglob("*.py") if p.name != "conftest.py" and not p.name.startswith("test_")
    ]
    assert any(p.name == "helpers_sources.py" for p in helpers)
    offenders = [
        p.relative_to(ROOT).as_posix()
        for p in helpers
        if "@pytest.fixture" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []
