"""`python3 dev.py run` becomes the daemon: a SIGTERM sent to the launcher stops the daemon."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from helpers_ops import daemon_config

VENV = Path(sys.prefix)


def _venv_is_set_up() -> bool:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamps = [VENV / ".installed-test", VENV / ".installed-base"]
    return any(s.exists() and s.read_text() == digest for s in stamps)


@pytest.mark.skipif(os.name == "nt", reason="exec keeps the pid only on POSIX")
@pytest.mark.skipif(
    not _venv_is_set_up(), reason="the test venv was not set up by dev.py (no install stamp)"
)
def test_sigterm_to_the_launcher_stops_the_daemon(tmp_path):
    config = daemon_config(tmp_path)
    env = {**os.environ, "MONITOR_VENV": str(VENV), "MONITOR_CONFIG": str(config)}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "dev.py"), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        lines: list[str] = []
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "monitor running" in line:
                break
        assert any("monitor running" in ln for ln in lines), "".join(lines)
        # the launcher's pid is now the daemon itself: no child process was left behind it
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert any(part.endswith(b"monitor") for part in cmdline), cmdline
        assert b"run" in cmdline
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        if children.exists():
            assert children.read_text().strip() == ""
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, rest
        assert "stopped" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
