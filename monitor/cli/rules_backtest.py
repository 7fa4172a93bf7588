"""``monitor rules backtest``: stored items replayed through the current rules, compared with
the hits recorded for them (added to the ``rules`` group by ``monitor.cli.rules``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from monitor.backtest import BacktestResult


@click.command("backtest")
@click.option("--since", default=None, help="Only items fetched since: 7d, 2026-11-01, yesterday …")
@click.option(
    "--rules",
    "rules_dirs",
    multiple=True,
    type=click.Path(),
    help="Rules to try (default: the config's rule paths).",
)
@click.option("--rule", "rule_ids", multiple=True, help="Compare only this rule (repeatable).")
@click.option(
    "--drafts", is_flag=True, help="Treat draft rules as active (try them before they go live)."
)
@click.option("--show", default=5, show_default=True, help="Items to list per rule and direction.")
@click.option("--json", "as_json", is_flag=True, help="Counts and changed items as JSON.")
@click.pass_context
def backtest_cmd(
    ctx: click.Context,
    since: str | None,
    rules_dirs: tuple[str, ...],
    rule_ids: tuple[str, ...],
    drafts: bool,
    show: int,
    as_json: bool,
) -> None:
    """Replay stored items through the current rules: what would now fire, and stop firing.

    Compares with the hits recorded in the database (an item folded into an earlier story
    counts that story's hits). Items the retention already pruned cannot be replayed.

    \b
    Example:
      monitor rules backtest --since 30d
      monitor rules backtest --rules rules/ --rule detainees-release-return --drafts
    """
    from monitor.backtest import backtest, backtest_record
    from monitor.cli.rules import load_checked_rules, rule_paths
    from monitor.matching import Matcher
    from monitor.models import utcnow
    from monitor.store import open_store
    from monitor.store.hits import parse_when

    cfg = ctx.obj.config
    rule_set = load_checked_rules(rule_paths(ctx, rules_dirs))
    wanted = {"active", "draft"} if drafts else {"active"}
    rules = [r for r in rule_set.rules if r.status in wanted]
    only = set(rule_ids) if rule_ids else None
    if only:
        rules = [r for r in rules if r.id in only]
    try:
        since_dt = parse_when(since, utcnow()) if since else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    matcher = Matcher(rules)
    store = open_store(cfg)
    try:
        result = backtest(store.backtest_items(since_dt), matcher, only)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(backtest_record(result), ensure_ascii=False, indent=2))
        return
    _print_backtest(result, show)


def _print_backtest(result: BacktestResult, show: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    new, gone = result.count("new"), result.count("gone")
    if not result.changes:
        console.print(
            f"{result.items} stored items replayed: every rule fires exactly as recorded."
        )
        return
    table = Table(title=f"{result.items} stored items replayed through the current rules")
    table.add_column("rule")
    table.add_column("unchanged", justify="right")
    table.add_column("would now fire", justify="right", style="green")
    table.add_column("would stop", justify="right", style="red")
    for rid in result.rules():
        table.add_row(
            rid,
            str(result.same.get(rid, 0)),
            str(new.get(rid, 0) or ""),
            str(gone.get(rid, 0) or ""),
        )
    console.print(table)
    for kind, word in (("new", "would now fire"), ("gone", "would no longer fire")):
        for rid in result.rules():
            items = [c for c in result.changes if c.rule_id == rid and c.kind == kind]
            if not items:
                continue
            console.print(
                f"\n[bold]{rid}[/bold] {word} on {len(items)} item{'s' if len(items) != 1 else ''}:",
                highlight=False,
            )
            for c in items[:show]:
                note = (
                    f" (recorded hit was {c.was_status})"
                    if c.was_status and c.was_status != "new"
                    else ""
                )
                console.print(
                    f"  • [{c.item.source}] {c.item.title or c.item.key}{note}",
                    highlight=False,
                    markup=False,
                )
                if c.match:
                    console.print(f"    {c.match.snippet}", highlight=False, markup=False)
            if len(items) > show:
                console.print(f"  … and {len(items) - show} more (--show N, or --json)")
