"""Fuzzing the three doors untrusted text comes in by (issue 13, acceptance): config loading,
rule loading and feed parsing. Whatever the input, the answer is a result or a MonitorError
(never another exception), in bounded memory. Bounded to a few seconds in the suite."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config import load_config
from monitor.errors import MonitorError
from monitor.rules import load_rules
from monitor.sources.feed import parse_feed

MEMORY_MIB = 64  # the most one example may allocate (an alias bomb would take gigabytes)


def FUZZ(examples: int):  # noqa: N802 - reads as a decorator
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


YAML_PIECES = [
    "&a ",
    "*a",
    "&b ",
    "*b",
    "<<: *a",
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "\n",
    "\n  ",
    "\n    ",
    "!!str ",
    "!!python/object:os.system ",
    "'",
    '"',
    "|\n  ",
    ">\n  ",
    "#",
    "%YAML 1.2\n",
    "---\n",
    "...\n",
    "? ",
    ",",
    "\t",
    "\x00",
    "\ufeff",
    "\udcff",
    "${HOME}",
    "${NOPE}",
    "sources",
    "channels",
    "routes",
    "urls",
    "rules",
    "match",
    "any",
    "all",
    "none",
    "near",
    "regex",
    "id",
    "title",
    "severity",
    "kind",
    "folder",
    "feed",
    "interval",
    "1s",
    "-5s",
    "json://x/${K}",
    "1e999",
    "0x1F",
    "~",
    "null",
    "true",
    "yes",
    "é",
    "Баку",
    "0",
    "-1",
]

CONFIG_KEYS = [
    "storage",
    "rules",
    "http",
    "sources",
    "channels",
    "routes",
    "notify",
    "daemon",
    "metrics",
    "path",
    "paths",
    "name",
    "kind",
    "url",
    "interval",
    "urls",
    "type",
    "format",
    "channels",
    "min_severity",
    "x",
]
RULE_KEYS = [
    "id",
    "title",
    "severity",
    "tags",
    "match",
    "any",
    "all",
    "none",
    "not",
    "near",
    "within",
    "regex",
    "examples",
    "match",
    "no_match",
    "vocabularies",
    "rules",
    "status",
    "scope",
    "x",
]


def scalars() -> st.SearchStrategy:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-10, 10**12),
        st.floats(allow_nan=True),
        st.text(max_size=20),
        st.sampled_from(["1s", "15m", "high", "zebra", "/a+/", "${X}", "folder"]),
    )


def documents(keys: list[str]) -> st.SearchStrategy:
    """JSON-shaped documents (valid YAML) using the file's own vocabulary."""
    return st.recursive(
        scalars(),
        lambda kids: st.one_of(
            st.lists(kids, max_size=5), st.dictionaries(st.sampled_from(keys), kids, max_size=5)
        ),
        max_leaves=30,
    )


def yaml_texts(keys: list[str]) -> st.SearchStrategy[str]:
    bombs = st.builds(
        lambda levels, width: (
            "\n".join(
                [f"a0: &a0 [{', '.join(['x'] * width)}]"]
                + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
            )
            + "\n"
        ),
        st.integers(1, 12),
        st.integers(1, 12),
    )
    deep = st.builds(
        lambda n, open_, close: "k: " + open_ * n + close * n,
        st.integers(1, 400),
        st.sampled_from(["[", "{a: "]),
        st.sampled_from(["]", "}"]),
    )
    return st.one_of(
        st.lists(st.sampled_from(YAML_PIECES), max_size=40).map("".join),
        st.text(max_size=200),
        documents(keys).map(json.dumps),
        bombs,
        deep,
    )


def bounded(fn) -> None:
    tracemalloc.start()
    try:
        try:
            fn()
        except MonitorError:
            pass
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_MIB, f"{peak:.0f} MiB"


@FUZZ(80)
@given(text=yaml_texts(CONFIG_KEYS))
def test_config_loading_gives_a_config_or_a_monitor_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cfg") / "config.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    bounded(lambda: load_config(path))


@FUZZ(60)
@given(text=yaml_texts(RULE_KEYS))
def test_rule_loading_gives_rules_or_a_monitor_error(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("rules")
    (folder / "fuzz.yaml").write_text(text, encoding="utf-8", errors="surrogateescape")
    bounded(lambda: load_rules([folder]))


FEED_PIECES = [
    b"<?xml version='1.0'?>",
    b"<rss version='2.0'>",
    b"</rss>",
    b"<channel>",
    b"</channel>",
    b"<item>",
    b"</item>",
    b"<title>",
    b"</title>",
    b"<link>",
    b"</link>",
    b"<guid>",
    b"</guid>",
    b"<description>",
    b"</description>",
    b"<feed xmlns='http://www.w3.org/2005/Atom'>",
    b"</feed>",
    b"<entry>",
    b"</entry>",
    b"<!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'>]>",
    b"&a;",
    b"&amp;",
    b"&#0;",
    b"<![CDATA[",
    b"]]>",
    b"javascript:alert(1)",
    b"http://example.org/",
    b"<script>",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\x00",
    b'{"version": "https://jsonfeed.org/version/1", "items": [',
    b'{"id": 1, "title": "t"}',
    b"]}",
    b"Zebra",
    b"\xd0\x91\xd0\xb0\xd0\xba\xd1\x83",
    b"<pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate>",
    b"<pubDate>99999999</pubDate>",
    b" ",
    b"\n",
]


@FUZZ(150)
@given(
    body=st.one_of(
        st.lists(st.sampled_from(FEED_PIECES), max_size=60).map(b"".join), st.binary(max_size=300)
    ),
    content_type=st.sampled_from(
        ["application/rss+xml", "application/json", "text/html", "text/xml; charset=koi8-r"]
    ),
)
def test_feed_parsing_gives_items_or_a_monitor_error(body, content_type):
    bounded(
        lambda: parse_feed(
            body,
            source="fuzz",
            url="https://example.org/feed",
            headers={"Content-Type": content_type},
        )
    )


def test_the_fuzzers_reach_both_outcomes(tmp_path: Path):
    """The inputs above are not all refused: good files load, bad ones are MonitorErrors."""
    good = tmp_path / "config.yaml"
    good.write_text(
        json.dumps({"sources": [{"name": "s", "kind": "folder", "path": "x"}]}), encoding="utf-8"
    )
    assert load_config(good).sources[0].name == "s"
    assert (
        parse_feed(
            b"<rss version='2.0'><channel><item><guid>1</guid><title>Zebra</title></item></channel></rss>",
            source="s",
        )
        .items[0]
        .title
        == "Zebra"
    )
