#!/usr/bin/env python3
"""Set up and run signal monitor with nothing but Python 3.11+.

    python3 dev.py run      create .venv, install, run the daemon on config.yaml
    python3 dev.py once     the same, but poll every source once and exit
    python3 dev.py test     create .venv, install with test extras, run the whole test suite

Extra arguments go to the command: `python3 dev.py test -k rules -x`. The suite runs on one
worker per core, at most four (pytest-xdist); `-n 0` (or any `-n`/`--numprocesses` of your
own) overrides that, and `-p no:xdist` runs it in this one process.

After setting up, this process becomes the command (exec): `kill -TERM` of the launcher's
pid stops the daemon itself, and the daemon's exit status is the launcher's.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("MONITOR_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _stamp(extras: str) -> Path:
    return VENV / f".installed-{extras or 'base'}"


def _setup(extras: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"signal monitor needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print(f"creating {VENV} …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    # an install with the test extras holds everything the base install would
    for stamp in {_stamp(extras), _stamp("test")}:
        if stamp.exists() and stamp.read_text() == digest:
            return
    stamp = _stamp(extras)
    print("installing signal monitor and its dependencies …", flush=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True
    )
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "-q", "-e", target], cwd=ROOT, check=True
    )
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "run"
    rest = argv[1:]
    os.chdir(ROOT)
    if what in ("run", "once"):
        _setup("")
        cmd = [str(BIN / "monitor"), "run"] + (["--once"] if what == "once" else []) + rest
    elif what == "test":
        _setup("test")
        cmd = [str(BIN / "python"), "-m", "pytest"] + _workers(rest) + rest
    else:
        print(__doc__)
        return 2
    return _hand_over(cmd)


def _workers(rest: list[str]) -> list[str]:
    """pytest-xdist's options for the suite: a worker per core, at most four (beyond that the
    real servers and daemons the tests start contend more than they gain), work stolen by an
    idle worker so one long test does not hold the others up. Nothing when the caller chose."""
    chose = any(
        a in ("-n", "--numprocesses", "no:xdist") or a.startswith(("-n", "--numprocesses="))
        for a in rest
    )
    if chose:
        return []
    n = max(1, min(os.cpu_count() or 1, 4))
    return ["-n", str(n), "--dist", "worksteal"] if n > 1 else []


def _hand_over(cmd: list[str]) -> int:
    """Become ``cmd`` (same pid), so signals sent to the launcher reach it. Windows has no
    exec that keeps the pid: there the command runs as a child and its status is returned."""
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name != "nt":
        os.execv(cmd[0], cmd)
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
