"""The Source contract, run over every registered kind (APScheduler's fixture style)."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import timezone
from pathlib import Path

import pytest

from helpers_sources import LOCAL, rss, source_cfg, story_items
from monitor.models import Item
from monitor.sources import SOURCE_KINDS, make_source
from monitor.sources.base import FetchResult, SourceState


class FeedPlace:
    def __init__(self, server, tmp_path):
        self.server, self.n = server, 2
        self.cfg = source_cfg("feed", name="contract", url=server.url_for("/contract"))
        self.publish()

    def publish(self):
        self.server.clear()
        self.server.expect_request("/contract").respond_with_data(
            rss(story_items(self.n)), content_type="application/rss+xml"
        )

    def change(self):
        self.n += 1
        self.publish()


class PagePlace:
    def __init__(self, server, tmp_path):
        self.server, self.paras = server, ["First paragraph.", "Second paragraph."]
        self.cfg = source_cfg("page", name="contract", url=server.url_for("/contract"))
        self.publish()

    def publish(self):
        self.server.clear()
        html = (
            "<html><head><title>P</title></head><body>"
            + "".join(f"<p>{p}</p>" for p in self.paras)
            + "</body></html>"
        )
        self.server.expect_request("/contract").respond_with_data(html, content_type="text/html")

    def change(self):
        self.paras.insert(0, "A new paragraph.")
        self.publish()


class FolderPlace:
    def __init__(self, server, tmp_path):
        self.dir = tmp_path / "place"
        self.dir.mkdir()
        (self.dir / "one.txt").write_text("One\nThe first file.", encoding="utf-8")
        (self.dir / "two.md").write_text("# Two\nThe second file.", encoding="utf-8")
        self.cfg = source_cfg("folder", name="contract", path=str(self.dir))

    def change(self):
        (self.dir / "three.txt").write_text("Three\nA new file.", encoding="utf-8")


PLACES = {"feed": FeedPlace, "page": PagePlace, "folder": FolderPlace}


def test_every_registered_kind_is_covered():
    assert set(PLACES) == set(SOURCE_KINDS)


@pytest.fixture(params=sorted(PLACES))
def place(request, server, tmp_path):
    place = PLACES[request.param](server, tmp_path)
    place.source = make_source(place.cfg, LOCAL, tmp_path)
    return place


def check_items(result: FetchResult) -> None:
    assert isinstance(result, FetchResult)
    keys = [i.key for i in result.items]
    assert len(keys) == len(set(keys))
    for item in result.items:
        assert isinstance(item, Item) and item.source == "contract" and item.key
        assert item.title or item.text
        assert item.content_hash
        if item.url and item.url.startswith("file:"):  # folder items link to their own file
            from urllib.parse import unquote, urlsplit

            assert Path(unquote(urlsplit(item.url).path)).is_file(), item.url
        else:
            assert item.url is None or item.url.startswith(("http://", "https://"))
        assert item.published is None or item.published.tzinfo == timezone.utc


def test_source_names_its_kind(place):
    assert place.source.kind == place.cfg.kind and place.source.name == "contract"


def test_first_fetch_yields_items_and_a_storable_state(place):
    result = place.source.fetch(SourceState())
    check_items(result)
    assert result.items and not result.not_modified
    json.dumps(dataclasses.asdict(result.state))  # the store persists it as JSON


def test_fetch_leaves_the_given_state_alone(place):
    state = place.source.fetch(SourceState()).state
    before = copy.deepcopy(state)
    place.change()
    place.source.fetch(state)
    assert state == before


def test_unchanged_place_yields_nothing_new_and_a_change_yields_one_new_key(place):
    first = place.source.fetch(SourceState())
    seen = {i.key for i in first.items}
    again = place.source.fetch(first.state)
    check_items(again)
    assert {i.key for i in again.items} <= seen
    place.change()
    changed = place.source.fetch(again.state)
    check_items(changed)
    assert len({i.key for i in changed.items} - seen) == 1
