"""The package passes pyflakes' checks (through ruff): no unused imports, no undefined names;
and the code is as ruff's formatter writes it."""

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
def test_the_package_has_no_pyflakes_findings():
    done = subprocess.run(
        [_ruff(), "check", "--no-cache", "--select", "F", "monitor", "benchmarks", "dev.py"],
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
