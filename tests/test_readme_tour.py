"""The README's five-minute tour, run as a script on a fresh copy of the repository.

Every command line of the tour's ``sh`` blocks is run, in order, with the venv's monitor,
in a network namespace of its own (loopback only: the tour's news feeds and example.org
fail as they would offline, and nothing outside this machine is contacted). The ``yaml``
blocks are added to the copy's config.yaml as the tour says. Each command has its expected
outcome below; a tour line without one fails the test, so the tour and this test change
together.
"""

from __future__ import annotations

import hashlib

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import ROOT
from test_package import fresh_copy

# (a piece of the command, exit status, what the output holds); the first that fits is used
EXPECT: list[tuple[str, int, list[str]]] = [
    (
        "python3 dev.py once",
        0,
        ["polled 6 source(s):", "hit(s)", "5 source(s) failed (will be retried)"],
    ),
    ("monitor hits show 1", 0, ["file:///", "Rule"]),
    ("monitor hits --search", 0, ["seeds"]),
    ("monitor hits dismiss 2", 0, ["dismissed (false-positive) 1 hit: 2"]),
    (
        "monitor hits export",
        0,
        ['"status_comment": "not about the detainees"', '"history": [{"action": "dismiss"'],
    ),
    ("monitor hits", 0, ["seeds", "ID"]),
    ("monitor rules test -", 0, ["1 rule fires", "detainees-release-agreed"]),
    ("monitor rules check", 0, ["ok: "]),
    ("monitor config check", 0, ["config.yaml: OK"]),
    ("monitor sources test https://example.org/rss.xml", 1, ["cannot resolve example.org"]),
    ("monitor sources", 0, ["my-feed", "seeds"]),
    (
        "monitor notify test email",
        1,
        ["FAILED  mailtos://****:****@smtp.example.org:465", "cannot reach the SMTP server"],
    ),
]
SECRETS = ("app-password",)


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    done = subprocess.run(["unshare", "--net", "--map-root-user", "true"], capture_output=True)
    return done.returncode == 0


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not _unshare_works(), reason="needs `unshare --net` to run the tour offline"
    ),
]


def _offline(script: str) -> list[str]:
    """Run a shell script in a new network namespace with only loopback up."""
    return [
        "unshare",
        "--net",
        "--map-root-user",
        "sh",
        "-c",
        'ip link set lo up 2>/dev/null; exec sh -c "$1"',
        "tour",
        script,
    ]


def tour_steps(readme: str) -> list[tuple[str, str]]:
    """``(kind, text)`` in order: ``("sh", one command)`` or ``("yaml", a block)``."""
    tour = readme.split("## Five-minute tour", 1)[1].split("\n## ", 1)[0]
    steps = []
    for kind, body in re.findall(r"```(sh|yaml)\n(.*?)```", tour, re.DOTALL):
        if kind == "yaml":
            steps.append(("yaml", body))
            continue
        for line in body.splitlines():
            command = re.split(r"\s{2,}#", line, maxsplit=1)[0].strip()
            if command:
                steps.append(("sh", command))
    return steps


def _add_yaml(config: Path, block: str) -> None:
    y = YAML(typ="rt")
    y.indent(mapping=2, sequence=4, offset=2)
    doc = y.load(config.read_text(encoding="utf-8"))
    new = y.load(textwrap.dedent(block))
    if isinstance(new, list):  # sources to append
        doc["sources"].extend(new)
    else:  # channels to add, routes to use
        for name, channel in new.get("channels", {}).items():
            doc["channels"][name] = channel
        if "routes" in new:
            doc["routes"] = new["routes"]
    with config.open("w", encoding="utf-8") as fh:
        y.dump(doc, fh)


def _expected(command: str) -> tuple[int, list[str]]:
    for piece, code, words in EXPECT:
        if piece in command:
            return code, words
    raise AssertionError(f"the tour has a command this test does not know: {command!r}")


def _web(command: str, cwd: Path, env: dict[str, str]) -> None:
    """Start the page, fetch it from inside the same namespace, stop it."""
    fetch = (
        f"{shlex.quote(sys.executable)} -c 'import time, urllib.request\n"
        "for _ in range(100):\n"
        "    try:\n"
        '        page = urllib.request.urlopen("http://127.0.0.1:8080/", timeout=2).read().decode()\n'
        "        break\n"
        "    except OSError:\n"
        "        time.sleep(0.2)\n"
        'print("status", len(page), "seeds" in page)\''
    )
    script = f"{command} & pid=$!; {fetch}; kill -TERM $pid; wait $pid"
    done = subprocess.run(
        _offline(script), cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert re.search(r"^status \d+ True$", done.stdout, re.M), done.stdout + done.stderr


def _daemon(command: str, cwd: Path, env: dict[str, str]) -> None:
    """Start the daemon as the tour does, see it run, stop it as Ctrl-C does."""
    proc = subprocess.Popen(
        _offline(f"exec {command}"),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        seen, deadline = [], time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "monitor running" in line:
                break
        assert any("monitor running" in s for s in seen), "".join(seen)
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "stopped" in rest, rest
        assert not any(s in "".join(seen) + rest for s in SECRETS)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _venv_installed_by_dev_py() -> bool:
    """Whether dev.py installed this venv for this pyproject.toml: the tour's ``dev.py``
    steps then use it as it is. Otherwise they would reinstall it, editable, from the
    temporary copy, and every later test would import a package that is gone."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamps = [Path(sys.prefix) / ".installed-test", Path(sys.prefix) / ".installed-base"]
    return any(st.exists() and st.read_text() == digest for st in stamps)


@pytest.mark.skipif(
    not _venv_installed_by_dev_py(),
    reason="this venv was not set up by `python3 dev.py test` for the current pyproject.toml",
)
def test_the_readme_tour_runs_step_by_step(tmp_path):
    copy = fresh_copy(tmp_path / "repo")
    (copy / ".venv").symlink_to(Path(sys.prefix))  # the tour's .venv: the one this test runs in
    steps = tour_steps((copy / "README.md").read_text(encoding="utf-8"))
    assert [k for k, _ in steps].count("yaml") == 2 and len(steps) >= 14
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MONITOR_", "SMTP_", "SLACK_", "ALERT_"))
    }
    env["COLUMNS"] = "160"
    ran = []
    for kind, text in steps:
        if kind == "yaml":
            _add_yaml(copy / "config.yaml", text)
            continue
        if text.startswith("export "):
            env.update(dict(word.split("=", 1) for word in shlex.split(text)[1:]))
            continue
        if text.endswith(" web"):
            _web(text, copy, env)
        elif text == "python3 dev.py run":
            _daemon(text, copy, env)
        else:
            code, words = _expected(text)
            done = subprocess.run(
                _offline(text), cwd=copy, env=env, capture_output=True, text=True, timeout=300
            )
            output = done.stdout + done.stderr
            assert done.returncode == code, f"{text}: exit {done.returncode}\n{output}"
            for word in words:
                assert word in output, f"{text}: {word!r} not in\n{output}"
            assert "Traceback" not in output and not any(s in output for s in SECRETS), output
        ran.append(text)
    assert any("dev.py once" in r for r in ran) and any(r == "python3 dev.py run" for r in ran)
    assert not (ROOT / "data" / "tour").exists()
