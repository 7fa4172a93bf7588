"""The ``monitor`` command: one click group; each area's commands live in its own module.

Library code raises MonitorError subclasses; only this layer turns them into messages and
exit codes.
"""

from __future__ import annotations

import os
import sys

from typing import TYPE_CHECKING, Any

import click

from monitor import __version__
from monitor.errors import ConfigError, MonitorError

if TYPE_CHECKING:
    from monitor.config import Config

DEFAULT_CONFIG = "config.yaml"


class Context:
    """What every command gets: the config path and, lazily, the loaded config."""

    def __init__(self, config_path: str | None, log_level: str, log_format: str):
        self.config_path = config_path
        self.log_level = log_level
        self.log_format = log_format
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            from monitor.config import load_config

            path = self.config_path or _find_default_config()
            if path == DEFAULT_CONFIG and not os.path.exists(path):
                raise ConfigError(
                    "file not found: run `monitor init` to write a starter config, the shipped "
                    "rules and the seed briefs here, or name a config with --config",
                    path=path,
                )
            self._config = load_config(path)
            from monitor.logs import config_secrets, hide_secrets

            hide_secrets(
                config_secrets(self._config)
            )  # never print a password from the environment
        return self._config


def _find_default_config() -> str:
    import os

    env = os.environ.get("MONITOR_CONFIG")
    if env:
        return env
    return DEFAULT_CONFIG


class MonitorGroup(click.Group):
    """Turns library errors into one-line messages and exit codes. Its commands' modules
    are imported when a command is first looked up (``--version`` imports none of them)."""

    _registered = False
    _commands: dict[str, click.Command]

    @property  # type: ignore[override]
    def commands(self) -> dict[str, click.Command]:
        if not self._registered:
            self._registered = True
            _register(self)
        return self._commands

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._commands = value

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"error: {exc}" if "\n" not in str(exc) else f"error:\n{exc}", err=True)
            sys.exit(2)
        except MonitorError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: ./config.yaml, or $MONITOR_CONFIG).",
)
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
@click.option(
    "--log-format", default="plain", show_default=True, type=click.Choice(["plain", "json"])
)
@click.version_option(__version__, prog_name="monitor")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, log_level: str, log_format: str) -> None:
    """Watch news sources for the signals you care about, and alert once, with the evidence.

    \b
    Example:
      monitor run --once          # poll every source once, send alerts, exit
      monitor hits                # what fired, newest first
    """
    from monitor.logs import setup_logging

    setup_logging(log_level.upper(), log_format)
    ctx.obj = Context(config_path, log_level.upper(), log_format)


def _register(group: click.Group) -> None:
    # explicit registry: each module exposes the commands it adds
    from monitor.cli import (
        completion,
        configcmd,
        hits,
        notify,
        ops,
        rules,
        run,
        sources,
        triage,
        users,
        web,
    )

    for module in (
        run,
        configcmd,
        rules,
        sources,
        hits,
        triage,
        notify,
        ops,
        web,
        users,
        completion,
    ):
        for command in module.COMMANDS:
            group.add_command(command)


def main() -> None:
    cli(prog_name="monitor")
