"""`monitor hits` and `monitor hits show` — the hit log and one hit (triage is added to the
group by ``monitor.cli.triage``, the export by ``monitor.cli.export``).

Listing is for people (a rich table: colours, relative times) unless ``--json`` or ``--csv``
asks for a stable machine form (see ``monitor.web.present.hit_record``).
"""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table
from rich.text import Text

from monitor.cli.export import export, history_record, write_csv
from monitor.cli.shared import (
    SEVERITY_STYLE,
    STATUS_STYLE,
    filter_options,
    open_store,
    rich_console,
    severity_text,
)
from monitor.models import utcnow
from monitor.store.hits import HitFilter
from monitor.timefmt import ago
from monitor.web.present import document_parts, exact, hit_record, snippet_parts


def _marked(parts: list[tuple[str, bool]]) -> Text:
    text = Text()
    for chunk, marked in parts:
        text.append(chunk, style="bold black on yellow" if marked else "")
    return text


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
        write_csv([hit_record(h) for h in found], sys.stdout)
        return
    console = rich_console()
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
            severity_text(h.severity),
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
        record["status_comment"] = row.status_comment
        record["text"] = row.text
        record["history"] = [history_record(n) for n in notes]
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
    c = rich_console()
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
    if row.status_by:
        status.append(f"  by {row.status_by} {ago(row.status_at, now)}", style="dim")
    if row.status_reason or row.status_comment:
        status.append(
            "  (" + ": ".join(t for t in (row.status_reason, row.status_comment) if t) + ")"
        )
    meta.add_row("Status", status)
    c.print(meta)
    c.print()
    if hit.snippet:
        c.print(_marked(snippet_parts(hit.snippet)))
    elif hit.spans:
        c.print(_marked(document_parts(hit.title, row.text, hit.spans)[1]))
    if notes:
        c.print()
        c.print("[bold]History[/bold]")
        history = Table(box=None, show_header=False, pad_edge=False)
        for n in notes:
            history.add_row(exact(n.created_at), Text(n.by or ""), n.action, Text(n.text or ""))
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


hits.add_command(export)

COMMANDS: list[click.Command] = [hits]
