"""`monitor rules check|test|schema` through the real command line (click's runner, in-process)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli

FIXTURES = Path(__file__).parent / "rules_fixtures"


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(FIXTURES, target)
    return target


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def test_check_passes_on_good_rules(rules_dir):
    result = run("rules", "check", str(rules_dir))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "ok: 4 rules (2 active, 1 draft, 1 disabled), 3 vocabularies" in result.stderr


def test_check_prints_every_problem_as_file_line_col_and_exits_1(rules_dir):
    (rules_dir / "broken.yaml").write_text(
        "- id: b1\n  title: t\n  match: [$nope]\n"
        "- id: b2\n  title: t\n  match: [Baku]\n  examples: {match: [Moscow only]}\n",
        encoding="utf-8",
    )
    result = run("rules", "check", str(rules_dir))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines == [
        f"{rules_dir / 'broken.yaml'}:3:11: rule 'b1': match[0]: unknown vocabulary $nope "
        "(known: azerbaijan, release_words, russians)",
        f"{rules_dir / 'broken.yaml'}:7:22: rule 'b2': example should match but does not: 'Moscow only'",
    ]
    assert "2 problems" in result.stderr


def test_check_defaults_to_the_rules_folder_without_a_config(tmp_path, monkeypatch):
    shutil.copytree(FIXTURES, tmp_path / "rules")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    result = run("rules", "check")
    assert result.exit_code == 0, result.output
    assert "in 3 files" in result.stderr


def test_check_uses_the_config_rule_paths(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "mine")
    (tmp_path / "config.yaml").write_text("rules:\n  paths: [mine]\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "config.yaml"), "rules", "check"])
    assert result.exit_code == 0, result.output
    assert "in 3 files" in result.stderr


def test_test_json_is_one_object_per_input_per_line(rules_dir, tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("Nothing to see here.\n", encoding="utf-8")
    text = "Baku agrees to hand over the eleven Russians.\n"
    result = run(
        "rules", "test", "--rules", str(rules_dir), "--json", "-", str(article), input=text
    )
    assert result.exit_code == 0, result.output
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert first["file"] == "-" and second == {"file": str(article), "hits": []}
    (hit,) = first["hits"]
    assert set(hit) >= {"rule", "severity", "terms", "spans", "snippet"}
    assert hit["rule"] == "detainees-release" and hit["severity"] == "high"
    assert [text[s:e] for s, e in hit["spans"]] == ["Baku", "hand over", "eleven Russians"]
    # one term per place found: "handed over" (the same words, another spelling) is not named again
    assert hit["terms"] == ["Baku", "hand over", "eleven Russians", "Russians"]
    assert "**hand over**" in hit["snippet"]


def test_test_flags_drafts_and_filters_by_rule(rules_dir):
    result = run("rules", "test", "--rules", str(rules_dir), "-", input="some draft words here")
    assert result.exit_code == 0, result.output
    assert "draft-rule  [draft]" in result.stdout and "why:" in result.stdout
    result = run(
        "rules", "test", "--rules", str(rules_dir), "--json", "-", input="some draft words"
    )
    assert json.loads(result.stdout)["hits"][0]["status"] == "draft"
    result = run(
        "rules",
        "test",
        "--rules",
        str(rules_dir),
        "--rule",
        "disabled-rule",
        "--json",
        "-",
        input="anything at all",
    )
    assert [h["rule"] for h in json.loads(result.stdout)["hits"]] == ["disabled-rule"]
    result = run("rules", "test", "--rules", str(rules_dir), "--rule", "nope", "-", input="x")
    assert result.exit_code == 2 and "unknown rule nope" in result.output


def test_test_reports_where_terms_are(rules_dir):
    text = "Headline\nAzerbaijan will free the eleven Russians."
    result = run("rules", "test", "--rules", str(rules_dir), "-", input=text)
    assert "'Azerbaijan'@2:1" in result.stdout and "'free'@2:17" in result.stdout
    assert "1 rule fires" in result.stdout


def test_test_title_line_makes_the_first_line_the_title(tmp_path):
    (tmp_path / "r.yaml").write_text(
        "- {id: t1, title: t, match: {any: [Baku], in: title}}\n", encoding="utf-8"
    )
    plain = run(
        "rules", "test", "--rules", str(tmp_path), "--json", "-", input="Baku news\nbody text"
    )
    assert json.loads(plain.stdout)["hits"] == []
    titled = run(
        "rules",
        "test",
        "--rules",
        str(tmp_path),
        "--json",
        "--title-line",
        "-",
        input="Baku news\nbody",
    )
    assert [h["spans"] for h in json.loads(titled.stdout)["hits"]] == [[[0, 4]]]


def test_test_refuses_broken_rules_with_their_locations(tmp_path):
    (tmp_path / "r.yaml").write_text(
        "- {id: t1, title: t, match: [{regex: '(a'}]}\n", encoding="utf-8"
    )
    result = run("rules", "test", "--rules", str(tmp_path), "-", input="x")
    assert result.exit_code == 2
    assert f"{tmp_path / 'r.yaml'}:1:30: rule 't1': match[0]: invalid regex" in result.output


def test_schema_is_json_for_editors(tmp_path):
    result = run("rules", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    group = schema["$defs"]["GroupSpec"]["properties"]
    assert {"all", "any", "none", "at_least", "of", "near", "within", "sentence", "in"} <= set(
        group
    )
    out = tmp_path / "s.json"
    assert run("rules", "schema", "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text()) == schema
