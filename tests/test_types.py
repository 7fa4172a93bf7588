"""``mypy --strict`` passes on the modules listed in pyproject.toml's [tool.mypy] files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT


def _mypy() -> str | None:
    local = Path(sys.executable).parent / "mypy"
    return str(local) if local.exists() else None


@pytest.mark.skipif(_mypy() is None, reason="mypy is not installed (pip install -e '.[test]')")
def test_the_listed_modules_pass_mypy_strict():
    done = subprocess.run(
        [_mypy(), "--no-incremental"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout
