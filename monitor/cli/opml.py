"""``monitor sources import FILE.opml`` and ``monitor sources export``: feed lists as OPML."""

from __future__ import annotations

import sys
from typing import Any, BinaryIO, TextIO
from datetime import date
from pathlib import Path

import click


def _config_path(ctx: click.Context) -> Path:
    cfg = ctx.obj.config  # loads (and so validates) the file first
    assert cfg.path is not None
    return Path(cfg.path)


@click.command("import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--interval",
    default=None,
    metavar="DURATION",
    help="Poll interval for the new feeds (default: 30m).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be added; change nothing.")
@click.pass_context
def import_opml(ctx: click.Context, file: BinaryIO, interval: str | None, dry_run: bool) -> None:
    """Add the feeds of an OPML file (exported from another feed reader) to the config's
    sources. Comments and layout of the config file are kept; feeds whose URL is already
    configured are skipped; names come from the feeds' titles and folders become tags.
    A running daemon picks the change up by itself.

    \b
    Example:
      monitor sources import feeds.opml --dry-run
      monitor sources import feeds.opml --interval 20m
    """
    from monitor.config import parse_duration
    from monitor.configedit import append_sources
    from monitor.opml import read_opml, slug

    if interval is not None:
        try:
            parse_duration(interval)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--interval") from None
    cfg = ctx.obj.config
    path = _config_path(ctx)
    found = read_opml(file.read(), path=getattr(file, "name", "<opml>"))
    known_urls = {s.url for s in cfg.sources if s.url}
    names = {s.name for s in cfg.sources}
    entries, already = [], []
    for feed in found.feeds:
        if feed.url in known_urls:
            already.append(feed.url)
            continue
        base = slug(feed.title) or slug(feed.url.split("//", 1)[-1]) or "feed"
        name, n = base, 2
        while name in names:
            name, n = f"{base}-{n}", n + 1
        names.add(name)
        entry: dict[str, Any] = {"name": name, "kind": "feed", "url": feed.url}
        if interval:
            entry["interval"] = interval
        if feed.tags:
            entry["tags"] = list(feed.tags)
        entries.append(entry)
    for e in entries:
        click.echo(f"{'would add' if dry_run else 'add'}  {e['name']}  {e['url']}")
    for url in already:
        click.echo(f"skip  {url}  (already configured)")
    for why in found.skipped:
        click.echo(f"skip  {why}", err=True)
    if entries and not dry_run:
        label = Path(getattr(file, "name", "") or "OPML").name
        append_sources(
            path, entries, comment=f"imported from {label} on {date.today().isoformat()}"
        )
    verb = "would add" if dry_run else "added"
    click.echo(
        f"{verb} {len(entries)} feed(s) to {path}; {len(already)} already there, "
        f"{len(found.skipped)} not feeds",
        err=True,
    )


@click.command("export")
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Write here (default: standard output).",
)
@click.pass_context
def export_opml(ctx: click.Context, output: TextIO) -> None:
    """Write the configured feed sources as OPML 2.0, for another feed reader (page and
    folder sources have no place in OPML and are left out).

    \b
    Example:
      monitor sources export > feeds.opml
      monitor sources export -o /tmp/monitor-feeds.opml
    """
    from monitor.opml import OpmlFeed, write_opml

    cfg = ctx.obj.config
    feeds = [
        OpmlFeed(url=s.url, title=s.name, tags=tuple(s.tags))
        for s in cfg.sources
        if s.kind == "feed" and s.url
    ]
    output.write(write_opml(feeds))
    left = sum(1 for s in cfg.sources if s.kind != "feed")
    if output is not sys.stdout or left:
        click.echo(
            f"{len(feeds)} feed(s) exported"
            + (f"; {left} page/folder source(s) left out" if left else ""),
            err=True,
        )
