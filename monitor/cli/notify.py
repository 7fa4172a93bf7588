"""`monitor notify test CHANNEL` and `monitor silence add|list|remove`."""

from __future__ import annotations

import getpass
import json
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from monitor.config import parse_duration
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.store import Store
from monitor.models import utcnow


def _store(ctx: click.Context) -> "Store":
    from monitor.store import open_store

    cfg = ctx.obj.config
    return open_store(cfg)


@click.group("notify")
def notify_group() -> None:
    """Notification channels: send a sample alert to see that a channel delivers.

    \b
    Example:
      monitor notify test email
      monitor notify test console
    """


@notify_group.command("test")
@click.argument("channel")
@click.pass_context
def notify_test(ctx: click.Context, channel: str) -> None:
    """Send a sample alert to every URL of CHANNEL and report each one's outcome.

    Nothing is written to the outbox: the message goes out directly, once per URL.

    \b
    Example:
      monitor notify test email
    """
    from monitor.notify.sample import send_sample

    cfg = ctx.obj.config
    if channel not in cfg.channels:
        known = ", ".join(sorted(cfg.channels)) or "none"
        raise ConfigError(f"no channel named {channel!r} (channels: {known})")
    failed = 0
    for outcome in send_sample(channel, cfg.channels[channel], cfg.base_dir):
        if outcome.error is not None:
            failed += 1
            click.echo(f"FAILED  {outcome.label}: {outcome.error}")
        else:
            click.echo(f"ok      {outcome.label}")
    if failed:
        ctx.exit(1)


@click.group("silence")
def silence_group() -> None:
    """Silences: no alerts for a rule or a source until they expire (hits are still recorded).

    \b
    Example:
      monitor silence add --rule detainees-release-return --for 2d --comment "talks ongoing"
      monitor silence list
      monitor silence remove 3
    """


@silence_group.command("add")
@click.option("--rule", "rule_id", help="Rule id to silence.")
@click.option(
    "--source", help="Source name to silence (with --rule: only that rule from that source)."
)
@click.option("--for", "duration", required=True, help="How long: 90m, 12h, 2d, 1w.")
@click.option("--comment", required=True, help="Why (shown with every suppressed alert).")
@click.option("--by", help="Who (default: your user name).")
@click.pass_context
def silence_add(
    ctx: click.Context,
    rule_id: str | None,
    source: str | None,
    duration: str,
    comment: str,
    by: str | None,
) -> None:
    """Silence a rule (or a source) for a while.

    \b
    Example:
      monitor silence add --rule detainees-release-return --for 2d --comment "talks ongoing"
    """
    if not rule_id and not source:
        raise click.UsageError("give --rule, --source or both")
    try:
        seconds = parse_duration(duration)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--for") from None
    if seconds <= 0:
        raise click.BadParameter("must be longer than zero", param_hint="--for")
    _check_silence_target(ctx.obj.config, rule_id, source)
    now = utcnow()
    with _store(ctx) as store:
        sid = store.add_silence(
            rule_id=rule_id,
            source=source,
            expires_at=now + timedelta(seconds=seconds),
            comment=comment,
            now=now,
            created_by=by or _user(),
        )
    what = " and ".join(
        x for x in (f"rule {rule_id}" if rule_id else "", f"source {source}" if source else "") if x
    )
    click.echo(
        f"silence #{sid}: {what} until {(now + timedelta(seconds=seconds)):%Y-%m-%d %H:%M} UTC"
    )


@silence_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include expired silences.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
def silence_list(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """List silences in force (newest first).

    \b
    Example:
      monitor silence list
    """
    now = utcnow()
    with _store(ctx) as store:
        rows = store.list_silences(None if show_all else now)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "rule_id": r.rule_id,
                        "source": r.source,
                        "expires_at": r.expires_at.isoformat(),
                        "comment": r.comment,
                        "created_by": r.created_by,
                        "created_at": r.created_at.isoformat() if r.created_at else None,
                        "active": r.expires_at > now,
                    }
                    for r in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not rows:
        click.echo("no silences" if show_all else "no silence in force")
        return
    for r in rows:
        what = " ".join(
            x
            for x in (
                f"rule={r.rule_id}" if r.rule_id else "",
                f"source={r.source}" if r.source else "",
            )
            if x
        )
        state = "" if r.expires_at > now else " (expired)"
        by = f" by {r.created_by}" if r.created_by else ""
        click.echo(
            f"#{r.id}  {what}  until {r.expires_at:%Y-%m-%d %H:%M} UTC{state}{by}  — {r.comment}"
        )


@silence_group.command("remove")
@click.argument("silence_id", type=int)
@click.pass_context
def silence_remove(ctx: click.Context, silence_id: int) -> None:
    """Remove a silence before it expires.

    \b
    Example:
      monitor silence remove 3
    """
    with _store(ctx) as store:
        if not store.remove_silence(silence_id):
            raise click.ClickException(f"no silence #{silence_id}")
    click.echo(f"silence #{silence_id} removed")


def _check_silence_target(cfg: "Config", rule_id: str | None, source: str | None) -> None:
    """A silence must name a rule that is loaded and a source that is configured: one that
    names nothing would silence nothing, and nobody would know."""
    from monitor.rules import load_rule_set
    from monitor.suggest import did_you_mean

    problems = []
    if source is not None:
        names = [s.name for s in cfg.sources]
        if source not in names:
            problems.append(f"no source named {source!r}{did_you_mean(source, names)}")
    if rule_id is not None:
        rule_set, errors = load_rule_set(cfg.rule_paths)
        ids = [r.id for r in rule_set.rules]
        if rule_id not in ids:
            hint = did_you_mean(rule_id, ids)
            if errors and not hint:
                hint = f" ({len(errors)} problem(s) in the rule files: see `monitor rules check`)"
            problems.append(f"no rule {rule_id!r}{hint}")
    if problems:
        raise click.UsageError("; ".join(problems) + ". Nothing was silenced.")


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (some containers)
        return None


COMMANDS: list[click.Command] = [notify_group, silence_group]
