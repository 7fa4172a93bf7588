"""`monitor notify test` and `monitor silence …`, run through the real CLI."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from conftest import ROOT
from helpers_notify import ScriptedSmtp, free_port
from monitor.cli import cli


def _config(backend, urls):
    path = backend.folder / "config.yaml"
    path.write_text(
        f"storage: {json.dumps(backend.storage)}\n"
        "channels:\n"
        f"  email: {{urls: {json.dumps(urls)}, format: html}}\n"
        "routes:\n  - channels: [email]\n",
        encoding="utf-8",
    )
    return str(path)


def test_notify_test_reports_each_url(backend, tmp_path):
    smtp = ScriptedSmtp().start()
    try:
        dead = f"mailto://user:hunter2@127.0.0.1:{free_port()}?from=monitor@example.org&to=a@example.org&mode=insecure"
        config = _config(backend, [smtp.url(), dead])
        result = CliRunner().invoke(cli, ["--config", config, "notify", "test", "email"])
        assert result.exit_code == 1, result.output
        lines = result.stdout.splitlines()
        assert lines[0].startswith("ok      mailto://127.0.0.1:")
        assert (
            lines[1].startswith("FAILED  mailto://user:****@127.0.0.1:")
            and "cannot reach the SMTP server" in lines[1]
        )
        assert "hunter2" not in result.output
        assert len(smtp.messages) == 1 and smtp.messages[0]["Subject"].startswith(
            "[HIGH] Sample alert from signal monitor"
        )
    finally:
        smtp.stop()


def test_notify_test_unknown_channel(backend, tmp_path):
    result = CliRunner().invoke(
        cli, ["--config", _config(backend, ["json://localhost"]), "notify", "test", "nope"]
    )
    assert result.exit_code == 2 and "no channel named 'nope'" in result.output


def test_silence_add_list_remove(backend, tmp_path):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")  # a silence must name a loaded rule
    config = _config(backend, ["json://localhost"])
    run = CliRunner().invoke
    added = run(
        cli,
        [
            "--config",
            config,
            "silence",
            "add",
            "--rule",
            "detainees-release-return",
            "--for",
            "2d",
            "--comment",
            "talks ongoing",
            "--by",
            "anna",
        ],
    )
    assert added.exit_code == 0, added.output
    assert added.output.startswith("silence #1: rule detainees-release-return until ")
    listed = run(cli, ["--config", config, "silence", "list"])
    assert (
        "#1  rule=detainees-release-return" in listed.output
        and "by anna  — talks ongoing" in listed.output
    )
    as_json = json.loads(run(cli, ["--config", config, "silence", "list", "--json"]).output)
    assert as_json[0]["rule_id"] == "detainees-release-return" and as_json[0]["active"] is True
    assert run(cli, ["--config", config, "silence", "remove", "1"]).output == "silence #1 removed\n"
    assert run(cli, ["--config", config, "silence", "list"]).output == "no silence in force\n"
    missing = run(cli, ["--config", config, "silence", "remove", "1"])
    assert missing.exit_code == 1 and "no silence #1" in missing.output
    bad = run(
        cli,
        ["--config", config, "silence", "add", "--rule", "x", "--for", "soon", "--comment", "c"],
    )
    assert bad.exit_code == 2 and "--for" in bad.output
