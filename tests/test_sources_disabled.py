"""A disabled source comes back: after a config change that removes the cause, or by hand;
start-up and `run --once` say which sources are disabled and why."""

from __future__ import annotations

import json
import logging

from click.testing import CliRunner

from helpers_sources import rss, story_items
from monitor.cli import cli
from monitor.daemon import Daemon
from monitor.pipeline import Runtime, open_store, recover, run_source
from yaml_helpers import write_config

RULE = """- id: zebra
  title: Zebra crossings
  severity: low
  match:
    any: [zebra]
"""


def _config(folder, url, allow_private: bool):
    (folder / "rules").mkdir(exist_ok=True)
    (folder / "rules" / "zebra.yaml").write_text(RULE, encoding="utf-8")
    return write_config(
        folder,
        sources=[{"name": "intranet", "kind": "feed", "url": url}],
        channels={"console": {"type": "console"}},
        routes=[{"channels": ["console"]}],
        http={"allow_private_networks": allow_private},
    )


def _poll(config_path):
    runtime = Runtime.load(config_path)
    with open_store(runtime.config) as store:
        recover(runtime, store)
        report = run_source(runtime, store, runtime.config.source("intranet"))
        row = store.source_row("intranet")
    return report, row


def cli_run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_allowing_private_networks_enables_a_source_disabled_for_a_private_address(
    server, tmp_path
):
    server.expect_request("/feed").respond_with_data(rss(story_items(2)))
    url = server.url_for("/feed")
    config = _config(tmp_path, url, allow_private=False)
    report, row = _poll(config)
    assert not report.ok and "allow_private_networks" in row.disabled_reason
    again, row = _poll(config)  # nothing changed: still disabled, not fetched
    assert again.error.startswith("disabled:") and len(server.log) == 0

    _config(tmp_path, url, allow_private=True)  # the fix: the restart (or reload) enables it
    fixed, row = _poll(config)
    assert fixed.ok and fixed.new_items == 2, fixed
    assert row.disabled_reason is None and row.consecutive_failures == 0
    assert len(server.log) == 1


def test_a_change_that_does_not_touch_the_fetch_leaves_it_disabled(tmp_path):
    config = _config(tmp_path, "http://127.0.0.1:9/feed", allow_private=False)
    _poll(config)
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace('"storage"', '"scheduler": {"failure_threshold": 3}, "storage"'),
        encoding="utf-8",
    )
    report, row = _poll(config)
    assert report.error.startswith("disabled:") and row.disabled_reason


def test_sources_enable_by_hand_and_run_once_summary(tmp_path):
    config = _config(tmp_path, "http://127.0.0.1:9/feed", allow_private=False)
    first = cli_run("--config", str(config), "run", "--once")
    assert "source intranet is disabled: " in first.stderr
    assert (
        "1 disabled (fix the cause in the config, or `monitor sources enable NAME`)" in first.stderr
    )
    assert "will be retried" not in first.stderr
    listing = json.loads(cli_run("--config", str(config), "sources", "--json").stdout)
    assert listing[0]["disabled_reason"]

    typo = CliRunner().invoke(cli, ["--config", str(config), "sources", "enable", "intranett"])
    assert (
        typo.exit_code == 1
        and "no source named 'intranett' (did you mean 'intranet'?)" in typo.output
    )
    done = cli_run("--config", str(config), "sources", "enable", "intranet")
    assert done.exit_code == 0 and "intranet: enabled (it was disabled: " in done.stdout
    with open_store(Runtime.load(config).config) as store:
        row = store.source_row("intranet")
    assert row.disabled_reason is None and row.next_poll_at is None
    assert (
        "intranet: not disabled"
        in cli_run("--config", str(config), "sources", "enable", "intranet").stdout
    )


def test_daemon_start_lists_disabled_sources_with_the_reason(tmp_path, caplog):
    config = _config(tmp_path, "http://127.0.0.1:9/feed", allow_private=False)
    _poll(config)
    daemon = Daemon(config, Runtime.load(config))
    with caplog.at_level(logging.WARNING, logger="monitor.daemon"):
        daemon.start()
        try:
            lines = [r.getMessage() for r in caplog.records if r.name == "monitor.daemon"]
        finally:
            daemon.stop()
    assert any(
        line.startswith("source intranet is disabled: ")
        and "monitor sources enable intranet" in line
        for line in lines
    ), lines
