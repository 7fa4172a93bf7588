"""What several commands share: the store of the config, who did it, the hit filters
(``--rule``, ``--since``, ``--search`` …) and the console's styles."""

from __future__ import annotations

import functools
import getpass
import sys
from datetime import datetime
from typing import Any, Callable

import click
from rich.console import Console
from rich.text import Text

from monitor.models import SEVERITIES, utcnow
from monitor.store import Store
from monitor.store import open_store as _open_store
from monitor.store.hits import STATUSES, HitFilter, parse_when

SEVERITY_STYLE = {
    "info": "dim",
    "low": "cyan",
    "medium": "yellow",
    "high": "bold red",
    "critical": "bold white on red",
}
STATUS_STYLE = {"new": "bold", "acked": "green", "dismissed": "dim strike"}


def open_store(ctx: click.Context) -> Store:
    cfg = ctx.obj.config
    return _open_store(cfg)


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


def rich_console() -> Console:
    return Console(file=sys.stdout, highlight=False)


def severity_text(sev: str) -> Text:
    return Text(sev, style=SEVERITY_STYLE.get(sev, ""))
