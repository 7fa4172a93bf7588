"""Checking rules against their own examples: above the matcher, which it runs.

rules ─► one Matcher of all of them ─► each example (match / no_match) of each rule,
         matched against that rule alone ─► a RuleError at the example's file:line:col
         for each that fails
"""

from __future__ import annotations

from pathlib import Path

from monitor.errors import RuleError
from monitor.matching import Matcher
from monitor.rules.loader import load_rule_set
from monitor.rules.model import Rule

__all__ = ["check_examples", "check_rules"]


def check_rules(paths: list[Path] | list[str]) -> list[RuleError]:
    """Every problem: validation errors, then each rule's examples that fail."""
    rule_set, errors = load_rule_set(paths)
    return errors + check_examples(rule_set.rules)


def check_examples(rules: list[Rule]) -> list[RuleError]:
    """Run every rule's examples through one matcher of all the rules."""
    if not rules:
        return []
    matcher = Matcher(rules)
    problems: list[RuleError] = []
    for rule in rules:
        for ex in rule.examples:
            fired = {m.rule_id: m for m in matcher.match(ex.item(), rule_ids={rule.id})}
            hit = fired.get(rule.id)
            if ex.expect and hit is None:
                problems.append(
                    RuleError(
                        f"rule {rule.id!r}: example should match but does not: {ex.preview!r}",
                        path=rule.path,
                        line=ex.line,
                        column=ex.column,
                    )
                )
            elif not ex.expect and hit is not None:
                problems.append(
                    RuleError(
                        f"rule {rule.id!r}: example should not match but does ({hit.why}): {ex.preview!r}",
                        path=rule.path,
                        line=ex.line,
                        column=ex.column,
                    )
                )
    return problems
