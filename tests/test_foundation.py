"""The foundation's acceptance: the whole path, sources → rules → hits → alerts, for real."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


from conftest import monitor_cmd
from yaml_helpers import write_config


def _run(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        monitor_cmd(*args), cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def test_run_once_offline_on_default_config_records_seed_hits_once(project: Path):
    first = _run(project, "--config", str(project / "config.yaml"), "run", "--once")
    assert first.returncode == 0, first.stderr
    listed = _run(project, "--config", str(project / "config.yaml"), "hits", "--json")
    assert listed.returncode == 0, listed.stderr
    hits = json.loads(listed.stdout)
    assert hits, "the shipped rules must fire on the seeds"
    assert {h["source"] for h in hits} == {"seeds"}
    for key in ("id", "rule", "severity", "source", "title", "url", "created_at"):
        assert all(key in h for h in hits), key
    # the console channel printed every hit: its rule title appears on stdout
    for h in hits:
        assert h["rule"] in first.stdout or h["title"] in first.stdout
    # the network feeds failed politely (offline) and are recorded for a later retry
    assert "failed (will be retried)" in first.stderr or "0 source(s) failed" not in first.stderr

    second = _run(project, "--config", str(project / "config.yaml"), "run", "--once")
    assert second.returncode == 0, second.stderr
    assert "0 hit(s)" in second.stderr
    again = json.loads(
        _run(project, "--config", str(project / "config.yaml"), "hits", "--json").stdout
    )
    assert [h["id"] for h in again] == [h["id"] for h in hits]
    # nothing was sent again: the console printed no alert the second time
    for h in hits:
        assert h["title"] not in second.stdout


def test_config_paths_resolve_against_the_config_folder(project: Path, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("cwd")
    done = _run(elsewhere, "--config", str(project / "config.yaml"), "run", "--once")
    assert done.returncode == 0, done.stderr
    assert (project / "data" / "monitor.db").exists()
    assert not (elsewhere / "data").exists()


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Caucasus wire</title><link>https://wire.example.org/</link>
<description>test</description>
<item><guid>wire-1</guid><title>Georgia opens new ski season in Gudauri</title>
<link>https://wire.example.org/ski</link><description>Resorts report record bookings.</description></item>
<item><guid>wire-2</guid><title>Baku hands over detained Russians to Moscow</title>
<link>https://wire.example.org/detainees</link>
<description>Azerbaijan handed over the eleven Russian citizens convicted in Baku to the Russian side on Tuesday, the foreign ministry said.</description></item>
<item><guid>wire-3</guid><title>Yerevan stock exchange ends week higher</title>
<link>https://wire.example.org/stocks</link><description>Shares in the main index rose 2 percent.</description></item>
</channel></rss>"""


def test_feed_item_about_detainees_gives_one_hit_and_one_email(
    tmp_path: Path, httpserver, smtp_sink
):
    httpserver.expect_request("/feed.xml").respond_with_data(
        RSS, content_type="application/rss+xml"
    )
    cfg = write_config(
        tmp_path,
        sources=[
            {
                "name": "wire",
                "kind": "feed",
                "url": httpserver.url_for("/feed.xml"),
                "interval": "5m",
            }
        ],
        channels={"email": {"urls": [smtp_sink.mailto()], "format": "html"}},
        routes=[{"channels": ["email"]}],
        http={"allow_private_networks": True},
    )
    done = _run(tmp_path, "--config", str(cfg), "run", "--once")
    assert done.returncode == 0, done.stderr
    hits = json.loads(_run(tmp_path, "--config", str(cfg), "hits", "--json").stdout)
    assert len(hits) == 1, hits
    assert hits[0]["url"] == "https://wire.example.org/detainees"
    assert len(smtp_sink.messages) == 1
    msg = smtp_sink.messages[0]
    body = smtp_sink.body(msg)
    assert "Baku hands over detained Russians to Moscow" in msg["Subject"] + body
    assert "https://wire.example.org/detainees" in body
    assert "handed over" in body.lower() or "hands over" in body.lower()

    # a second pass: the feed is unchanged, nothing new, no second email
    again = _run(tmp_path, "--config", str(cfg), "run", "--once")
    assert again.returncode == 0, again.stderr
    assert len(json.loads(_run(tmp_path, "--config", str(cfg), "hits", "--json").stdout)) == 1
    assert len(smtp_sink.messages) == 1


def test_broken_feeds_do_not_stop_other_sources(tmp_path: Path, httpserver):
    from monitor.config import load_config
    from monitor.pipeline import Runtime
    from monitor.daemon import run_once
    from monitor.store import Store

    httpserver.expect_request("/good.xml").respond_with_data(
        RSS, content_type="application/rss+xml"
    )
    httpserver.expect_request("/down.xml").respond_with_data("boom", status=500)
    httpserver.expect_request("/garbage.xml").respond_with_data(
        b"\x00\xff not a feed \x89PNG", content_type="application/rss+xml"
    )
    cfg_path = write_config(
        tmp_path,
        sources=[
            {
                "name": "down",
                "kind": "feed",
                "url": httpserver.url_for("/down.xml"),
                "interval": "10m",
            },
            {
                "name": "garbage",
                "kind": "feed",
                "url": httpserver.url_for("/garbage.xml"),
                "interval": "10m",
            },
            {
                "name": "good",
                "kind": "feed",
                "url": httpserver.url_for("/good.xml"),
                "interval": "10m",
            },
        ],
        channels={"console": {"type": "console"}},
        routes=[{"channels": ["console"]}],
        http={"allow_private_networks": True},
    )
    runtime = Runtime.from_config(load_config(cfg_path))
    reports = {r.source: r for r in run_once(runtime)}
    assert reports["good"].ok and reports["good"].hits == 1
    assert not reports["down"].ok and "500" in reports["down"].error
    with Store(runtime.config.db_path) as store:
        rows = {r.name: r for r in store.list_sources()}
        assert rows["down"].consecutive_failures == 1
        assert "500" in rows["down"].last_error
        assert (
            rows["down"].next_poll_at is not None
            and rows["down"].next_poll_at > rows["down"].last_poll_at
        )
        assert rows["good"].consecutive_failures == 0
        assert rows["good"].items_seen == 3
        # garbage is either a recorded failure or a warning with no items, never a crash
        assert rows["garbage"].last_poll_at is not None
        assert store.count_hits() == 1
