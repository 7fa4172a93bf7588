"""Logging: JSON lines on request, levels, and never a secret: a password set in the
environment for a channel URL appears nowhere in what a run prints."""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path

import pytest

from conftest import free_port, monitor_cmd
from helpers_ops import MonitorProcess, daemon_config
from monitor.config import load_config
from monitor.logs import JsonFormatter, SecretFilter, config_secrets, private_url

SECRET = "Tr0ub4dor-s3cret-8841"


def _email_config(tmp_path: Path) -> Path:
    url = (
        f"mailto://alerts:${{SMTP_PASSWORD}}@127.0.0.1:{free_port()}"
        "?from=monitor@example.org&to=analyst@example.org&mode=insecure"
    )
    return daemon_config(
        tmp_path,
        channels={"email": {"urls": [url]}, "console": {"type": "console"}},
        routes=[{"channels": ["email", "console"]}],
    )


@pytest.mark.slow
def test_a_password_from_the_environment_never_appears_in_a_daemon_run(tmp_path: Path):
    cfg = _email_config(tmp_path)
    (tmp_path / "inbox" / "a.txt").write_text("Roads\nA zebra crossing opens on Main Street.\n")
    with MonitorProcess(
        tmp_path, cfg, env={"SMTP_PASSWORD": SECRET}, global_args=("--log-level", "DEBUG")
    ) as mon:
        channel = mon.wait_for(
            lambda r: str(r.get("message", "")).startswith("channel email: mailto://")
        )
        assert "alerts" in channel["message"] and SECRET not in channel["message"]
        failed = mon.wait_for(
            lambda r: r.get("level") == "warning" and "channel email" in str(r.get("message"))
        )
        assert (
            "127.0.0.1" in failed["message"]
        )  # the delivery failure is reported, with the URL masked
        assert mon.stop() == 0
    output = "".join(mon.raw) + "".join(mon.stdout)
    assert SECRET not in output
    for line in mon.raw:  # every stderr line is one JSON object
        assert isinstance(json.loads(line), dict), line
    levels = {json.loads(line)["level"] for line in mon.raw}
    assert "debug" in levels and "info" in levels

    # nor in what `monitor status` shows about that failure
    env = {"SMTP_PASSWORD": SECRET}
    status = subprocess.run(
        monitor_cmd("--config", str(cfg), "status", "--json", "--no-daemon"),
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    assert "127.0.0.1" in status.stdout and SECRET not in status.stdout + status.stderr


def test_run_once_plain_output_hides_the_password_too(tmp_path: Path):
    cfg = _email_config(tmp_path)
    (tmp_path / "inbox" / "a.txt").write_text("Roads\nA zebra crossing opens on Main Street.\n")
    done = subprocess.run(
        monitor_cmd("--config", str(cfg), "--log-level", "DEBUG", "run", "--once"),
        capture_output=True,
        text=True,
        env={**os.environ, "SMTP_PASSWORD": SECRET},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 hit(s)" in done.stderr
    assert SECRET not in done.stdout + done.stderr


def test_secret_filter_masks_message_arguments_extras_and_tracebacks():
    record_out: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            record_out.append(self.format(record))

    handler = Keep()
    handler.setFormatter(JsonFormatter())
    flt = SecretFilter()
    flt.secrets = (SECRET,)
    handler.addFilter(flt)
    logger = logging.getLogger("test.secrets")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("connecting with %s", f"mailto://u:{SECRET}@host", extra={"url": SECRET})
        try:
            raise RuntimeError(f"refused for {SECRET}")
        except RuntimeError:
            logger.exception("send failed")
    finally:
        logger.removeHandler(handler)
    assert len(record_out) == 2
    assert all(SECRET not in line for line in record_out)
    first, second = (json.loads(line) for line in record_out)
    assert first["message"] == "connecting with mailto://u:***@host" and first["url"] == "***"
    assert "refused for ***" in second["exc"]


def test_config_secrets_and_private_urls(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", SECRET)
    cfg = _email_config(tmp_path)
    text = cfg.read_text().replace(
        '"channels": {',
        '"channels": {"hook": {"urls": ["json://h.example.org/?token=lit3ral-tok3n"]}, ',
        1,
    )
    cfg.write_text(text)
    secrets = config_secrets(load_config(cfg))
    assert SECRET in secrets and "lit3ral-tok3n" in secrets
    shown = private_url(f"mailtos://alerts:{SECRET}@smtp.example.org:465?to=a@example.org")
    assert shown.startswith("mailtos://alerts:") and SECRET not in shown
