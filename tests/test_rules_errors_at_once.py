"""Rule files: every problem in one pass, at its own line and column, in plain words, with
"did you mean …?" for a misspelt key, value, vocabulary or rule id."""

from __future__ import annotations

from click.testing import CliRunner

from monitor.cli import cli
from monitor.rules import check_rules

FIVE_MISTAKES = """\
vocabularies:
  russians: [Russian citizens, Russians]
rules:
  - id: one
    title: One
    severity: hihg
    match:
      all:
        - any: [$russian]
        - any: [Baku]
  - id: two
    title: Two
    severity: high
    match:
      any:
        - regex: "(abc"
        - Baku
  - id: three
    title: Three
    severity: low
    tagz: [x]
    match:
      anyy: [Baku]
"""


def test_five_mistakes_one_run(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(FIVE_MISTAKES, encoding="utf-8")
    got = [str(e).replace(f"{path}:", "") for e in check_rules([path])]
    assert got == [
        "6:5: rule 'one': severity: 'hihg' is not one of info, low, medium, high or critical (did you mean 'high'?)",
        "9:17: rule 'one': match.all[0].any[0]: unknown vocabulary $russian (did you mean $russians?)",
        "16:11: rule 'two': match.any[0]: invalid regex '(abc': missing ): (abc "
        "(RE2 syntax: no backreferences or lookaround)",
        "21:5: rule 'three': tagz: unknown key 'tagz' (did you mean 'tags'?)",
        "23:7: rule 'three': match.anyy: unknown key 'anyy' (did you mean 'any'?)",
    ]
    assert not any("b'" in line or "Input should" in line or "Value error" in line for line in got)


def test_rules_test_suggests_a_rule_id(project):
    result = CliRunner().invoke(
        cli,
        [
            "--config",
            str(project / "config.yaml"),
            "rules",
            "test",
            "--rule",
            "detainees-release-retrun",
            "-",
        ],
        input="Baku frees them",
    )
    assert result.exit_code == 2
    assert (
        "unknown rule detainees-release-retrun (did you mean 'detainees-release-return'?)"
        in result.output
    )
