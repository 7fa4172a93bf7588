"""OPML in and out: `monitor sources import` appends to config.yaml keeping its comments;
`monitor sources export` writes the feed sources for another reader."""

from __future__ import annotations

import listparser
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import load_config

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>From another reader</title></head><body>
  <outline text="Caucasus">
    <outline type="rss" text="OC Media" title="OC Media" xmlUrl="https://oc-media.org/feed/"/>
    <outline type="rss" text="Eurasianet" title="Eurasianet" xmlUrl="https://eurasianet.org/rss"/>
    <outline type="rss" text="Civil Georgia &amp; more" xmlUrl="https://civil.ge/en/feed?lang=en&amp;x=1"/>
  </outline>
  <outline type="rss" text="ТАСС" xmlUrl="https://tass.ru/rss/main.xml"/>
  <outline type="rss" text="Eurasianet" xmlUrl="https://eurasianet.org/rss/analysis"/>
  <outline type="rss" text="Bad" xmlUrl="javascript:alert(1)"/>
</body></opml>
"""


def run(project, *args, ok=True):
    result = CliRunner().invoke(cli, ["--config", str(project / "config.yaml"), *args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_import_appends_keeping_comments_and_skips_known_feeds(project):
    before = (project / "config.yaml").read_text(encoding="utf-8")
    (project / "feeds.opml").write_text(OPML, encoding="utf-8")
    dry = run(project, "sources", "import", str(project / "feeds.opml"), "--dry-run")
    assert "would add  eurasianet  https://eurasianet.org/rss" in dry.stdout
    assert (project / "config.yaml").read_text(encoding="utf-8") == before

    done = run(project, "sources", "import", str(project / "feeds.opml"), "--interval", "20m")
    assert "skip  https://oc-media.org/feed/  (already configured)" in done.stdout
    assert "not an http(s) URL" in done.stderr and "added 4 feed(s)" in done.stderr
    after = (project / "config.yaml").read_text(encoding="utf-8")
    assert after.startswith(before[: before.index("channels:")].rstrip("\n"))
    old_lines = before.splitlines()
    kept = iter(after.splitlines())
    assert all(line in kept for line in old_lines), "a line of the old file was changed or lost"
    assert "# Slack — an incoming webhook" in after and "# imported from feeds.opml on " in after

    cfg = load_config(project / "config.yaml")
    added = {s.name: s for s in cfg.sources[-4:]}
    assert set(added) == {"eurasianet", "civil-georgia-more", "тасс", "eurasianet-2"}
    assert added["eurasianet"].tags == ["caucasus"] and added["eurasianet"].interval == 1200
    assert added["civil-georgia-more"].url == "https://civil.ge/en/feed?lang=en&x=1"
    again = run(project, "sources", "import", str(project / "feeds.opml"))
    assert "added 0 feed(s)" in again.stderr
    assert (project / "config.yaml").read_text(encoding="utf-8") == after


def test_export_is_read_back_by_listparser(project):
    out = run(project, "sources", "export").stdout
    parsed = listparser.parse(out.encode("utf-8"))
    cfg = load_config(project / "config.yaml")
    feeds = [s for s in cfg.sources if s.kind == "feed"]
    assert [f["url"] for f in parsed.feeds] == [s.url for s in feeds]
    assert [f["title"] for f in parsed.feeds] == [s.name for s in feeds]


def test_export_then_import_into_an_empty_config(project, tmp_path):
    (project / "out.opml").write_text(run(project, "sources", "export").stdout, encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.yaml").write_text(
        "# my own config\nstorage:\n  path: data/monitor.db  # here\n", encoding="utf-8"
    )
    run(other, "sources", "import", str(project / "out.opml"))
    text = (other / "config.yaml").read_text(encoding="utf-8")
    assert text.startswith("# my own config\nstorage:\n  path: data/monitor.db  # here\n")
    names = [s.name for s in load_config(other / "config.yaml").sources]
    assert names == [
        s.name for s in load_config(project / "config.yaml").sources if s.kind == "feed"
    ]


def test_not_opml_is_refused_and_nothing_changes(project):
    before = (project / "config.yaml").read_text(encoding="utf-8")
    (project / "junk.opml").write_text("this is <not xml", encoding="utf-8")
    result = run(project, "sources", "import", str(project / "junk.opml"), ok=False)
    assert result.exit_code == 2 and "not an OPML feed list" in result.output
    assert (project / "config.yaml").read_text(encoding="utf-8") == before
