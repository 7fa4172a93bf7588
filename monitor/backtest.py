"""Replay stored items through the current rules and compare with what was recorded.

    stored items (+ the rule ids recorded on each, or on its story's first item)
        ─► Matcher(current rules).match(item)
        ─► per rule: would fire now but did not (new), fired then but would not now (gone)

Pure: it is handed the items and recorded hits; the CLI reads them from the store.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from monitor.matching import Matcher
from monitor.models import Item, RuleMatch

__all__ = ["Change", "BacktestResult", "backtest"]


@dataclass(frozen=True)
class Change:
    """One item whose outcome for one rule changes."""

    rule_id: str
    kind: str  # "new" (would fire now) | "gone" (would no longer fire)
    item: Item
    was_status: str | None = None  # the recorded hit's triage status, for "gone"
    match: RuleMatch | None = None  # the evidence, for "new"


@dataclass
class BacktestResult:
    items: int = 0
    same: Counter[str] = field(default_factory=Counter)  # rule id → items firing then and now
    changes: list[Change] = field(default_factory=list)

    def count(self, kind: str) -> Counter[str]:
        return Counter(c.rule_id for c in self.changes if c.kind == kind)

    def rules(self) -> list[str]:
        ids = set(self.same) | {c.rule_id for c in self.changes}
        return sorted(ids)


def backtest(
    entries: Iterable[tuple[Item, dict[str, str]]],
    matcher: Matcher,
    rule_ids: set[str] | None = None,
) -> BacktestResult:
    """``entries``: each stored item with ``{rule_id: hit status}`` recorded for it.

    ``rule_ids`` limits the comparison to some rules (default: the matcher's rules, plus
    any recorded rule, so a removed rule's hits show as gone).
    """
    result = BacktestResult()
    for item, recorded in entries:
        result.items += 1
        now = {m.rule_id: m for m in matcher.match(item)}
        before = set(recorded)
        if rule_ids is not None:
            before &= rule_ids
            now = {k: v for k, v in now.items() if k in rule_ids}
        for rid in sorted(now.keys() - before):
            result.changes.append(Change(rid, "new", item, match=now[rid]))
        for rid in sorted(before - now.keys()):
            result.changes.append(Change(rid, "gone", item, was_status=recorded.get(rid)))
        for rid in before & now.keys():
            result.same[rid] += 1
    return result


def backtest_record(result: BacktestResult, max_changes: int | None = None) -> dict[str, Any]:
    """The replay as ``monitor rules backtest --json`` prints it (and the page's API returns):
    per rule how many items stay, start or stop firing, and the changes themselves (the
    first ``max_changes`` of them, with their total)."""
    new, gone = result.count("new"), result.count("gone")
    changes = result.changes if max_changes is None else result.changes[:max_changes]
    return {
        "items": result.items,
        "rules": [
            {
                "rule": rid,
                "same": result.same.get(rid, 0),
                "new": new.get(rid, 0),
                "gone": gone.get(rid, 0),
            }
            for rid in result.rules()
        ],
        "changes": [
            {
                "rule": c.rule_id,
                "change": c.kind,
                "source": c.item.source,
                "key": c.item.key,
                "title": c.item.title,
                "url": c.item.url,
                "was_status": c.was_status,
                "snippet": c.match.snippet if c.match else None,
            }
            for c in changes
        ],
        "changes_total": len(result.changes),
    }
