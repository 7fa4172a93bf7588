"""``monitor run``: the daemon, or one pass over every source with ``--once``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from monitor import process
from monitor.config import Config
from monitor.pipeline import PollReport, Runtime

if TYPE_CHECKING:
    from monitor.cli import Context


@click.command()
@click.option(
    "--once", is_flag=True, help="Poll every source once, send what is pending, and exit."
)
@click.pass_obj
def run(obj: "Context", once: bool) -> None:
    """Poll sources, match new items against the rules, record hits, send alerts.

    Runs until Ctrl-C or SIGTERM; SIGHUP (or a change to the rules or the config)
    reloads without a restart.

    \b
    Example:
      monitor run                       # the daemon, on ./config.yaml
      monitor --config /etc/monitor/config.yaml run --once
    """
    config = obj.config
    _refuse_unknown_channel_urls(config)
    # as every reload compiles (monitor.daemon); frozen as compiled, settled at start
    with process.compiling(freeze=True):
        runtime = Runtime.from_config(config)
    if once:
        from monitor.once import run_once

        reports = run_once(runtime)
        _summary(reports, _disabled(config))
        return
    from monitor.daemon import Daemon

    Daemon(config.path or obj.config_path or "config.yaml", runtime).serve_forever()


def _refuse_unknown_channel_urls(config: Config) -> None:
    """A channel URL apprise does not understand would fail every alert, for good: refuse to
    start on it, naming its line (`monitor config check` lists it with everything else)."""
    from monitor.check import channel_url_problems
    from monitor.errors import ConfigErrors

    if config.path is None:
        return
    problems = channel_url_problems(config.path)
    if problems:
        raise problems[0] if len(problems) == 1 else ConfigErrors(problems)


def _disabled(config: Config) -> dict[str, str]:
    from monitor.pipeline import open_store

    with open_store(config) as store:
        return {d.name: d.reason for d in store.disabled_sources()}


def _summary(reports: list[PollReport], disabled: dict[str, str]) -> None:
    """One line per failed or disabled source, then the totals; a disabled source is not
    "retried": it says how to bring it back."""
    new = sum(r.new_items for r in reports)
    hits = sum(r.hits for r in reports)
    failed = [r for r in reports if not r.ok and r.source not in disabled]
    off = [r for r in reports if r.source in disabled]
    for r in failed:
        click.echo(f"source {r.source}: {r.error}", err=True)
    for r in off:
        click.echo(f"source {r.source} is disabled: {disabled[r.source]}", err=True)
    parts = [f"polled {len(reports)} source(s): {new} new item(s), {hits} hit(s)"]
    if failed:
        parts.append(f"{len(failed)} source(s) failed (will be retried)")
    if off:
        parts.append(
            f"{len(off)} disabled (fix the cause in the config, or `monitor sources enable NAME`)"
        )
    click.echo(", ".join(parts), err=True)


COMMANDS: list[click.Command] = [run]
