"""``monitor hits export`` (added to the ``hits`` group), and hit records as CSV: every
matching hit with its triage state, its notes and its whole history."""

from __future__ import annotations

import csv
import json
from typing import Any, Iterable, TextIO

import click

from monitor.cli.shared import filter_options, open_store
from monitor.models import HitNote
from monitor.store.hits import HitFilter
from monitor.web.present import csv_value, exact, row_record

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


def write_csv(records: Iterable[dict[str, Any]], out: TextIO, with_text: bool = False) -> None:
    fields = RECORD_FIELDS + (["text"] if with_text else [])
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: csv_value(v) for k, v in record.items()})


def history_record(note: HitNote) -> dict[str, Any]:
    """One entry of a hit's history as ``hits show --json`` and the exports write it."""
    return {"action": note.action, "text": note.text, "by": note.by, "at": exact(note.created_at)}


def _with_triage(
    record: dict[str, Any], row: dict[str, Any], notes: list[HitNote], flat: bool
) -> dict[str, Any]:
    """An export record with the hit's comment, its notes and its whole triage history
    (for CSV, one line of text each: ``2026-11-20 08:15 UTC anna dismiss: false-positive — …``)."""
    history = [history_record(n) for n in notes]
    texts = [n.text for n in notes if n.action == "note" and n.text]
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


@click.command("export")
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
            write_csv(records, output, with_text)
        elif fmt == "jsonl":
            for record in records:
                output.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            output.write("[")
            for i, record in enumerate(records):
                output.write(("," if i else "") + "\n  " + json.dumps(record, ensure_ascii=False))
            output.write("\n]\n")
