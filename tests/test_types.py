"""The modules listed here pass ``mypy --strict`` (imports of other modules followed silently)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

STRICT_CLEAN = [
    "monitor/matching",
    "monitor/rules",
    "monitor/process.py",
    "monitor/text.py",
    "monitor/derive.py",
]


@pytest.mark.slow
def test_the_listed_modules_pass_mypy_strict():
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[test]')")
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                           "--no-incremental", *STRICT_CLEAN],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
