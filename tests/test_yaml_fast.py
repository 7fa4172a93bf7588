"""The libyaml reader (monitor/yamlfast.py) reads exactly what the round-trip reader reads,
anchors and aliases included, and hands back every document past a limit, so the round-trip
reader's checks and messages still apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor import yamlfile
from monitor.config import ConfigError
from monitor.yamlfast import UNREAD, read_plain

ROOT = Path(__file__).resolve().parent.parent


def _slow(text: str):
    yamlfile.check_shape(text)
    return yamlfile._yaml().load(text)


def _same(a, b) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


@pytest.mark.parametrize("path", sorted((ROOT / "rules").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_rule_file_is_read_fast_and_the_same(path: Path):
    text = path.read_text(encoding="utf-8")
    fast = read_plain(text, yamlfile.MAX_DEPTH, yamlfile.MAX_ALIASES, yamlfile.MAX_NODES)
    assert fast is not UNREAD, f"{path.name} fell back to the slow reader"
    assert _same(fast[0], _slow(text))


def test_an_alias_is_its_anchor_and_keeps_the_anchor_positions():
    text = "a: &words\n  - one\n  - two\nb:\n  any: *words\nc: &s x\nd: *s\n"
    data, positions = read_plain(text, 64)
    assert _same(data, _slow(text))
    assert data["b"]["any"] is data["a"] and data["d"] == "x"
    assert positions[id(data["a"])] == {0: (2, 5), 1: (3, 5)}
    assert positions[id(data["b"])]["any"] == (5, 3)  # a mapping keeps its keys' positions


@pytest.mark.parametrize(
    "text",
    [
        "a: &x\n  b: *x\n",  # an alias inside its own anchor: recursive
        "a: &k key\n*k : 1\n",  # an alias as a key
        "a: *nowhere\n",  # an unknown anchor: the round-trip reader names it
        "a: &x [1]\n<<: *x\n",  # a merge key
    ],
)
def test_what_only_the_round_trip_reader_reads_right_is_handed_back(text: str):
    assert read_plain(text, 64) is UNREAD


def test_past_the_alias_or_node_limits_it_is_handed_back_and_refused_with_a_message():
    many = "a: &x 1\nb: [" + ", ".join(["*x"] * 11) + "]\n"
    assert read_plain(many, 64, max_aliases=10) is UNREAD
    assert read_plain(many, 64, max_aliases=11) is not UNREAD
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 7):
        bomb += (
            f"{'abcdefg'[i]}: &{'abcdefg'[i]} [" + ", ".join([f"*{'abcdefg'[i - 1]}"] * 10) + "]\n"
        )
    assert read_plain(bomb, 64) is UNREAD
    with pytest.raises(ConfigError, match="alias bomb"):
        yamlfile.load_yaml_text(bomb, "bomb.yaml")
