"""``monitor run``: the daemon, or one pass over every source with ``--once``."""

from __future__ import annotations

import click

from monitor.pipeline import Runtime


@click.command()
@click.option("--once", is_flag=True, help="Poll every source once, send what is pending, and exit.")
@click.pass_obj
def run(obj, once: bool) -> None:
    """Poll sources, match new items against the rules, record hits, send alerts.

    Runs until Ctrl-C or SIGTERM; SIGHUP (or a change to the rules or the config)
    reloads without a restart.

    \b
    Example:
      monitor run                       # the daemon, on ./config.yaml
      monitor --config /etc/monitor/config.yaml run --once
    """
    config = obj.config
    runtime = Runtime.from_config(config)
    if once:
        from monitor.daemon import run_once

        reports = run_once(runtime)
        new = sum(r.new_items for r in reports)
        hits = sum(r.hits for r in reports)
        failed = [r for r in reports if not r.ok]
        for r in failed:
            click.echo(f"source {r.source}: {r.error}", err=True)
        click.echo(
            f"polled {len(reports)} source(s): {new} new item(s), {hits} hit(s)"
            + (f", {len(failed)} source(s) failed (will be retried)" if failed else ""),
            err=True,
        )
        return
    from monitor.daemon import Daemon

    Daemon(config.path, runtime).serve_forever()


COMMANDS: list[click.Command] = [run]
