"""The conventions people expect of a command: --version, shell completion from click."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import __version__

MONITOR = Path(sys.executable).parent / "monitor"


def test_version():
    done = subprocess.run([str(MONITOR), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"monitor, version {__version__}"


@pytest.mark.parametrize(
    "shell,marker",
    [
        ("bash", "complete -o nosort -F _monitor_completion monitor"),
        ("zsh", "compdef _monitor_completion monitor"),
    ],
)
def test_completion_script(shell, marker):
    done = subprocess.run(
        [str(MONITOR), "completion", shell], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert marker in done.stdout and "_MONITOR_COMPLETE" in done.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash on this machine")
def test_bash_completes_commands_and_choices():
    script = (
        'eval "$(monitor completion bash)"\n'
        'COMPREPLY=(); COMP_WORDS=(monitor hi); COMP_CWORD=1; _monitor_completion monitor; echo "${COMPREPLY[*]}"\n'
        'COMPREPLY=(); COMP_WORDS=(monitor hits --severity cr); COMP_CWORD=3; _monitor_completion monitor; echo "${COMPREPLY[*]}"\n'
        "COMPREPLY=(); COMP_WORDS=(monitor sources ''); COMP_CWORD=2; _monitor_completion monitor; echo \"${COMPREPLY[*]}\"\n"
    )
    env = {"PATH": f"{MONITOR.parent}:/usr/bin:/bin", "HOME": "/nonexistent"}
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "hits" and lines[1] == "critical"
    assert {"enable", "test", "import", "export"} <= set(lines[2].split())
