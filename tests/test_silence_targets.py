"""A silence for a rule or a source that does not exist is refused (it would silence nothing)."""

from __future__ import annotations

from click.testing import CliRunner

from monitor.cli import cli


def _silence(project, *args):
    return CliRunner().invoke(
        cli,
        [
            "--config",
            str(project / "config.yaml"),
            "silence",
            "add",
            *args,
            "--for",
            "2d",
            "--comment",
            "talks ongoing",
        ],
    )


def _count(project):
    return (
        CliRunner()
        .invoke(cli, ["--config", str(project / "config.yaml"), "silence", "list", "--all"])
        .output
    )


def test_unknown_rule_is_refused_with_a_suggestion(project):
    result = _silence(project, "--rule", "detainees-release-retrun")
    assert result.exit_code == 2
    assert (
        "no rule 'detainees-release-retrun' (did you mean 'detainees-release-return'?)"
        in result.output
    )
    assert "Nothing was silenced." in result.output
    assert _count(project) == "no silences\n"


def test_unknown_source_is_refused_and_a_known_pair_is_accepted(project):
    refused = _silence(project, "--rule", "detainees-release-return", "--source", "tass")
    assert refused.exit_code == 2 and "no source named 'tass'" in refused.output
    assert "did you mean 'tass-en' or 'tass-ru'?" in refused.output
    assert _count(project) == "no silences\n"
    accepted = _silence(project, "--rule", "detainees-release-return", "--source", "tass-en")
    assert accepted.exit_code == 0, accepted.output
    assert "rule detainees-release-return and source tass-en" in accepted.output


def test_a_rule_in_a_broken_file_is_not_guessed(project):
    (project / "rules" / "broken.yaml").write_text(
        "- id: zzz\n  title: Z\n  severity: loud\n", encoding="utf-8"
    )
    result = _silence(project, "--rule", "zzz")
    assert (
        result.exit_code == 2
        and "problem(s) in the rule files: see `monitor rules check`" in result.output
    )
