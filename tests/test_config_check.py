"""`monitor config check` and config errors: every problem in one pass, each at its own
file:line:col, in plain words, with "did you mean …?"."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from helpers_sources import rss, story_items
from monitor.cli import cli
from monitor.config import load_config
from monitor.errors import ConfigError

BROKEN = """\
storage:
  path: data/monitor.db
  retension: 90d
sources:
  - name: seeds
    kind: foldr
    path: seeds
  - name: wire
    kind: feed
    url: https://example.org/rss
    intervl: 10m
channels:
  email:
    urls: ["mailtos://alerts:hunter2@smtp.example.org:465?to=a@example.org", "slak://T000/B000/XXXX"]
routes:
  - channels: [emial]
    min_severity: hgih
  - channels: [email]
    rules: [detainees-release-retrun]
    sources: [wires]
notify:
  operations_channel: console
"""

EXPECTED = [
    "config.yaml:3:3: storage.retension: unknown key 'retension' (did you mean 'retention'?)",
    "config.yaml:6:5: sources[0].kind: 'foldr' is not one of feed, page or folder (did you mean 'folder'?)",
    "config.yaml:11:5: sources[1].intervl: unknown key 'intervl' (did you mean 'interval'?)",
    "config.yaml:14:78: channels.email.urls[1]: apprise has no slak:// service: slak://(unparsable URL hidden)",
    "config.yaml:16:16: routes[0].channels[0]: no channel named 'emial' (did you mean 'email'?)",
    "config.yaml:17:5: routes[0].min_severity: 'hgih' is not one of info, low, medium, high or critical "
    "(did you mean 'high'?)",
    "config.yaml:20:15: routes[1].sources[0]: no source named 'wires' (did you mean 'wire'?)",
    "config.yaml:22:3: notify.operations_channel: no channel named 'console'",
]


def check(project, *args):
    return CliRunner().invoke(
        cli, ["--config", str(project / "config.yaml"), "config", "check", *args]
    )


def test_every_config_problem_in_one_run_at_its_own_place(project):
    (project / "config.yaml").write_text(BROKEN, encoding="utf-8")
    result = check(project)
    assert result.exit_code == 1
    lines = [
        ln.replace(str(project) + "/", "")
        for ln in result.stdout.splitlines()
        if not ln.startswith("checked")
    ]
    assert lines == EXPECTED
    assert "Value error" not in result.output and "Input should" not in result.output
    assert "hunter2" not in result.output
    assert "8 problem(s)" in result.stderr


def test_route_rule_ids_are_checked_against_the_loaded_rules(project):
    text = BROKEN
    for broken, fixed in (
        ("  retension: 90d\n", ""),
        ("foldr", "folder"),
        ("    intervl: 10m\n", ""),
        (', "slak://T000/B000/XXXX"', ""),
        ("emial", "email"),
        ("hgih", "high"),
        ("[wires]", "[wire]"),
        ("console", "email"),
    ):
        text = text.replace(broken, fixed)
    (project / "config.yaml").write_text(text, encoding="utf-8")
    result = check(project)
    assert result.exit_code == 1
    problems = [ln for ln in result.stdout.splitlines() if not ln.startswith("checked")]
    assert problems == [
        f"{project}/config.yaml:17:13: routes[1].rules[0]: no rule 'detainees-release-retrun' "
        "(did you mean 'detainees-release-return'?)"
    ]


def test_the_shipped_config_is_ok(project):
    result = check(project)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].endswith("config.yaml: OK")
    assert "checked  " in result.stdout and "rule(s) in " in result.stdout


def test_online_reads_every_source_once(project, server):
    server.expect_request("/good").respond_with_data(rss(story_items(3)))
    server.expect_request("/gone").respond_with_data("gone", status=404)
    (project / "config.yaml").write_text(
        "http: {allow_private_networks: true, timeout: 5s}\n"
        "sources:\n"
        "  - {name: seeds, kind: folder, path: seeds}\n"
        f"  - {{name: good, kind: feed, url: '{server.url_for('/good')}'}}\n"
        f"  - {{name: gone, kind: feed, url: '{server.url_for('/gone')}'}}\n"
        "channels: {console: {type: console}}\nroutes: [{channels: [console]}]\n",
        encoding="utf-8",
    )
    offline = check(project)
    assert offline.exit_code == 0 and len(server.log) == 0
    online = check(project, "--online")
    assert online.exit_code == 1
    assert "checked  source good: read, 3 item(s)" in online.stdout
    assert "checked  source seeds: read, 3 item(s)" in online.stdout
    (problem,) = [ln for ln in online.stdout.splitlines() if not ln.startswith("checked")]
    assert (
        problem.startswith(f"{project}/config.yaml:5:5: sources[2] (gone): cannot be read: ")
        and "404" in problem
    )


def test_load_config_reports_an_undefined_route_channel_at_its_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        "channels:\n  console: {type: console}\nroutes:\n  - min_severity: high\n"
        "    channels: [console, slack]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}:5:25: routes[0].channels[1]: no channel named 'slack'"


def test_run_refuses_to_start_on_a_url_apprise_does_not_understand(project):
    text = (project / "config.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  console:                       # prints",
        "  pager:\n    urls: ['pagr://x']\n  console:                       # prints",
    )
    (project / "config.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(project / "config.yaml"), "run", "--once"])
    assert result.exit_code == 2
    assert "channels.pager.urls[0]: apprise has no pagr:// service" in result.output
    assert not (project / "data" / "monitor.db").exists()


def test_reload_refuses_a_url_apprise_does_not_understand(project):
    from monitor.daemon import Daemon
    from monitor.pipeline import Runtime

    config = project / "config.yaml"
    daemon = Daemon(config, Runtime.load(config))
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(
            "  console:                       # prints",
            "  pager:\n    urls: ['pagr://x']\n  console:                       # prints",
        ),
        encoding="utf-8",
    )
    try:
        assert daemon.reload() is False
        assert "pager" not in daemon.runtime.config.channels  # still on the previous config
        record = daemon.store.get_meta("reload")
    finally:
        daemon.store.close()
    assert any(
        "channels.pager.urls[0]: apprise has no pagr:// service" in e for e in record["errors"]
    ), record
