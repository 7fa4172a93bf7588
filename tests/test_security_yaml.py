"""Hostile YAML (issue 13, items 5 and 7): alias bombs, deep nesting and huge files are
refused by the shared loader at ``file:line:col`` with a plain message, in bounded time and
memory, for config and rule files alike; a live reload keeps the previous rules."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from helpers_ops import daemon_config
from monitor import yamlfile
from monitor.config import load_config
from monitor.daemon import Daemon
from monitor.errors import ConfigError, RuleError
from monitor.models import Item
from monitor.pipeline import Runtime
from monitor.rules import load_rules


def alias_bomb(levels: int = 9, width: int = 9, at: str = "storage: {path: *a%d}") -> str:
    """Billion laughs in YAML: ``width ** levels`` nodes from a few hundred bytes."""
    lines = ["a0: &a0 [" + ",".join(['"lol"'] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    lines.append(at % (levels - 1))
    return "\n".join(lines) + "\n"


def nested_rule(levels: int) -> str:
    """A rule whose match nests ``levels`` alternating all/any groups (two YAML levels each)."""
    node = "zebra"
    for i in range(levels):
        node = "{%s: [%s]}" % ("all" if i % 2 else "any", node)
    return f"rules:\n  - id: deep\n    title: Deep\n    severity: low\n    match: {node}\n"


def bounded(fn):
    """Run ``fn``; return (its exception, seconds, peak traced MiB)."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the test inspects what came out
        err = exc
    else:
        err = None
    seconds = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return err, seconds, peak


def test_a_config_alias_bomb_is_refused_at_its_line_in_bounded_time_and_memory(tmp_path: Path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(alias_bomb(), encoding="utf-8")
    assert cfg.stat().st_size < 800  # the 729-byte file of the report, give or take
    err, seconds, peak = bounded(lambda: load_config(cfg))
    assert isinstance(err, ConfigError), err
    assert (err.path, err.line) == (str(cfg), 7)  # where a6 crosses a million
    assert err.column is not None
    assert "alias bomb" in err.message and "1,000,000 nodes" in err.message
    assert seconds < 2 and peak < 20, (seconds, peak)


def test_a_rule_file_alias_bomb_is_refused_as_a_rule_error(tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bomb.yaml").write_text(alias_bomb(at="rules: *a%d"), encoding="utf-8")
    err, seconds, peak = bounded(lambda: load_rules([rules]))
    assert isinstance(err, RuleError), err
    assert str(err).startswith(f"{rules / 'bomb.yaml'}:7:")
    assert seconds < 2 and peak < 20, (seconds, peak)


def test_too_many_aliases_and_self_reference_are_refused(tmp_path: Path):
    many = "a: &a 1\nb: [" + ", ".join(["*a"] * (yamlfile.MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(ConfigError, match=r"more than 1000 aliases") as exc:
        yamlfile.load_yaml_text(many, "many.yaml")
    assert exc.value.line == 2
    with pytest.raises(
        ConfigError, match=r"alias \*a refers to the collection it is inside"
    ) as exc:
        yamlfile.load_yaml_text("x: &a [1, *a]\n", "self.yaml")
    assert (exc.value.line, exc.value.column) == (1, 11)
    # anchors and merge keys within the limits keep working
    doc = yamlfile.load_yaml_text("base: &b {k: 1}\nsame: *b\nmore: {<<: *b, j: 2}\n")
    assert doc.data == {"base": {"k": 1}, "same": {"k": 1}, "more": {"k": 1, "j": 2}}


def test_a_file_larger_than_the_limit_is_refused_unread(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(yamlfile, "MAX_BYTES", 1024)
    big = tmp_path / "config.yaml"
    big.write_text("# padding\n" * 200, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"larger than") as exc:
        load_config(big)
    assert exc.value.path == str(big)


def test_a_150_level_nested_rule_is_refused_with_the_limit_and_position(tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "deep.yaml").write_text(nested_rule(150), encoding="utf-8")
    err, seconds, _ = bounded(lambda: load_rules([rules]))
    assert isinstance(err, RuleError), repr(err)
    assert "recursion" not in str(err)
    assert f"nested more than {yamlfile.MAX_DEPTH} levels deep" in err.message
    assert err.path == str(rules / "deep.yaml") and err.line == 5 and err.column > 10
    assert seconds < 2


def test_a_rule_nested_just_inside_the_limit_loads_and_matches(tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir()
    # rules → rule → match, then two YAML levels per group, and the innermost list
    levels = (yamlfile.MAX_DEPTH - 3) // 2
    (rules / "deep.yaml").write_text(nested_rule(levels), encoding="utf-8")
    rs = load_rules([rules])
    from monitor.matching import Matcher

    m = Matcher(rs.active())
    assert [h.rule_id for h in m.match(Item(source="s", key="k", title="t", text="a zebra"))] == [
        "deep"
    ]


def test_deep_flow_nesting_in_a_config_is_refused_not_a_recursion_error(tmp_path: Path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("sources: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nested more than") as exc:
        load_config(cfg)
    assert exc.value.line == 1


def test_a_bomb_dropped_into_a_running_daemon_is_refused_and_the_old_rules_stay(tmp_path: Path):
    cfg = daemon_config(tmp_path)
    daemon = Daemon(cfg, Runtime.load(cfg))
    try:
        before = daemon.runtime
        (tmp_path / "rules" / "bomb.yaml").write_text(
            alias_bomb(at="rules: *a%d"), encoding="utf-8"
        )
        (tmp_path / "rules" / "deep.yaml").write_text(nested_rule(150), encoding="utf-8")
        err, seconds, peak = bounded(daemon.reload)
        assert err is None and seconds < 5 and peak < 50, (err, seconds, peak)
        assert daemon.runtime is before
        item = Item(source="inbox", key="k", title="News", text="A zebra crossing")
        assert [h.rule_id for h in daemon.runtime.matcher.match(item)] == ["zebra-crossing"]
        errors = daemon.store.last_reload()["errors"]
        assert any("bomb.yaml:7:" in e and "alias bomb" in e for e in errors), errors
        assert any("deep.yaml:5:" in e and "levels deep" in e for e in errors), errors
    finally:
        daemon.store.close()
