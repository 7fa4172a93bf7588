"""``monitor sources`` (every source's health) and ``monitor sources test`` (fetch once, store nothing)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor.models import Item, SourceStatus, utcnow

if TYPE_CHECKING:
    from datetime import datetime

    from monitor.cli import Context
    from monitor.config import SourceConfig, SourceKind

FEED_SUFFIXES = (".xml", ".rss", ".atom", ".rdf", ".json")


def _configured(ctx_obj: Context) -> bool:
    """True when a config file was named or the default one exists (then it must load)."""
    if ctx_obj.config_path or os.environ.get("MONITOR_CONFIG"):
        return True
    from monitor.cli import DEFAULT_CONFIG

    return Path(DEFAULT_CONFIG).exists()


@click.group("sources", invoke_without_command=True)
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per source instead of a table."
)
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """Every configured source: kind, interval, last poll, last success, next poll,
    consecutive failures, last error, items seen.

    \b
    Example:
      monitor sources
      monitor sources --json | jq '.[] | select(.consecutive_failures > 0)'
      monitor sources test https://example.org/rss.xml
    """
    if ctx.invoked_subcommand:
        return
    from monitor.store import open_store

    cfg = ctx.obj.config
    store = open_store(cfg)
    rows = {r.name: r for r in store.list_sources()}
    records = [_record(s, rows.get(s.name)) for s in cfg.sources]
    if as_json:
        click.echo(json.dumps(records, indent=2, default=str))
        return
    _table(records)


def _record(src: SourceConfig, row: SourceStatus | None) -> dict[str, Any]:
    row = row or SourceStatus(name=src.name, kind=src.kind)

    def iso(when: datetime | None) -> str | None:
        return when.isoformat() if when else None

    return {
        "name": src.name,
        "kind": src.kind,
        "target": src.url or (str(src.path) if src.path else None),
        "enabled": src.enabled,
        "interval": src.interval,
        "last_poll": iso(row.last_poll_at),
        "last_success": iso(row.last_success_at),
        "next_poll": iso(row.next_poll_at),
        "consecutive_failures": row.consecutive_failures,
        "failing": row.failing,
        "last_error": row.last_error,
        "disabled_reason": row.disabled_reason,
        "items_seen": row.items_seen,
    }


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _table(records: list[dict[str, Any]]) -> None:
    from datetime import datetime

    from rich.console import Console
    from rich.table import Table

    from monitor.timefmt import ago

    now = utcnow()

    def when(value: str | None) -> str:
        return ago(datetime.fromisoformat(value), now) if value else "—"

    def due(value: str | None) -> str:
        # a next poll in the past means the daemon is not running (or is behind): say so
        if value and datetime.fromisoformat(value) < now:
            return "overdue"
        return when(value)

    table = Table(box=None, pad_edge=False)
    for col in (
        "source",
        "kind",
        "every",
        "last poll",
        "last success",
        "next poll",
        "fails",
        "items",
        "last error",
    ):
        table.add_column(col, no_wrap=col not in ("last error",))
    for r in records:
        status = (
            r["disabled_reason"]
            and f"disabled: {r['disabled_reason']}"
            or (r["last_error"] if r["consecutive_failures"] else "")
        )
        name = r["name"] if r["enabled"] else f"{r['name']} (off)"
        table.add_row(
            f"[bold red]{name}[/]" if r["failing"] else name,
            r["kind"],
            _duration(r["interval"]),
            when(r["last_poll"]),
            when(r["last_success"]),
            due(r["next_poll"]),
            str(r["consecutive_failures"]),
            str(r["items_seen"]),
            status or "",
        )
    if not records:
        click.echo("no sources configured: add some under `sources:` in the config file")
        return
    import sys

    Console(file=sys.stdout, highlight=False, width=None if sys.stdout.isatty() else 200).print(
        table
    )


def _guess(target: str, kind: str | None) -> tuple[SourceKind, dict[str, Any], bool]:
    """``(kind, SourceConfig fields, is_local_feed_file)`` for a URL or a path."""
    if re.match(r"^https?://", target, re.IGNORECASE):
        if kind == "folder":
            raise click.BadParameter("a folder source needs a path, not a URL", param_hint="TARGET")
        return ("page" if kind == "page" else "feed"), {"url": target}, False
    path = Path(target).expanduser()
    if not path.exists():
        raise click.BadParameter(
            f"{target}: neither an http(s) URL nor an existing path", param_hint="TARGET"
        )
    if path.is_dir():
        if kind not in (None, "folder"):
            raise click.BadParameter(
                f"{target} is a folder: use --kind folder", param_hint="TARGET"
            )
        return "folder", {"path": path.resolve()}, False
    if kind == "feed" or (kind is None and path.suffix.lower() in FEED_SUFFIXES):
        return "feed", {"path": path.resolve()}, True
    if kind == "page":
        raise click.BadParameter("a page source needs a URL", param_hint="TARGET")
    return (
        "folder",
        {"path": path.resolve().parent, "patterns": [path.name], "recursive": False},
        False,
    )


def _item_record(item: Item) -> dict[str, Any]:
    return {
        "id": item.key,
        "title": item.title,
        "url": item.url,
        "published": item.published.isoformat() if item.published else None,
        "language": item.language,
        "author": item.author,
        "text_length": len(item.text),
        "text": item.text,
    }


@sources.command("test")
@click.argument("target")
@click.option(
    "--kind",
    type=click.Choice(["feed", "page", "folder"]),
    default=None,
    help="Source kind (default: feed for a URL, folder for a folder, feed for .xml/.rss/.atom/.json files).",
)
@click.option("--selector", default=None, help="page: the CSS selector of the part to watch.")
@click.option(
    "--full-text", is_flag=True, help="feed: fetch each item's article and extract its main text."
)
@click.option(
    "--allow-private",
    is_flag=True,
    help="Allow private, loopback and link-local addresses (intranet feeds).",
)
@click.option(
    "--json", "as_json", is_flag=True, help='Print {"items": [...], "warnings": [...]} as JSON.'
)
@click.pass_context
def test_source(
    ctx: click.Context,
    target: str,
    kind: str | None,
    selector: str | None,
    full_text: bool,
    allow_private: bool,
    as_json: bool,
) -> None:
    """Fetch and parse TARGET (a URL or a path) once, without storing anything: print each
    item (id, title, link, published, language, text length) and every warning.

    Exits 0 when the source could be read (even a malformed feed that still yielded items),
    1 with a one-line reason when nothing could be read.

    \b
    Example:
      monitor sources test https://example.org/rss.xml
      monitor sources test https://example.org/news --kind page --selector "#main" --json
      monitor sources test seeds/
    """
    from monitor.config import HttpConfig, SourceConfig
    from monitor.sources import make_source
    from monitor.models import SourceState
    from monitor.sources.feed import parse_feed

    http, base_dir = HttpConfig(), Path.cwd()
    if _configured(ctx.obj):
        http, base_dir = ctx.obj.config.http, ctx.obj.config.base_dir
    if allow_private:
        http = http.model_copy(update={"allow_private_networks": True})
    kind, fields, local_feed = _guess(target, kind)
    if local_feed:
        parsed = parse_feed(Path(fields["path"]).read_bytes(), source="test")
        items, warnings = parsed.items, parsed.warnings
    else:
        cfg = SourceConfig(name="test", kind=kind, selector=selector, full_text=full_text, **fields)
        result = make_source(cfg, http, base_dir).fetch(SourceState())
        items, warnings = result.items, result.warnings
    if as_json:
        click.echo(
            json.dumps(
                {"kind": kind, "items": [_item_record(i) for i in items], "warnings": warnings},
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    for n, item in enumerate(items, 1):
        click.echo(f"{n}. {item.title or '(no title)'}")
        click.echo(f"   id: {item.key}")
        if item.url:
            click.echo(f"   link: {item.url}")
        published = item.published.isoformat() if item.published else "—"
        click.echo(
            f"   published: {published}   language: {item.language or '—'}   text: {len(item.text)} chars"
        )
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(f"{len(items)} item(s) from {target} ({kind}), {len(warnings)} warning(s)", err=True)


@sources.command("enable")
@click.argument("names", nargs=-1, required=True, metavar="NAME…")
@click.pass_context
def enable_source(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Enable a disabled source again (a source is disabled when retrying cannot help:
    an address refused as private, 410 Gone). Its failure count is reset and it is polled
    at the daemon's next round. A config change to the source or the http section does
    the same by itself.

    \b
    Example:
      monitor sources enable tass-en
      monitor sources enable intranet-news wiki-feed
    """
    from monitor.store import open_store
    from monitor.suggest import did_you_mean

    cfg = ctx.obj.config
    configured = [s.name for s in cfg.sources]
    unknown = [n for n in names if n not in configured]
    if unknown:
        raise click.ClickException(
            "; ".join(f"no source named {n!r}{did_you_mean(n, configured)}" for n in unknown)
        )
    with open_store(cfg) as store:
        store.sync_sources(cfg.sources, fingerprints=cfg.source_fingerprints())
        for name in names:
            was = store.enable_source(name, utcnow())
            if was is None:
                click.echo(f"{name}: not disabled")
            else:
                click.echo(f"{name}: enabled (it was disabled: {was.reason})")


def _register() -> None:
    from monitor.cli.opml import export_opml, import_opml

    sources.add_command(import_opml)
    sources.add_command(export_opml)


_register()

COMMANDS: list[click.Command] = [sources]
