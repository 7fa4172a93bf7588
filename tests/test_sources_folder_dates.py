"""Folder items carry a file:// link to the file, and the date the document gives itself."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from click.testing import CliRunner

from helpers_sources import source_cfg
from monitor.cli import cli
from monitor.config import HttpConfig
from monitor.sources import make_source
from monitor.sources.base import SourceState
from monitor.sources.docdate import parse_date, text_date
from yaml_helpers import write_config

MTIME = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    os.utime(path, (MTIME.timestamp(), MTIME.timestamp()))


def _items(tmp_path):
    result = make_source(source_cfg("folder", path="docs"), HttpConfig(), tmp_path).fetch(
        SourceState()
    )
    assert result.warnings == []
    return {i.key.split("@")[0]: i for i in result.items}


def test_file_url_and_the_document_date_over_the_mtime(tmp_path):
    docs = tmp_path / "docs"
    (docs / "sub dir").mkdir(parents=True)
    _write(
        docs / "labelled.txt",
        "Baku talks\nPublished: 20 November 2026, 14:05\n\nThe talks went on.\n",
    )
    _write(docs / "byline.txt", "Переговоры в Баку\n20 ноября 2026\n\nПереговоры продолжились.\n")
    _write(docs / "front.md", "---\ntitle: Note\ndate: 2026-10-01\n---\n# Note\nBody.\n")
    _write(
        docs / "page.html",
        '<html><head><title>P</title><meta property="article:published_time" '
        'content="2026-11-19T07:45:00+00:00"></head><body><p>Text of the page.</p></body></html>',
    )
    _write(
        docs / "sub dir" / "undated.txt",
        "Undated\n\nThe agreement of 10 November 2020 is what this paragraph "
        "discusses at some length, well past any byline, so it is not a date line.\n",
    )
    _write(docs / "same-day.txt", "Today\nDate: 2026-11-25\n\nWritten today.\n")
    items = _items(tmp_path)
    assert items["labelled.txt"].published == datetime(2026, 11, 20, 14, 5, tzinfo=timezone.utc)
    assert items["byline.txt"].published == datetime(2026, 11, 20, tzinfo=timezone.utc)
    assert items["front.md"].published == datetime(2026, 10, 1, tzinfo=timezone.utc)
    assert items["page.html"].published == datetime(2026, 11, 19, 7, 45, tzinfo=timezone.utc)
    assert (
        items["sub dir/undated.txt"].published == MTIME
    )  # a date inside a paragraph is not the document's
    assert (
        items["same-day.txt"].published == MTIME
    )  # the day alone: the file's time of day is better
    url = items["sub dir/undated.txt"].url
    assert url == (docs / "sub dir" / "undated.txt").absolute().as_uri() and url.startswith(
        "file:///"
    )
    assert "sub%20dir" in url


def test_parse_date_forms_and_implausible_dates():
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert parse_date("Nov. 3, 2025 at 9:30 pm", now) == datetime(
        2025, 11, 3, 21, 30, tzinfo=timezone.utc
    )
    assert parse_date("20.11.2026", now) == datetime(2026, 11, 20, tzinfo=timezone.utc)
    assert parse_date("2026-11-20T08:15:00+03:00", now) == datetime(
        2026, 11, 20, 5, 15, tzinfo=timezone.utc
    )
    assert parse_date("1 January 2031", now) is None  # in the future
    assert parse_date("Analysis", now) is None
    assert text_date("Title\nno date here\n", now) is None


def test_hits_show_and_export_carry_the_file_url(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "zebra.yaml").write_text(
        "- id: zebra\n  title: Zebra\n  severity: low\n  match:\n    any: [zebra]\n",
        encoding="utf-8",
    )
    (tmp_path / "inbox").mkdir()
    _write(
        tmp_path / "inbox" / "note.txt", "A zebra crossing\nDate: 2026-11-20\n\nA zebra was seen.\n"
    )
    config = write_config(
        tmp_path,
        sources=[{"name": "inbox", "kind": "folder", "path": "inbox"}],
        channels={"console": {"type": "console"}},
        routes=[{"channels": ["console"]}],
    )
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config), "run", "--once"]).exit_code == 0
    uri = (tmp_path / "inbox" / "note.txt").absolute().as_uri()
    shown = runner.invoke(
        cli, ["--config", str(config), "hits", "show", "1"], env={"COLUMNS": "300"}
    )
    assert uri in shown.output and "2026-11-20" in shown.output
    exported = runner.invoke(cli, ["--config", str(config), "hits", "export", "--format", "jsonl"])
    assert f'"url": "{uri}"' in exported.output
