"""`monitor hits ack|dismiss|reopen|note`: triage of the hit log (added to the `hits` group)."""

from __future__ import annotations

import click

from monitor.cli.hits import hits
from monitor.cli.shared import open_store, who
from monitor.models import utcnow
from monitor.store.triage import TriageResult


def _report(action: str, result: TriageResult, plural_done: str) -> None:
    if result.changed:
        click.echo(
            f"{plural_done} {len(result.changed)} hit{'s' if len(result.changed) != 1 else ''}: "
            + ", ".join(map(str, result.changed))
        )
    if result.unchanged:
        click.echo(f"already {action}: " + ", ".join(map(str, result.unchanged)))
    if result.missing:
        raise click.ClickException("no such hit: " + ", ".join(map(str, result.missing)))


_by_option = click.option("--by", metavar="NAME", help="Who did it (default: the OS user).")
_note_option = click.option("--note", metavar="TEXT", help="A note to keep with the action.")


@click.command("ack")
@click.argument("ids", nargs=-1, required=True, type=int)
@_by_option
@_note_option
@click.pass_context
def ack(ctx: click.Context, ids: tuple[int, ...], by: str | None, note: str | None) -> None:
    """Acknowledge hits: seen, real, handled. Records who and when.

    \b
    Example:
      monitor hits ack 41 42 43
      monitor hits ack 42 --by anna --note "briefed the desk"
    """
    with open_store(ctx) as store:
        result = store.ack_hits(ids, by=who(by), now=utcnow(), note=note)
    _report("acknowledged", result, "acknowledged")


@click.command("dismiss")
@click.argument("ids", nargs=-1, required=True, type=int)
@click.option(
    "--reason",
    required=True,
    metavar="CATEGORY[: TEXT]",
    help="Why: false-positive (the rule was wrong), duplicate or irrelevant, optionally followed "
    'by your own words: --reason "false-positive: a software release".',
)
@click.option(
    "--comment",
    "--note",
    "comment",
    metavar="TEXT",
    help="A free-text comment, kept with the hit and in its history (and in exports).",
)
@_by_option
@click.pass_context
def dismiss(
    ctx: click.Context, ids: tuple[int, ...], reason: str, comment: str | None, by: str | None
) -> None:
    """Dismiss hits with a category and, if you like, a comment in your own words. False
    positives count against their rule in `monitor rules stats`.

    \b
    Example:
      monitor hits dismiss 17 --reason false-positive --comment "a software release, not prisoners"
      monitor hits dismiss 17 --reason "false-positive: a software release"
      monitor hits dismiss 18 19 --reason duplicate
    """
    from monitor.store.triage import parse_dismissal

    try:
        category, inline = parse_dismissal(reason)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--reason") from None
    text = " — ".join(t for t in (inline, (comment or "").strip()) if t) or None
    with open_store(ctx) as store:
        result = store.dismiss_hits(ids, category, by=who(by), now=utcnow(), note=text)
    _report(f"dismissed ({category})", result, f"dismissed ({category})")


@click.command("reopen")
@click.argument("ids", nargs=-1, required=True, type=int)
@_by_option
@_note_option
@click.pass_context
def reopen(ctx: click.Context, ids: tuple[int, ...], by: str | None, note: str | None) -> None:
    """Put acknowledged or dismissed hits back to new.

    \b
    Example:
      monitor hits reopen 17
    """
    with open_store(ctx) as store:
        result = store.reopen_hits(ids, by=who(by), now=utcnow(), note=note)
    _report("new", result, "reopened")


@click.command("note")
@click.argument("hit_id", type=int)
@click.argument("text")
@_by_option
@click.pass_context
def note(ctx: click.Context, hit_id: int, text: str, by: str | None) -> None:
    """Add a note to a hit (kept in its history with who and when).

    \b
    Example:
      monitor hits note 42 "confirmed by the embassy statement"
    """
    try:
        with open_store(ctx) as store:
            note_id = store.add_note(hit_id, text, by=who(by), now=utcnow())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="TEXT") from None
    if note_id is None:
        raise click.ClickException(f"no hit {hit_id}")
    click.echo(f"noted on hit {hit_id}")


for _command in (ack, dismiss, reopen, note):
    hits.add_command(_command)

COMMANDS: list[click.Command] = []  # its commands belong to the `hits` group
