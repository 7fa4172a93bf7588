"""The systemd unit: systemd itself finds nothing to complain about, and the keys the
service depends on are there (checked by parsing when systemd-analyze is absent)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

UNIT = ROOT / "systemd" / "monitor.service"


def _parse(text: str) -> dict[str, dict[str, list[str]]]:
    """systemd's unit syntax: [Section], Key=Value, repeated keys accumulate, # and ; comments."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"line {n}: a key outside any section"
        assert "=" in line, f"line {n}: not Key=Value: {raw!r}"
        key, value = line.split("=", 1)
        assert key.strip() == key and key, f"line {n}: bad key {key!r}"
        current.setdefault(key, []).append(value.strip())
    return sections


def test_unit_has_the_keys_the_service_depends_on():
    unit = _parse(UNIT.read_text(encoding="utf-8"))
    service = unit["Service"]
    one = {k: v[-1] for k, v in service.items()}
    assert one["Type"] == "notify"
    assert one["Restart"] == "on-failure"
    assert one["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert "--config /etc/monitor/config.yaml" in one["ExecStart"] and one["ExecStart"].endswith(
        " run"
    )
    assert int(one["WatchdogSec"].rstrip("s")) >= 30
    assert int(one["TimeoutStopSec"].rstrip("s")) > 30  # above the default daemon.stop_timeout
    assert one["DynamicUser"] == "yes"
    assert one["StateDirectory"] == "monitor" and one["ConfigurationDirectory"] == "monitor"
    assert one["EnvironmentFile"].lstrip("-") == "/etc/monitor/monitor.env"
    for key, value in {
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    }.items():
        assert one[key] == value, key
    assert "@system-service" in service["SystemCallFilter"]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]
    assert "network-online.target" in unit["Unit"]["After"][0]


def test_env_example_names_the_variables_the_default_config_uses():
    example = (ROOT / "systemd" / "monitor.env.example").read_text(encoding="utf-8")
    config = (ROOT / "config.yaml").read_text(encoding="utf-8")
    for name in ("SMTP_USER", "SMTP_PASSWORD", "ALERT_TO", "SLACK_WEBHOOK_TOKENS"):
        assert "${" + name + "}" in config and name + "=" in example, name


@pytest.mark.skipif(
    not shutil.which("systemd-analyze"),
    reason="systemd-analyze not installed (apt-get install systemd)",
)
def test_systemd_analyze_verify_reports_nothing(tmp_path: Path):
    # point ExecStart at this checkout's console script, so verify can check it is executable
    script = Path(sys.executable).with_name("monitor")
    assert script.exists()
    unit = tmp_path / "monitor.service"
    unit.write_text(
        UNIT.read_text(encoding="utf-8").replace("/opt/signal-monitor/bin/monitor", str(script))
    )
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", (
        done.stderr
    )  # warnings (unknown keys, bad values) go to stderr
    # and the check itself is not blind: a misspelt key is reported
    bad = tmp_path / "bad.service"
    bad.write_text(unit.read_text().replace("ProtectHome=yes", "ProtectHomme=yes"))
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(bad)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert "ProtectHomme" in done.stderr


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_security_exposure_is_low(tmp_path: Path):
    unit = tmp_path / "monitor.service"
    unit.write_text(UNIT.read_text(encoding="utf-8"))
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--threshold=30", str(unit)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    if "--offline" in done.stderr and "unrecognized" in done.stderr:
        pytest.skip("this systemd-analyze has no --offline")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert (
        "Overall exposure level for monitor.service: 1." in done.stdout
        or "Overall exposure level for monitor.service: 0." in done.stdout
    ), done.stdout[-300:]
