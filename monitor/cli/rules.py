"""`monitor rules …` — check, test, derive, schema, backtest (and `stats`, from the hits area).

Rule paths: the arguments or ``--rules``; else the config's ``rules.paths``; else ``./rules``
when there is no config file.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.errors import ConfigError, ConfigErrors
from monitor.models import Item, RuleMatch

if TYPE_CHECKING:
    from monitor.backtest import BacktestResult
    from monitor.rules import RuleSet

SEVERITY_COLOUR = {
    "info": "white",
    "low": "cyan",
    "medium": "yellow",
    "high": "red",
    "critical": "magenta",
}


def rule_paths(ctx: click.Context, given: tuple[str, ...] | list[str] = ()) -> list[Path]:
    """The rule paths to use: given ones, else the config's, else ./rules without a config."""
    if given:
        return [Path(p) for p in given]
    obj = ctx.obj
    config_path = obj.config_path or os.environ.get("MONITOR_CONFIG")
    if config_path is None and not Path("config.yaml").exists():
        return [Path("rules")]
    return list(obj.config.rule_paths)


def _load(paths: list[Path]) -> RuleSet:
    from monitor.rules import load_rule_set

    rule_set, errors = load_rule_set(paths)
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigErrors(list[ConfigError](errors))
    return rule_set


@click.group("rules")
def rules_group() -> None:
    """Watch rules: validate, try on texts, draft from briefs, replay history.

    \b
    Example:
      monitor rules check
      echo "Baku frees the eleven Russians" | monitor rules test -
    """


# -- check ---------------------------------------------------------------------------------
@rules_group.command("check")
@click.argument("paths", nargs=-1, type=click.Path())
@click.pass_context
def check_cmd(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Validate rule files and run every rule's examples.

    Each problem is printed as file:line:col: message. Exits 1 on any problem, 0 otherwise.
    PATHS are files or folders (default: the config's rule paths, else ./rules).

    \b
    Example:
      monitor rules check
      monitor rules check rules/detainees.yaml rules/vocabularies.yaml
    """
    from monitor.rules import check_examples, load_rule_set

    targets = rule_paths(ctx, paths)
    rule_set, errors = load_rule_set(targets)
    problems = errors + check_examples(rule_set.rules)
    for p in problems:
        click.echo(str(p))
    examples = sum(len(r.examples) for r in rule_set.rules)
    statuses = {
        s: sum(1 for r in rule_set.rules if r.status == s) for s in ("active", "draft", "disabled")
    }
    summary = (
        f"{len(rule_set.rules)} rules ({statuses['active']} active, {statuses['draft']} draft, "
        f"{statuses['disabled']} disabled), {len(rule_set.vocabularies)} vocabularies, "
        f"{examples} examples in {len(rule_set.files)} files"
    )
    if problems:
        click.echo(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''}; {summary}", err=True
        )
        sys.exit(1)
    click.echo(f"ok: {summary}", err=True)


# -- test ----------------------------------------------------------------------------------
def _read_input(name: str) -> str:
    if name == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            raise click.FileError(name, hint=exc.strerror) from None
    return data.decode("utf-8", errors="replace")


def _line_col(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{col}"


@rules_group.command("test")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--rules",
    "rules_dirs",
    multiple=True,
    type=click.Path(),
    help="Rule file or folder (repeatable; default: the config's rule paths).",
)
@click.option(
    "--rule", "rule_ids", multiple=True, help="Only this rule (repeatable); disabled rules too."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input, one per line.")
@click.option(
    "--title-line",
    is_flag=True,
    help="Treat each input's first line as the item title (for rules scoped to the title).",
)
@click.option("--language", default=None, help="The inputs' language (default: detected).")
@click.pass_context
def test_cmd(
    ctx: click.Context,
    inputs: tuple[str, ...],
    rules_dirs: tuple[str, ...],
    rule_ids: tuple[str, ...],
    as_json: bool,
    title_line: bool,
    language: str | None,
) -> None:
    """Which rules fire on each text, and why.

    INPUTS are files, or - for standard input. Draft rules are tried too and flagged.
    With --json, each line is {"file": PATH, "hits": [{"rule", "severity", "terms",
    "spans", "snippet", …}]}; spans are [start, end] character offsets into the input
    (with --title-line, into title + blank line + body).

    \b
    Example:
      monitor rules test article.txt
      echo "Baku frees the eleven Russians" | monitor rules test --json -
    """
    from monitor.matching import Matcher

    rule_set = _load(rule_paths(ctx, rules_dirs))
    if rule_ids:
        known = {r.id for r in rule_set.rules}
        unknown = [r for r in rule_ids if r not in known]
        if unknown:
            from monitor.suggest import did_you_mean

            raise click.BadParameter(
                "; ".join(f"unknown rule {r}{did_you_mean(r, known)}" for r in unknown),
                param_hint="--rule",
            )
        rules = [r for r in rule_set.rules if r.id in rule_ids]
    else:
        rules = [r for r in rule_set.rules if r.status != "disabled"]
    status = {r.id: r.status for r in rules}
    matcher = Matcher(rules)
    for name in inputs:
        raw = _read_input(name)
        title, body = "", raw
        if title_line:
            first, _, rest = raw.partition("\n")
            title, body = first.strip(), rest.strip("\n")
        item = Item(source="cli", key=name, title=title, text=body, language=language)
        hits = matcher.match(item)
        if as_json:
            click.echo(
                json.dumps(
                    {"file": name, "hits": [m.record(status[m.rule_id]) for m in hits]},
                    ensure_ascii=False,
                )
            )
            continue
        _print_hits(name, item.document, hits, status)


def _print_hits(name: str, document: str, hits: list[RuleMatch], status: dict[str, str]) -> None:
    from monitor.text import snippet

    colour = sys.stdout.isatty()
    label = "stdin" if name == "-" else name
    if not hits:
        click.echo(f"{label}: no rule fires")
        return
    click.echo(
        f"{label}: {len(hits)} rule{'s' if len(hits) != 1 else ''} fire{'s' if len(hits) == 1 else ''}"
    )
    for m in hits:
        sev = (
            click.style(f"{m.severity.upper():8}", fg=SEVERITY_COLOUR.get(m.severity), bold=True)
            if colour
            else f"{m.severity.upper():8}"
        )
        flag = "  [draft]" if status.get(m.rule_id) == "draft" else ""
        click.echo(f"  {sev} {m.rule_id}{flag} — {m.rule_title}")
        click.echo(f"           why:   {m.why}")
        where = ", ".join(f"{document[s:e]!r}@{_line_col(document, s)}" for s, e in m.spans[:12])
        click.echo(f"           terms: {where}")
        text = snippet(document, m.spans, style="ansi" if colour else "markdown")
        click.echo(f"           » {text}")


# -- derive --------------------------------------------------------------------------------
@rules_group.command("derive")
@click.argument("seed", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the drafts here (default: standard output).",
)
@click.option(
    "--rules",
    "rules_dirs",
    multiple=True,
    type=click.Path(),
    help="Where the vocabularies are (default: the config's rule paths).",
)
@click.pass_context
def derive_cmd(
    ctx: click.Context, seed: str, output: str | None, rules_dirs: tuple[str, ...]
) -> None:
    """Draft one rule per signal of a brief (status: draft).

    Reads the brief's "Key Signals" list, or where it has none its summary bullets (or
    lead) and "what to watch" sentences; builds each rule from the quoted words, named
    actors and action words, using the vocabularies in the rules folder ($name) and
    Russian equivalents. Load the output together with the rules folder.

    \b
    Example:
      monitor rules derive seeds/000_23b8853a9eabba21.txt -o rules/drafts-000.yaml
      monitor rules check
    """
    from monitor.derive import derive_yaml
    from monitor.rules import load_rule_set

    vocabularies = {}
    paths = [p for p in rule_paths(ctx, rules_dirs) if p.exists()]
    if output:
        out_resolved = Path(output).resolve()
    if paths:
        rule_set, errors = load_rule_set(paths)
        vocabularies = rule_set.vocabularies
        # a previous draft file in the rules folder is not a problem for deriving again
        errors = [e for e in errors if not (output and Path(str(e.path)).resolve() == out_resolved)]
        if errors:
            click.echo(
                f"warning: {len(errors)} problems in the rules; using the vocabularies that load "
                f"(first: {errors[0]})",
                err=True,
            )
    text = derive_yaml(Path(seed), vocabularies, seed_label=seed)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {text.count(chr(10) + '  - id: ')} draft rules to {output}", err=True)
    else:
        click.echo(text, nl=False)


# -- schema --------------------------------------------------------------------------------
@rules_group.command("schema")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write it here."
)
def schema_cmd(output: str | None) -> None:
    """Print the JSON Schema of rule files (for editors' completion and checking).

    \b
    Example:
      monitor rules schema -o .vscode/rules.schema.json
      # then in a rule file:  # yaml-language-server: $schema=../.vscode/rules.schema.json
    """
    from monitor.rules import rules_json_schema

    text = json.dumps(rules_json_schema(), indent=2, ensure_ascii=False) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


# -- backtest ------------------------------------------------------------------------------
@rules_group.command("backtest")
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
    from monitor.matching import Matcher
    from monitor.models import utcnow
    from monitor.store import open_store
    from monitor.store.hits import parse_when

    cfg = ctx.obj.config
    rule_set = _load(rule_paths(ctx, rules_dirs))
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


def _commands() -> list[click.Command]:
    from monitor.cli.stats import RULES_SUBCOMMANDS  # `monitor rules stats` reads the hit log

    for command in RULES_SUBCOMMANDS:
        rules_group.add_command(command)
    return [rules_group]


COMMANDS: list[click.Command] = _commands()

__all__ = ["COMMANDS", "rule_paths"]
