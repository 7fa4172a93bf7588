"""`monitor rules derive`: signals found in each of the three briefs, drafts that load and match."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from monitor.cli import cli
from monitor.derive import derive_yaml, draft_rules, find_signals
from monitor.matching import Matcher
from monitor.rules import check_rules, load_rule_set, load_rules

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
FIXTURES = Path(__file__).parent / "rules_fixtures"


def seed(prefix: str) -> Path:
    return next(p for p in SEEDS if p.name.startswith(prefix))


def test_the_key_signals_list_is_read_when_there_is_one():
    signals = find_signals(seed("000").read_text(encoding="utf-8"))
    assert [s.kind for s in signals] == ["key_signal"] * 4
    assert signals[0].text.startswith("Post-meeting statements from Russia’s MFA")
    assert signals[1].text.startswith("Any mention of administrative mechanisms (sentence review")
    assert signals[3].text.endswith("through “relevant agencies.”")
    assert all(not s.text.startswith(("-", "—")) for s in signals)


def test_summary_bullets_and_watch_sentences_without_key_signals():
    signals = find_signals(seed("002").read_text(encoding="utf-8"))
    kinds = [s.kind for s in signals]
    assert kinds[:3] == ["summary"] * 3 and "watch" in kinds
    assert signals[0].text.startswith("Armenia’s lease offer of up to 99 years")
    assert any("hybrid war" in s.text for s in signals if s.kind == "watch")


def test_the_lead_and_watch_sentences_of_a_plain_article():
    signals = find_signals(seed("003").read_text(encoding="utf-8"))
    assert signals[0].kind == "lead"
    assert signals[0].text.startswith("Seeing a high likelihood that the TRIPP route")
    assert any(s.kind == "watch" and "signaling" in s.text for s in signals)


@pytest.mark.parametrize("path", SEEDS, ids=[p.name[:3] for p in SEEDS])
def test_drafts_load_match_their_signals_and_say_where_they_come_from(path, tmp_path):
    out = tmp_path / "drafts.yaml"
    out.write_text(derive_yaml(path, seed_label=f"seeds/{path.name}"), encoding="utf-8")
    rule_set = load_rules([out])
    assert len(rule_set.rules) >= 3
    signals = {s.text for s in find_signals(path.read_text(encoding="utf-8"))}
    for rule in rule_set.rules:
        assert rule.status == "draft" and rule.id.startswith(f"draft-{path.name[:3]}-")
        assert rule.derived_from.seed == f"seeds/{path.name}"
        assert rule.derived_from.signal in signals
        assert [e.text for e in rule.examples] == [rule.derived_from.signal]
    assert check_rules([out]) == []  # every draft fires on its own signal sentence
    assert rule_set.active() == []


def test_vocabularies_expand_the_drafts(tmp_path):
    vocabs = load_rule_set([FIXTURES])[0].vocabularies
    rules = draft_rules(seed("000"), seed("000").read_text(encoding="utf-8"), vocabs)
    first = rules[0]["match"]
    flat = [t for group in first["all"] for t in group["any"]]
    assert "$release_words" in flat and "$azerbaijan" in flat  # "release", "Azerbaijan" are in them
    assert "МИД" in flat  # built-in Russian equivalent of MFA
    out = tmp_path / "drafts.yaml"
    out.write_text(derive_yaml(seed("000"), vocabs), encoding="utf-8")
    rule_set = load_rules([FIXTURES, out])  # $names resolve with the rules folder
    matcher = Matcher(rule_set.rules)
    fired = {
        m.rule_id for m in matcher.match_text("МИД России: Азербайджан согласился на освобождение")
    }
    assert rules[0]["id"] in fired  # the Russian side of a draft, from the vocabularies


def test_the_cli_writes_drafts_next_to_the_rules(tmp_path):
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    for f in FIXTURES.glob("*.yaml"):
        (rules_dir / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    out = rules_dir / "drafts-002.yaml"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["rules", "derive", str(seed("002")), "-o", str(out), "--rules", str(rules_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "draft rules to" in result.stderr
    data = YAML(typ="safe").load(out.read_text(encoding="utf-8"))
    assert all(r["status"] == "draft" for r in data["rules"])
    check = runner.invoke(cli, ["rules", "check", str(rules_dir)])
    assert check.exit_code == 0, check.output
    # deriving again over an existing draft file works
    again = runner.invoke(
        cli, ["rules", "derive", str(seed("002")), "-o", str(out), "--rules", str(rules_dir)]
    )
    assert again.exit_code == 0 and "warning" not in again.stderr


def test_the_actor_and_action_tables_are_package_data():
    from importlib import resources

    from monitor import derive

    assert resources.files("monitor").joinpath("derive_terms.yaml").is_file()
    assert derive.ACTORS["Baku"] == ("Баку",)
    assert derive.ACTIONS["release"] == ("освобождение", "освободить", "освобождены")
    assert len(derive.ACTORS) == 34 and len(derive.ACTIONS) == 44
