"""`monitor hits …` — the hit log: list, show, triage, export; and `monitor rules stats`.

Listing is for people (a rich table: colours, relative times) unless ``--json`` or ``--csv``
asks for a stable machine form (see ``monitor.web.present.hit_record``).
"""

from __future__ import annotations

import csv
import functools
import getpass
import json
import sys
from datetime import datetime
from typing import Any, Callable, Iterable, TextIO

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from monitor.models import SEVERITIES, utcnow
from monitor.store.base import parse_ts
from monitor.store.hits import STATUSES, HitFilter, parse_when
from monitor.store import Store, open_store as _open
from monitor.timefmt import ago
from monitor.web.present import (
    csv_value,
    document_parts,
    exact,
    hit_record,
    row_record,
    snippet_parts,
)

SEVERITY_STYLE = {
    "info": "dim",
    "low": "cyan",
    "medium": "yellow",
    "high": "bold red",
    "critical": "bold white on red",
}
STATUS_STYLE = {"new": "bold", "acked": "green", "dismissed": "dim strike"}
RECORD_FIELDS = [
    "id",
    "created_at",
    "rule",
    "rule_title",
    "severity",
    "status",
    "status_reason",
    "status_comment",
    "status_by",
    "status_at",
    "notes",
    "history",
    "source",
    "title",
    "url",
    "published",
    "tags",
    "terms",
    "why",
    "snippet",
    "also_in",
    "rules",
]


def open_store(ctx: click.Context) -> Store:
    cfg = ctx.obj.config
    return _open(cfg)


def who(by: str | None) -> str:
    """Who did it: ``--by``, else the OS user."""
    if by:
        return by
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (some containers)
        return "unknown"


def _when(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_when(value, utcnow())
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def _search(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from monitor.store.search import SearchError, check_search

    if not value:
        return None
    try:
        return check_search(value)
    except SearchError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def filter_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The shared hit filters, gathered into a ``hit_filter`` argument."""
    options = [
        click.option(
            "--rule", "-r", multiple=True, metavar="ID", help="Only this rule (repeatable)."
        ),
        click.option(
            "--tag",
            "-t",
            multiple=True,
            metavar="TAG",
            help="Only hits whose rule has this tag (repeatable).",
        ),
        click.option(
            "--severity",
            "-s",
            multiple=True,
            type=click.Choice(SEVERITIES),
            help="Only this severity (repeatable).",
        ),
        click.option(
            "--source", multiple=True, metavar="NAME", help="Only this source (repeatable)."
        ),
        click.option(
            "--status",
            multiple=True,
            type=click.Choice(STATUSES),
            help="Only this status (repeatable).",
        ),
        click.option(
            "--since",
            callback=_when,
            metavar="WHEN",
            help="Recorded at or after: 6h, 2d, 1w, today, yesterday, 2026-11-20, 2026-11-20T08:00.",
        ),
        click.option(
            "--until",
            callback=_when,
            metavar="WHEN",
            help="Recorded before (same forms as --since).",
        ),
        click.option(
            "--search",
            "-q",
            metavar="TEXT",
            callback=_search,
            help="Full-text search over item titles and bodies: every word (prefix match), "
            '"an exact phrase", Armenia OR Baku, -leave-out.',
        ),
    ]

    @functools.wraps(fn)
    def wrapper(
        *args: Any,
        rule: tuple[str, ...],
        tag: tuple[str, ...],
        severity: tuple[str, ...],
        source: tuple[str, ...],
        status: tuple[str, ...],
        since: datetime | None,
        until: datetime | None,
        search: str | None,
        **kwargs: Any,
    ) -> Any:
        f = HitFilter(
            rule=list(rule),
            tag=list(tag),
            severity=list(severity),
            source=list(source),
            status=list(status),
            since=since,
            until=until,
            search=search,
        )
        return fn(*args, hit_filter=f, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _console() -> Console:
    return Console(file=sys.stdout, highlight=False)


def _severity(sev: str) -> Text:
    return Text(sev, style=SEVERITY_STYLE.get(sev, ""))


def _marked(parts: list[tuple[str, bool]]) -> Text:
    text = Text()
    for chunk, marked in parts:
        text.append(chunk, style="bold black on yellow" if marked else "")
    return text


def _write_csv(records: Iterable[dict[str, Any]], out: TextIO, with_text: bool = False) -> None:
    fields = RECORD_FIELDS + (["text"] if with_text else [])
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: csv_value(v) for k, v in record.items()})


# -- monitor hits -------------------------------------------------------------------------
@click.group("hits", invoke_without_command=True)
@filter_options
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=1),
    default=None,
    help="At most this many hits (default: 50 in the table, all with --json/--csv).",
)
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many (paging).")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of hits, for scripts.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row, for spreadsheets.")
@click.pass_context
def hits(
    ctx: click.Context,
    hit_filter: HitFilter,
    limit: int | None,
    offset: int,
    as_json: bool,
    as_csv: bool,
) -> None:
    """The hit log, newest first: time, rule, severity, source, title, link.

    \b
    Example:
      monitor hits                                  # the latest 50
      monitor hits --since 2d --severity high --status new
      monitor hits --search "rail transit" --json   # both words, for scripts
      monitor hits --search 'Armenia OR Baku -"stock exchange"'
      monitor hits --rule detainees-release --csv > hits.csv
    """
    if ctx.invoked_subcommand is not None:
        return
    if as_json and as_csv:
        raise click.UsageError("choose one of --json or --csv")
    if limit is None and not (as_json or as_csv):
        limit = 50
    with open_store(ctx) as store:
        found = store.list_hits(limit=limit, offset=offset, **hit_filter.kwargs())
        total = store.count_hits(**hit_filter.kwargs()) if not (as_json or as_csv) else len(found)
    if as_json:
        click.echo(json.dumps([hit_record(h) for h in found], ensure_ascii=False, indent=2))
        return
    if as_csv:
        _write_csv([hit_record(h) for h in found], sys.stdout)
        return
    console = _console()
    if not found:
        console.print("No hits match." if total == 0 and offset == 0 else "No more hits.")
        return
    now = utcnow()
    table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
    # one line per hit: long values end in "…" (hits show ID has them whole); on a
    # narrow terminal the link gives way to the title
    wide = console.width >= 120
    rows = []
    for h in found:
        row = [
            str(h.id),
            ago(h.created_at, now),
            h.rule_id,
            h.severity,
            h.status,
            h.source,
            h.title,
        ]
        if wide:
            row.append(h.url or "")
        rows.append(row)

    def fit(i: int, cap: int) -> int:
        return min(cap, max(len(r[i]) for r in rows))

    widths = [
        max(2, fit(0, 8)),
        max(4, fit(1, 9)),
        max(4, fit(2, 34 if wide else 22)),
        8,
        max(6, fit(4, 9)),
        max(6, fit(5, 18 if wide else 10)),
    ]
    link = max(4, fit(7, 48)) if wide else 0
    title = max(16, console.width - sum(widths) - link - 2 * (len(widths) + (1 if wide else 0)))
    table.add_column("ID", justify="right", style="dim", no_wrap=True, width=widths[0])
    table.add_column("When", no_wrap=True, width=widths[1])
    table.add_column("Rule", no_wrap=True, overflow="ellipsis", width=widths[2])
    table.add_column("Severity", no_wrap=True, width=widths[3])
    table.add_column("Status", no_wrap=True, width=widths[4])
    table.add_column("Source", no_wrap=True, overflow="ellipsis", width=widths[5])
    table.add_column("Title", no_wrap=True, overflow="ellipsis", width=title)
    if wide:
        table.add_column("Link", no_wrap=True, overflow="ellipsis", style="blue", width=link)
    for h, row in zip(found, rows):
        cells: list[str | Text] = [
            row[0],
            row[1],
            Text(row[2]),
            _severity(h.severity),
            Text(h.status, style=STATUS_STYLE.get(h.status, "")),
            Text(row[5]),
            Text(row[6]),
        ]
        if wide:
            cells.append(Text(row[7]))
        table.add_row(*cells)
    console.print(table)
    shown_to = offset + len(found)
    if total > shown_to or offset:
        console.print(
            f"[dim]{offset + 1}–{shown_to} of {total}; more with --offset {shown_to} or narrower filters[/dim]"
        )


@hits.command("show")
@click.argument("hit_id", type=int)
@click.option(
    "--json", "as_json", is_flag=True, help="The hit, its history and deliveries as JSON."
)
@click.pass_context
def show(ctx: click.Context, hit_id: int, as_json: bool) -> None:
    """One hit: the item, the rule and why it fired, the highlighted snippet, its
    history and every notification sent for it.

    \b
    Example:
      monitor hits show 42
      monitor hits show 42 --json
    """
    with open_store(ctx) as store:
        hit = store.get_hit(hit_id)
        if hit is None:
            raise click.ClickException(f"no hit {hit_id}")
        row = store.get_hit_row(hit_id)
        if row is None:
            raise click.ClickException(f"no hit {hit_id}")
        notes = store.hit_notes(hit_id)
        deliveries = store.deliveries_for_hit(hit_id)
    if as_json:
        record = hit_record(hit, row)
        record["status_comment"] = row.get("status_comment")
        record["text"] = row["text"]
        record["history"] = [
            {"action": n["action"], "text": n["text"], "by": n["by"], "at": exact(n["created_at"])}
            for n in notes
        ]
        record["deliveries"] = [
            {
                "channel": d.channel,
                "status": d.status,
                "attempts": d.attempts,
                "sent_at": exact(d.sent_at) if d.sent_at else None,
                "error": d.last_error,
            }
            for d in deliveries
        ]
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    now = utcnow()
    c = _console()
    head = Text()
    head.append(f"#{hit.id}  ", style="dim")
    head.append(
        f" {hit.severity.upper()} ", style=SEVERITY_STYLE.get(hit.severity, "") + " reverse"
    )
    head.append("  ")
    head.append(hit.title or "(no title)", style="bold")
    c.print(head)
    meta = Table.grid(padding=(0, 2))
    meta.add_column(style="dim", no_wrap=True)
    meta.add_column(overflow="fold")
    meta.add_row(
        "Source", Text(hit.source + (f" (also in {', '.join(hit.also_in)})" if hit.also_in else ""))
    )
    meta.add_row("Link", Text(hit.url or "—", style="blue"))
    meta.add_row(
        "Published", f"{exact(hit.published)} ({ago(hit.published, now)})" if hit.published else "—"
    )
    meta.add_row("Recorded", f"{exact(hit.created_at)} ({ago(hit.created_at, now)})")
    meta.add_row("Rule", Text(f"{hit.rule_id} — {hit.rule_title}"))
    meta.add_row("Tags", Text(", ".join(hit.tags) or "—"))
    meta.add_row("Why", Text(hit.why or "—"))
    meta.add_row("Terms", Text(", ".join(hit.terms) or "—"))
    status = Text(hit.status, style=STATUS_STYLE.get(hit.status, ""))
    if row.get("status_by"):
        status.append(
            f"  by {row['status_by']} {ago(parse_ts(row['status_at']), now)}", style="dim"
        )
    if row.get("status_reason") or row.get("status_comment"):
        status.append(
            "  ("
            + ": ".join(t for t in (row.get("status_reason"), row.get("status_comment")) if t)
            + ")"
        )
    meta.add_row("Status", status)
    c.print(meta)
    c.print()
    if hit.snippet:
        c.print(_marked(snippet_parts(hit.snippet)))
    elif hit.spans:
        c.print(_marked(document_parts(hit.title, row["text"], hit.spans)[1]))
    if notes:
        c.print()
        c.print("[bold]History[/bold]")
        history = Table(box=None, show_header=False, pad_edge=False)
        for n in notes:
            history.add_row(
                exact(n["created_at"]), Text(n["by"] or ""), n["action"], Text(n["text"] or "")
            )
        c.print(history)
    c.print()
    if deliveries:
        c.print("[bold]Notifications[/bold]")
        table = Table(box=None, header_style="dim", pad_edge=False)
        for col in ("Channel", "Status", "Attempts", "Sent / next try", "Error"):
            table.add_column(col, overflow="fold")
        for d in deliveries:
            when = (
                exact(d.sent_at)
                if d.sent_at
                else (exact(d.next_attempt_at) if d.status == "pending" else "—")
            )
            style = {"sent": "green", "failed": "red", "pending": "yellow"}.get(d.status, "")
            table.add_row(
                Text(d.channel),
                Text(d.status, style=style),
                str(d.attempts),
                when,
                Text(d.last_error or ""),
            )
        c.print(table)
    else:
        c.print("[dim]No notifications for this hit.[/dim]")


def _with_triage(
    record: dict[str, Any], row: dict[str, Any], notes: list[dict[str, Any]], flat: bool
) -> dict[str, Any]:
    """An export record with the hit's comment, its notes and its whole triage history
    (for CSV, one line of text each: ``2026-11-20 08:15 UTC anna dismiss: false-positive — …``)."""
    history = [
        {"action": n["action"], "text": n["text"], "by": n["by"], "at": exact(n["created_at"])}
        for n in notes
    ]
    texts = [n["text"] for n in notes if n["action"] == "note" and n["text"]]
    record["status_comment"] = row.get("status_comment")
    if flat:
        record["notes"] = " | ".join(texts)
        record["history"] = " | ".join(
            f"{h['at']} {h['by'] or ''} {h['action']}" + (f": {h['text']}" if h["text"] else "")
            for h in history
        )
    else:
        record["notes"], record["history"] = texts, history
    return record


@hits.command("export")
@filter_options
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json", "jsonl"]), default="csv", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Write here (default: standard output).",
)
@click.option("--with-text", is_flag=True, help="Include each item's full text.")
@click.pass_context
def export(
    ctx: click.Context, hit_filter: HitFilter, fmt: str, output: TextIO, with_text: bool
) -> None:
    """Export hits for a report: every matching hit, newest first, with its triage state.

    \b
    Example:
      monitor hits export --since 7d --format csv -o week.csv
      monitor hits export --since 2026-11-01 --until 2026-12-01 --format jsonl
      monitor hits export --status dismissed --format json
    """
    with open_store(ctx) as store:
        records = (
            _with_triage(row_record(r, with_text), r, store.hit_notes(r["id"]), flat=fmt == "csv")
            for r in store.iter_hit_rows(**hit_filter.kwargs())
        )
        if fmt == "csv":
            _write_csv(records, output, with_text)
        elif fmt == "jsonl":
            for record in records:
                output.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            output.write("[")
            for i, record in enumerate(records):
                output.write(("," if i else "") + "\n  " + json.dumps(record, ensure_ascii=False))
            output.write("\n]\n")


COMMANDS: list[click.Command] = [hits]
