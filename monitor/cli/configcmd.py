"""``monitor config check``: the whole configuration checked at once, every problem listed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click


@click.group("config")
def config_group() -> None:
    """The configuration file: check everything in it before the daemon runs on it.

    \b
    Example:
      monitor config check
      monitor --config /etc/monitor/config.yaml config check --online
    """


@config_group.command("check")
@click.option(
    "--online", is_flag=True, help="Also fetch every enabled source once (nothing is stored)."
)
@click.pass_context
def config_check(ctx: click.Context, online: bool) -> None:
    """Check the config file, every channel URL (apprise must understand it), every route's
    channel, source and rule names, every rule file and each rule's examples; with --online,
    read every source once. Lists every problem at its file:line:col; exits 1 when there is any.

    \b
    Example:
      monitor config check
      monitor config check --online && sudo systemctl reload monitor
    """
    from monitor.check import check_config
    from monitor.cli import DEFAULT_CONFIG

    path = ctx.obj.config_path or os.environ.get("MONITOR_CONFIG") or DEFAULT_CONFIG
    report = check_config(path, online=online)
    for note in report.notes:
        click.echo(f"checked  {note}")
    for problem in report.problems:
        click.echo(str(problem))
    if report.problems:
        click.echo(f"{len(report.problems)} problem(s) in {path}", err=True)
        sys.exit(1)
    click.echo(f"{path}: OK")


@click.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=".")
def init(folder: Path) -> None:
    """Write a starter config.yaml, the shipped rules/ and the seed briefs/ into FOLDER (made
    if needed); anything already there is kept as it is. Then run the monitor there.

    \b
    Example:
      monitor init ~/monitor && cd ~/monitor && monitor run --once
    """
    import shutil

    from monitor.shipped import NAMES, shipped

    folder.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        target = folder / name
        if target.exists():
            click.echo(f"kept     {target} (already there)")
            continue
        source = shipped(name)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", ".*"))
        else:
            shutil.copy2(source, target)
        click.echo(f"wrote    {target}")
    click.echo(f"next: cd {folder} && monitor config check && monitor run --once")


COMMANDS: list[click.Command] = [config_group, init]
