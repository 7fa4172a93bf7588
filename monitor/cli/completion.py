"""``monitor completion bash|zsh``: the shell completion script, from click's own completion."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_MONITOR_COMPLETE"


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL: commands, options, and choices such as
    severities complete on Tab. Load it from your shell's start-up file.

    \b
    Example:
      echo 'eval "$(monitor completion bash)"' >> ~/.bashrc
      echo 'eval "$(monitor completion zsh)"' >> ~/.zshrc
      monitor completion fish > ~/.config/fish/completions/monitor.fish
    """
    root = ctx.find_root()
    cls = get_completion_class(shell)
    assert cls is not None  # every name in SHELLS is one click ships
    click.echo(cls(root.command, {}, root.info_name or "monitor", COMPLETE_VAR).source())


COMMANDS: list[click.Command] = [completion]
