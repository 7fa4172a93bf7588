"""The package: a wheel built from a fresh copy installs into a fresh venv and runs there
(--version, rules check on the shipped rules, run --once on the seeds); the Dockerfile
describes a non-root image whose data folder is a volume and whose health check is
`monitor status` (checked as text: no container engine runs in the test)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import ROOT

SKIP = shutil.ignore_patterns(
    ".git",
    ".venv",
    "data",
    "build",
    "dist",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".ruff_cache",
)


def fresh_copy(dest: Path) -> Path:
    """The repository as a clone would have it: no venv, no database, no build output."""
    shutil.copytree(ROOT, dest, ignore=SKIP, symlinks=True)
    return dest


def _run(cmd, cwd, timeout=300, **kw):
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout, **kw
    )
    assert done.returncode == 0, f"{cmd}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
# pip builds a wheel and a venv: minutes on a busy machine, bounded by _run's own timeouts
@pytest.mark.timeout(900)
def test_the_wheel_installs_and_runs_from_a_fresh_venv(tmp_path):
    src = fresh_copy(tmp_path / "src")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--wheel-dir",
            tmp_path / "wheels",
            src,
        ],
        tmp_path,
    )
    (wheel,) = (tmp_path / "wheels").glob("signal_monitor-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    _run([bin_dir / "python", "-m", "pip", "install", "-q", wheel], tmp_path, timeout=600)
    monitor = bin_dir / "monitor"

    version = _run([monitor, "--version"], tmp_path).stdout.strip()
    assert re.fullmatch(r"monitor, version \d+\.\d+\.\d+", version)
    where = _run(
        [bin_dir / "python", "-c", "import monitor; print(monitor.__file__)"], tmp_path
    ).stdout.strip()
    assert where.startswith(str(env_dir)), where  # the installed copy, not this checkout

    site = tmp_path / "site"
    _run([monitor, "init", site], tmp_path)
    assert sorted(p.name for p in (site / "rules").iterdir()) == sorted(
        p.name for p in (ROOT / "rules").iterdir()
    )
    checked = _run([monitor, "rules", "check"], site)
    assert re.search(r"^ok: [1-9]\d* rules .* 0 disabled", checked.stdout + checked.stderr, re.M)
    # the shipped config polls news feeds too; here only the seeds beside it (no outside network)
    (site / "config.yaml").write_text(
        "storage: {path: data/monitor.db}\nrules: {paths: [rules]}\n"
        "sources:\n  - {name: seeds, kind: folder, path: seeds}\n"
        "channels: {console: {type: console}}\nroutes: [{channels: [console]}]\n",
        encoding="utf-8",
    )
    once = _run([monitor, "run", "--once"], site)
    hits = json.loads(_run([monitor, "hits", "--json"], site).stdout)
    # the hit log lists each item once, naming every rule that fired on it
    assert hits and f"{sum(len(h['rules']) for h in hits)} hit(s)" in once.stderr
    assert all(h["source"] == "seeds" and h["url"].startswith("file://") for h in hits)
    kept = _run([monitor, "init", site], tmp_path).stdout
    assert "kept" in kept and "wrote" not in kept  # init never overwrites


def _instructions(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_non_root_volume_and_health_check():
    steps = _instructions((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    final = steps[max(i for i, (w, _) in enumerate(steps) if w == "FROM") :]
    users = [arg for w, arg in final if w == "USER"]
    assert users and users[-1] not in ("root", "0")
    health = [arg for w, arg in final if w == "HEALTHCHECK"]
    assert len(health) == 1 and re.search(r'CMD \["monitor", "status"\]', health[0])
    volumes = [json.loads(arg) for w, arg in final if w == "VOLUME"]
    workdir = [arg for w, arg in final if w == "WORKDIR"][-1]
    # the volume is where the shipped config keeps its database
    from monitor.config import load_config

    storage = load_config(ROOT / "config.yaml").storage.path
    assert [f"{workdir}/{storage.parent}"] in volumes
    cmd = [json.loads(arg) for w, arg in final if w == "CMD"][-1]
    assert cmd == ["monitor", "run"]  # exec form: the daemon is PID 1 and gets SIGTERM
    run = " ".join(arg for w, arg in final if w == "RUN")
    assert (
        "monitor init /srv/monitor" in run
        and f"chown {users[-1]}:{users[-1]} {workdir}/data" in run
    )
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".git", "data"} <= set(ignored)
