"""Watch rules: the YAML format (pydantic, unknown keys are errors), loading, checking.

    rule files ──YAML with positions──► RuleSpec (spec) ──resolve $vocabularies, compile
    regexes (tree, regex)──► Rule (model; ``match`` is a tree of Term / Pattern / Group)

    spec.py      the format as pydantic models; its JSON Schema
    model.py     the compiled, frozen form the matcher reads
    regex.py     RE2 compiling, once; the literal a regex requires
    tree.py      a rule's match as written ─► its compiled tree
    problems.py  every problem at its file:line:col, in plain words
    loader.py    files, vocabularies, rules: load_rule_set / load_rules
    examples.py  each rule against its own examples, through the matcher (above it)

Every problem is a :class:`~monitor.errors.RuleError` naming ``file:line:col``; loading
collects all of them before raising (one :class:`~monitor.errors.ConfigErrors`).
The rule language is described for analysts in ``docs/rules.md``.

Nothing here imports the matcher: ``check_rules`` and ``check_examples`` live in
:mod:`monitor.rules.examples`, which does; importing them from this package loads that
module on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from monitor.rules.loader import load_rule_set, load_rules, rule_files
from monitor.rules.model import Example, Group, MatchNode, Pattern, Rule, RuleSet, Term, Vocabulary
from monitor.rules.regex import compile_regex, required_literal
from monitor.rules.spec import RuleSpec, rules_json_schema

__all__ = [
    "Example",
    "Group",
    "MatchNode",
    "Pattern",
    "Rule",
    "RuleSet",
    "RuleSpec",
    "Term",
    "Vocabulary",
    "check_examples",
    "check_rules",
    "compile_regex",
    "load_rule_set",
    "load_rules",
    "required_literal",
    "rule_files",
    "rules_json_schema",
]

_ABOVE_THE_MATCHER = {"check_rules", "check_examples"}


def __getattr__(name: str) -> Any:
    if name in _ABOVE_THE_MATCHER:
        return getattr(importlib.import_module("monitor.rules.examples"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
