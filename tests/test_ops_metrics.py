"""The optional Prometheus endpoint: off by default; when on, a real scrape of a running
daemon shows what it fetched, matched and sent."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import free_port
from helpers_ops import MonitorProcess, daemon_config
from monitor import metrics
from monitor.config import load_config


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_are_off_by_default(tmp_path: Path):
    assert load_config(daemon_config(tmp_path)).metrics.enabled is False


def test_counting_functions_and_the_endpoint_in_process():
    server = metrics.serve("127.0.0.1", 0)
    try:
        metrics.record_poll("unit-src", ok=False, seconds=0.3, consecutive_failures=4)
        metrics.record_poll("unit-src", ok=True, fetched=5, new_items=2, hits=1, seconds=0.1)
        metrics.record_dispatch(sent=2, retried=1, failed=1)
        metrics.watch_outbox(lambda: {"pending": 3, "failed": 1})
        body = (
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10)
            .read()
            .decode()
        )
    finally:
        metrics.watch_outbox(None)
        server.stop()
    s = _samples(body)
    src = (("source", "unit-src"),)
    assert s[("monitor_items_fetched_total", src)] == 5
    assert s[("monitor_items_new_total", src)] == 2
    assert s[("monitor_hits_total", src)] == 1
    assert s[("monitor_polls_total", (("result", "failed"), ("source", "unit-src")))] == 1
    assert s[("monitor_poll_duration_seconds_count", src)] == 2
    assert s[("monitor_source_consecutive_failures", src)] == 0  # the last poll succeeded
    assert s[("monitor_notifications_failed_total", ())] >= 1
    assert s[("monitor_outbox_rows", (("status", "pending"),))] == 3
    metrics.forget_source("unit-src")
    assert ("monitor_source_consecutive_failures", src) not in _samples(metrics.render().decode())


@pytest.mark.slow
def test_a_running_daemon_serves_its_metrics(tmp_path: Path):
    port = free_port()
    cfg = daemon_config(tmp_path, metrics={"enabled": True, "host": "127.0.0.1", "port": port})
    (tmp_path / "inbox" / "a.txt").write_text("Roads\nA zebra crossing opens on Main Street.\n")
    url = f"http://127.0.0.1:{port}/metrics"
    with MonitorProcess(tmp_path, cfg, global_args=("--log-level", "DEBUG")) as mon:
        mon.wait_for(f"metrics on {url}")
        mon.wait_for(
            lambda r: (
                str(r.get("message", "")).startswith("source inbox polled in")
                and "1 hit(s)" in r["message"]
            )
        )
        mon.wait_for(lambda r: str(r.get("message", "")).startswith("dispatch round: 1 sent"))
        s = _samples(urllib.request.urlopen(url, timeout=10).read().decode())
        inbox = (("source", "inbox"),)
        assert s[("monitor_items_fetched_total", inbox)] == 1
        assert s[("monitor_hits_total", inbox)] == 1
        assert s[("monitor_poll_duration_seconds_count", inbox)] >= 1
        assert s[("monitor_source_consecutive_failures", inbox)] == 0
        assert s[("monitor_notifications_sent_total", ())] >= 1
        assert s[("monitor_rules_active", ())] == 1
        assert s[("monitor_outbox_rows", (("status", "sent"),))] >= 1
        assert mon.stop() == 0
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)
