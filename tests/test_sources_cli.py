"""`monitor sources` and `monitor sources test`, driven through click against real parts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from helpers_sources import FIXTURES, rss, story_items
from monitor.cli import cli
from monitor.config import load_config
from monitor.sources.base import SourceState


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_sources_test_url_as_json(server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config.yaml here: defaults apply
    server.expect_request("/feed").respond_with_data(
        rss(
            [
                {
                    "guid": "1",
                    "title": "One",
                    "link": "https://example.org/1",
                    "description": "Body one",
                    "pubDate": "Tue, 01 Oct 2024 12:00:00 GMT",
                }
            ],
            language="en",
        )
    )
    result = run("sources", "test", server.url_for("/feed"), "--allow-private", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["warnings"] == []
    assert out["items"] == [
        {
            "id": "1",
            "title": "One",
            "url": "https://example.org/1",
            "published": "2024-10-01T12:00:00+00:00",
            "language": "en",
            "author": None,
            "text_length": 8,
            "text": "Body one",
        }
    ]


def test_sources_test_malformed_feed_with_items_exits_0_with_warnings(
    server, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    whole = rss(story_items(3))
    server.expect_request("/cut").respond_with_data(whole[: whole.index(b"<item>", 300) + 40])
    result = run("sources", "test", server.url_for("/cut"), "--allow-private", "--json")
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["items"] and any("malformed" in w for w in out["warnings"])


def test_sources_test_garbage_exits_1_with_one_line(server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    server.expect_request("/html").respond_with_data(
        "<html><body>Moved</body></html>", content_type="text/html"
    )
    result = run("sources", "test", server.url_for("/html"), "--allow-private", "--json")
    assert result.exit_code == 1
    last = result.stderr.splitlines()[-1]  # (log lines of the local server come before it)
    assert last.startswith("error: not a feed (") and result.stdout == ""


def test_sources_test_refuses_local_addresses_by_default(server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    server.expect_request("/feed").respond_with_data(rss(story_items(1)))
    result = run("sources", "test", server.url_for("/feed"))
    assert result.exit_code == 1 and "allow_private_networks" in result.stderr
    assert len(server.log) == 0


def test_sources_test_human_output_for_a_page(server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    server.expect_request("/page").respond_with_data(
        "<title>T</title><div id=m><p>Watch me</p></div>", content_type="text/html"
    )
    result = run(
        "sources",
        "test",
        server.url_for("/page"),
        "--kind",
        "page",
        "--selector",
        "#m",
        "--allow-private",
    )
    assert result.exit_code == 0
    assert "1. T" in result.stdout and "text: 8 chars" in result.stdout
    assert "1 item(s)" in result.stderr


def test_sources_test_folder_and_local_feed_file(project, monkeypatch):
    monkeypatch.chdir(project)
    result = run("sources", "test", "seeds", "--json")
    assert result.exit_code == 0
    seeds = [p for p in (project / "seeds").iterdir() if p.suffix == ".txt"]
    assert len(json.loads(result.stdout)["items"]) == len(seeds)
    local = run("sources", "test", str(FIXTURES / "guardian.rss"), "--json")
    out = json.loads(local.stdout)
    assert local.exit_code == 0 and out["kind"] == "feed" and len(out["items"]) == 55


def test_sources_test_missing_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("sources", "test", "nowhere/")
    assert result.exit_code == 2 and "neither an http(s) URL nor an existing path" in result.output


def test_sources_listing_shows_health_from_the_store(project):
    from monitor.store import Store

    cfg = load_config(project / "config.yaml")
    store = Store(cfg.db_path)
    store.sync_sources(cfg.sources)
    now = datetime.now(timezone.utc)
    store.record_poll_success("seeds", SourceState(), now, now + timedelta(hours=1), new_items=3)
    feed = next(s.name for s in cfg.sources if s.kind == "feed")
    store.record_poll_failure(feed, "timed out fetching", now, now + timedelta(minutes=40))
    result = run("--config", str(project / "config.yaml"), "sources", "--json")
    assert result.exit_code == 0, result.output
    records = {r["name"]: r for r in json.loads(result.stdout)}
    assert set(records) == {s.name for s in cfg.sources}
    assert records["seeds"]["items_seen"] == 3 and records["seeds"]["last_success"]
    assert (
        records[feed]["consecutive_failures"] == 1
        and records[feed]["last_error"] == "timed out fetching"
    )
    table = run("--config", str(project / "config.yaml"), "sources")
    assert table.exit_code == 0 and "seeds" in table.stdout and "timed out fetching" in table.stdout
