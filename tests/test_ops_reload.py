"""Live reload: a good change is applied without a restart; a broken one is refused, each
error logged as file:line, and the previous rules keep matching."""

from __future__ import annotations

import gc
import re
import signal
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import tel_river_rule
from helpers_ops import MonitorProcess, daemon_config
from monitor.cli import cli
from monitor.daemon import Daemon, watched_files
from monitor.matching import Matcher
from monitor.models import Item
from monitor.pipeline import Runtime
from monitor.store import Store

HERON_RULE = """rules:
  - id: heron-sighting
    title: Herons in town
    severity: low
    match:
      any: [grey heron]
"""

BROKEN_RULES = """rules:
  - id: broken-severity
    title: Broken
    severity: enormous
    match:
      any: [anything]
  - id: broken-regex
    title: Broken too
    severity: low
    match:
      any: [{regex: "(unclosed"}]
"""

LOCATION = re.compile(r"^reload refused: (\S+\.ya?ml):(\d+)(?::\d+)?: .+")


def _hit_logged(rule_id: str):
    return lambda r: (
        str(r.get("message", "")).startswith("hit #") and f" {rule_id} " in r["message"]
    )


@pytest.mark.slow
def test_rule_file_changes_are_applied_or_refused_while_running(tmp_path: Path):
    cfg = daemon_config(tmp_path)
    inbox = tmp_path / "inbox"
    with MonitorProcess(tmp_path, cfg) as mon:
        mon.wait_for("monitor running")

        # a good change: a new rule file starts matching without a restart
        at = mon.mark()
        (tmp_path / "rules" / "heron.yaml").write_text(HERON_RULE, encoding="utf-8")
        reloaded = mon.wait_for("reloaded:", since=at)
        assert "2 active rule(s)" in reloaded["message"]
        at = mon.mark()
        (inbox / "birds.txt").write_text("Birdwatch\nA grey heron was seen by the river.\n")
        mon.wait_for(_hit_logged("heron-sighting"), since=at)

        # a broken change: refused, every error with its file and line, old rules still match
        at = mon.mark()
        (tmp_path / "rules" / "broken.yaml").write_text(BROKEN_RULES, encoding="utf-8")
        mon.wait_for("still running on the previous config and rules", since=at)
        refused = [m for m in mon.messages(at) if m.startswith("reload refused:")]
        assert len(refused) >= 2, refused
        for line in refused:
            m = LOCATION.match(line)
            assert m, line
            assert m.group(1).endswith("broken.yaml")
        assert {int(LOCATION.match(x).group(2)) for x in refused} >= {4, 11}
        at = mon.mark()
        (inbox / "more-birds.txt").write_text("Birdwatch\nTwo grey heron chicks hatched.\n")
        (inbox / "street.txt").write_text("Roads\nThe zebra crossing was repainted.\n")
        mon.wait_for(_hit_logged("heron-sighting"), since=at)
        mon.wait_for(_hit_logged("zebra-crossing"), since=at)

        # removing the broken file is a change too; and SIGHUP reloads on request
        at = mon.mark()
        (tmp_path / "rules" / "broken.yaml").unlink()
        mon.wait_for("reloaded:", since=at)
        at = mon.mark()
        mon.signal(signal.SIGHUP)
        mon.wait_for("SIGHUP: reloading", since=at)
        mon.wait_for("reloaded:", since=at)
        assert mon.stop() == 0


def test_reload_refused_keeps_runtime_and_is_recorded_for_status(tmp_path: Path):
    cfg = daemon_config(tmp_path)
    daemon = Daemon(cfg, Runtime.load(cfg))
    try:
        before = daemon.runtime
        cfg.write_text(
            cfg.read_text().replace('"interval": "1s"', '"interval": "-5s"'), encoding="utf-8"
        )
        assert daemon.reload() is False
        assert daemon.runtime is before
        item = Item(source="inbox", key="k", title="News", text="A zebra crossing")
        assert [m.rule_id for m in daemon.runtime.matcher.match(item)] == ["zebra-crossing"]
        record = daemon.store.last_reload()
        assert record["ok"] is False
        assert any(e.startswith(f"{cfg}:") for e in record["errors"]), record["errors"]
    finally:
        daemon.store.close()


def test_file_watch_waits_for_a_change_to_settle_then_reloads_once(tmp_path: Path):
    cfg = daemon_config(tmp_path)
    daemon = Daemon(cfg, Runtime.load(cfg))
    try:
        daemon.files.reset(watched_files(daemon.runtime.config))
        assert daemon.check_files() is False  # nothing changed
        (tmp_path / "rules" / "heron.yaml").write_text(HERON_RULE, encoding="utf-8")
        assert daemon.check_files() is False  # changed: wait one round in case a writer is mid-way
        assert daemon.runtime.matcher.rule_count == 1
        assert daemon.check_files() is True  # unchanged since: reload
        assert daemon.runtime.matcher.rule_count == 2
        assert daemon.check_files() is False  # and only once
        assert Store(daemon.store.path).last_reload()["ok"] is True
    finally:
        daemon.store.close()


def test_the_learn_job_compiles_what_the_matcher_learned(tmp_path: Path):
    """Words that only begin like a rule stem, refused while matching, are compiled into the
    scan by the daemon's learn job (between polls), and never by matching itself."""
    import dataclasses

    from monitor.daemon_jobs import LEARN_JOB

    cfg = daemon_config(tmp_path)
    daemon = Daemon(cfg, Runtime.load(cfg))
    try:
        daemon.schedule_ops()
        assert daemon.scheduler.get_job(LEARN_JOB) is not None
        rule = tel_river_rule()
        m = Matcher([rule])
        daemon.runtime = dataclasses.replace(daemon.runtime, matcher=m)
        m.match_text("tell the river")  # learned, not compiled: matching never compiles
        m.match_text("a television river")  # learned
        scan = m.prefilter.scan_set.match
        for text in (b" tell the river ", b" a television river "):
            assert len(scan(text)) == 3  # sentinel, river, and tel… still found
        daemon.learn()
        scan = m.prefilter.scan_set.match
        for text in (b" tell the river ", b" a television river "):
            assert len(scan(text)) == 2  # compiled: "tell" and "television" are skipped
        assert [r.rule_id for r in m.match_text("Tel by the river")] == ["tel"]
    finally:
        daemon.store.close()


def test_start_up_compiles_the_rules_with_the_collector_paused_as_a_reload_does(tmp_path):
    cfg = daemon_config(tmp_path, sources=[])
    paused: list[bool] = []

    def watch(frame, event, arg):
        if event == "call" and frame.f_code is Matcher.__init__.__code__:
            paused.append(not gc.isenabled())

    assert gc.isenabled()
    sys.setprofile(watch)
    try:
        result = CliRunner().invoke(cli, ["--config", str(cfg), "run", "--once"])
    finally:
        sys.setprofile(None)
    assert result.exit_code == 0, result.output
    assert paused == [True]  # one compile, with the collector paused
    assert gc.isenabled()  # and restored after
