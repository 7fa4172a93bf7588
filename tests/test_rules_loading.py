"""Loading rule files: both shapes, vocabularies across files, and every error at file:line:col."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest

from monitor.errors import ConfigError, ConfigErrors, RuleError
from monitor.rules import (
    Group,
    Pattern,
    Term,
    check_rules,
    load_rule_set,
    load_rules,
    rules_json_schema,
)

FIXTURES = Path(__file__).parent / "rules_fixtures"


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


def errors_of(paths) -> list[RuleError]:
    _, errors = load_rule_set(paths)
    return errors


def where(err: ConfigError) -> tuple[str, int | None, int | None]:
    return Path(str(err.path)).name, err.line, err.column


def test_the_fixture_rules_load_in_both_shapes():
    rs = load_rules([FIXTURES])
    ids = [r.id for r in rs.rules]
    assert "detainees-release" in ids and "list-shaped" in ids  # mapping file and list file
    assert {r.id for r in rs.active()} == set(ids) - {"draft-rule", "disabled-rule"}
    rule = rs.get("detainees-release")
    assert rule.severity == "high" and rule.tags == ("detainees", "russia")
    assert rule.derived_from is not None and rule.derived_from.seed.startswith("seeds/000")
    assert Path(rule.path).name == "detainees.yaml" and rule.line == 3
    assert "release_words" in rs.vocabularies  # defined in vocabularies.yaml, used elsewhere
    with pytest.raises(KeyError):
        rs.get("nope")
    assert check_rules([FIXTURES]) == []


def test_vocabulary_references_expand_with_the_vocabulary_name(tmp_path):
    write(
        tmp_path,
        "v.yaml",
        """
        vocabularies:
          freeing: [free, "hand over", {term: ICE, exact: true}, {regex: 'set\\s+free'}]
          wider: [$freeing, release]
        """,
    )
    write(
        tmp_path,
        "r.yaml",
        """
        - id: r1
          title: t
          match: {any: [$wider, other]}
        """,
    )
    rule = load_rules([tmp_path]).get("r1")
    assert isinstance(rule.match, Group) and rule.match.op == "any"
    vocab = rule.match.children[0]
    assert vocab.vocabulary == "wider"
    leaves = list(_leaves(vocab))
    assert [(type(n).__name__, n.vocabulary) for n in leaves] == [
        ("Term", "freeing"),
        ("Term", "freeing"),
        ("Term", "freeing"),
        ("Pattern", "freeing"),
        ("Term", "wider"),
    ]
    assert leaves[1].words == ("hand", "over")
    assert leaves[2].exact


def _leaves(node):
    if isinstance(node, (Term, Pattern)):
        yield node
    else:
        for c in node.children:
            yield from _leaves(c)


def test_scope_is_inherited_by_vocabulary_terms(tmp_path):
    write(
        tmp_path,
        "r.yaml",
        """
        vocabularies:
          v: [alpha, {term: beta, in: body}]
        rules:
          - id: r1
            title: t
            match: {any: [$v], in: title}
        """,
    )
    leaves = list(_leaves(load_rules([tmp_path]).get("r1").match))
    assert [(n.text, n.scope) for n in leaves] == [("alpha", "title"), ("beta", "body")]


@pytest.mark.parametrize(
    "body,line,col,message",
    [
        (
            """
     - id: r1
       title: t
       match:
         all:
           - any: [$nope]
     """,
            5,
            15,
            "rule 'r1': match.all[0].any[0]: unknown vocabulary $nope",
        ),
        (
            """
     - id: r1
       title: t
       matc: [x]
       match: [y]
     """,
            3,
            3,
            "unknown key 'matc'",
        ),
        (
            """
     - id: r1
       title: t
       match:
         - regex: '(a)\\1'
     """,
            4,
            7,
            "invalid regex",
        ),
        (
            """
     - id: r1
       title: t
       severity: urgent
       match: [x]
     """,
            3,
            3,
            "severity",
        ),
        (
            """
     - id: Bad Id
       title: t
       match: [x]
     """,
            1,
            3,
            "id must be lower-case",
        ),
        (
            """
     - id: r1
       match: [x]
     """,
            1,
            3,
            "missing required key 'title'",
        ),
        (
            """
     - id: r1
       title: t
       match:
         all: [a]
         at_least: 2
     """,
            3,
            3,
            "rule 'r1': match: at_least and of go together",
        ),
        (
            """
     - id: r1
       title: t
       match:
         near: [a, b]
     """,
            3,
            3,
            "near and within go together",
        ),
        (
            """
     - id: r1
       title: t
       match:
         none: [a]
     """,
            3,
            3,
            "nothing to find",
        ),
        (
            """
     - id: r1
       title: t
       match: [ab*]
     """,
            3,
            11,
            "at least 3 letters",
        ),
        (
            """
     - id: r1
       title: t
       match: ["—"]
     """,
            3,
            11,
            "no letters or digits",
        ),
        (
            """
     - id: r1
       title: t
       match:
         any: [a, {bogus: 1}]
     """,
            4,
            15,
            "unknown key 'bogus'",
        ),
        (
            """
     - id: r1
       title: t
       match:
         near: [a, {all: [b]}]
         within: 3
     """,
            4,
            15,
            "expected a term",
        ),
        (
            """
     - id: r1
       title: t
       match: [a]
       examples: {match: [{title: ""}]}
     """,
            4,
            22,
            "examples.match[0]: an example needs a title or a text",
        ),
        (
            """
     - id: r1
       title: t
       match: [a
     """,
            4,
            1,
            "YAML syntax",
        ),
    ],
)
def test_each_problem_names_file_line_col(tmp_path, body, line, col, message):
    write(tmp_path, "bad.yaml", body)
    errs = errors_of([tmp_path])
    assert errs, "expected a problem"
    err = errs[0]
    assert where(err) == ("bad.yaml", line, col), str(err)
    assert message in err.message
    assert str(err).startswith(f"{tmp_path / 'bad.yaml'}:{line}:{col}: ")


def test_every_problem_is_reported_and_load_rules_raises_them_all(tmp_path):
    write(
        tmp_path,
        "a.yaml",
        """
        - id: dup
          title: t
          match: [x]
        - id: r2
          title: t
          match: [$missing]
        """,
    )
    write(
        tmp_path,
        "b.yaml",
        """
        rules:
          - id: dup
            title: t
            match: [y]
        extra: 1
        """,
    )
    with pytest.raises(ConfigErrors) as info:
        load_rules([tmp_path])
    errs = info.value.errors
    assert len(errs) == 3
    assert any("duplicate rule id 'dup'" in e.message and "a.yaml:1" in e.message for e in errs)
    assert any("unknown key 'extra'" in e.message for e in errs)
    assert any("unknown vocabulary $missing" in e.message and e.line == 6 for e in errs)
    assert all(e.path and e.line and e.column for e in errs)


def test_a_single_problem_is_raised_as_a_rule_error(tmp_path):
    write(tmp_path, "a.yaml", "- {id: r1, title: t, match: [$nope]}\n")
    with pytest.raises(RuleError):
        load_rules([tmp_path])


def test_vocabulary_problems(tmp_path):
    write(
        tmp_path,
        "v1.yaml",
        """
        vocabularies:
          a: [$b]
          b: [$a]
          same: [x]
        """,
    )
    write(
        tmp_path,
        "v2.yaml",
        """
        vocabularies:
          same: [y]
          bad name: [z]
        """,
    )
    msgs = [str(e) for e in errors_of([tmp_path])]
    assert any("refers to itself" in m for m in msgs), msgs
    assert any(
        "vocabulary 'same' is already defined at" in m and "v2.yaml:2:" in m for m in msgs
    ), msgs
    assert any("v2.yaml:3:" in m for m in msgs), msgs  # the name pattern


def test_missing_paths_and_empty_files(tmp_path):
    write(tmp_path, "empty.yaml", "# nothing yet\n")
    rs, errs = load_rule_set([tmp_path, tmp_path / "absent"])
    assert rs.rules == []
    assert [e.message for e in errs] == ["no such file or folder"]


def test_numbers_are_terms_and_lists_mean_any(tmp_path):
    write(
        tmp_path,
        "r.yaml",
        """
        - id: r1
          title: t
          match:
            all: [[11, eleven], [Russians]]
        """,
    )
    match = load_rules([tmp_path]).get("r1").match
    assert match.op == "all"
    first = match.children[0]
    assert first.op == "any" and [c.text for c in first.children] == ["11", "eleven"]


def test_failing_examples_are_problems_at_the_example_line(tmp_path):
    write(
        tmp_path,
        "r.yaml",
        """
        - id: r1
          title: t
          match: {all: [Baku, release]}
          examples:
            match:
              - Baku released them
              - Nothing here
            no_match:
              - {title: Baku release, text: "of a new album"}
        """,
    )
    problems = check_rules([tmp_path])
    assert [(p.line, p.column) for p in problems] == [(7, 9), (9, 9)]
    assert "should match but does not: 'Nothing here'" in problems[0].message
    assert "should not match but does" in problems[1].message


def test_the_json_schema_accepts_good_files_and_rejects_bad_ones(tmp_path):
    from ruamel.yaml import YAML

    schema = rules_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for f in sorted(FIXTURES.glob("*.yaml")):
        data = json.loads(json.dumps(YAML(typ="safe").load(f.read_text(encoding="utf-8"))))
        assert not list(validator.iter_errors(data)), f
    bad = [{"id": "r1", "title": "t", "match": {"any": ["a"], "within": "x"}}]
    assert list(validator.iter_errors(bad))
    bad_key = [{"id": "r1", "title": "t", "match": ["a"], "colour": "red"}]
    assert list(validator.iter_errors(bad_key))


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        ("release", "release"),
        (r"\bfree(d|ing)?\b", "free"),
        (r"x(abc)y", "abc"),  # a group's inside is a run of its own
        (r"(?i)Baku\s+\d+", "baku"),
        (r"foo|foobar", "foo"),  # a prefix common to every alternative
        (r"a|b", None),
        (r"[.]com\b", ".com"),  # a class of one character is that character
        (r"(?:ab)+cde", "cde"),
        (r"colou?r", "colo"),
        (r"ё\.Ёлка", "е.елка"),  # folded as the text is
        (r"\p{L}+ release", None),  # syntax the reader does not know: no literal
        (r"[[:alpha:]]+ baku", None),
    ],
)
def test_the_literal_a_regex_requires(pattern, literal):
    from monitor.rules import required_literal

    assert required_literal(pattern) == literal


def test_the_rules_package_does_not_import_the_matcher():
    import subprocess
    import sys

    code = (
        "import sys, monitor.rules; assert 'monitor.matching' not in sys.modules; "
        "from monitor.rules import check_examples, check_rules; "
        "assert check_rules.__module__ == 'monitor.rules.examples'; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


def test_a_rule_regex_is_compiled_once_and_carried_to_the_matcher(tmp_path):
    from monitor.matching import Matcher

    (tmp_path / "r.yaml").write_text(
        "- id: r\n  title: t\n  match: {regex: 'free(d|ing)? +\\d+'}\n", encoding="utf-8"
    )
    rule = load_rules([tmp_path]).rules[0]
    assert rule.match.compiled is not None
    leaf = Matcher([rule]).prefilter.rules[0].root.leaf
    assert leaf.regex is rule.match.compiled
