"""`monitor rules stats`: per-rule figures from the hit log (a subcommand of `rules`)."""

from __future__ import annotations

import json

import click
from rich.table import Table
from rich.text import Text

from monitor.cli.shared import open_store, rich_console, severity_text
from monitor.config import Config
from monitor.errors import MonitorError
from monitor.models import utcnow
from monitor.timefmt import ago


def loaded_rules(cfg: Config) -> list[tuple[str, str, str]]:
    """(id, title, severity) of the rules in the config's rule paths; empty when they cannot load."""
    from monitor.rules import load_rules

    try:
        loaded = load_rules(cfg.rule_paths)
    except (MonitorError, OSError):  # a broken rule file must not hide the numbers
        return []
    return [(r.id, r.title or r.id, str(r.severity)) for r in loaded.rules]


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="One object per rule, for scripts.")
@click.pass_context
def rules_stats(ctx: click.Context, as_json: bool) -> None:
    """Per rule: hits in the last 7 and 30 days, share dismissed as false positives,
    last fired — which rule to tighten, which never fires.

    \b
    Example:
      monitor rules stats
      monitor rules stats --json
    """
    cfg = ctx.obj.config
    now = utcnow()
    with open_store(ctx) as store:
        stats = store.rule_stats(now, rules=loaded_rules(cfg))
    if as_json:
        click.echo(json.dumps([s.as_dict() for s in stats], ensure_ascii=False, indent=2))
        return
    console = rich_console()
    if not stats:
        console.print("No rules and no hits yet.")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("Rule", overflow="fold")
    table.add_column("Severity", no_wrap=True)
    table.add_column("7 days", justify="right")
    table.add_column("30 days", justify="right")
    table.add_column("All", justify="right")
    table.add_column("False pos.", justify="right")
    table.add_column("Dismissed", justify="right")
    table.add_column("Last fired", no_wrap=True)
    for s in stats:
        share = s.false_positive_share
        share_text = Text(
            "—" if share is None else f"{share:.0%}",
            style="bold red" if share and share >= 0.25 else "",
        )
        table.add_row(
            Text(s.rule_id),
            severity_text(s.severity),
            str(s.last_7d),
            str(s.last_30d),
            str(s.total),
            share_text,
            str(s.dismissed),
            ago(s.last_fired, now) if s.last_fired else "never",
        )
    console.print(table)


RULES_SUBCOMMANDS: list[click.Command] = [rules_stats]
