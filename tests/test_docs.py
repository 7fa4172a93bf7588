"""Every command has help with an example, and the README names it."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from conftest import ROOT
from monitor.cli import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in sorted(group.commands.items()):
        path = prefix + (name,)
        yield path, cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path)


ALL = list(_commands(cli))


def test_there_are_commands():
    names = {" ".join(p) for p, _ in ALL}
    assert {"run", "hits"} <= names


@pytest.mark.parametrize("path,cmd", ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_command_has_help_with_an_example(path, cmd):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert (cmd.help or "").strip(), f"monitor {' '.join(path)} has no help text"
    # groups too: `monitor db --help` should show how it is used, not only what it holds
    assert "Example:" in (cmd.help or ""), f"monitor {' '.join(path)}: add an Example: to its help"
    assert "Example:" in result.output


def test_the_top_level_help_has_an_example():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0 and "Example:" in result.output


@pytest.mark.parametrize("path,cmd", ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_command_is_in_the_readme(path, cmd):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert (
        f"monitor {' '.join(path)}" in readme or f"{path[-1]}" in readme.split("## Commands")[1]
    ), f"README does not mention `monitor {' '.join(path)}`"


def test_readme_starts_with_the_two_commands():
    head = (ROOT / "README.md").read_text(encoding="utf-8")[:600]
    assert "python3 dev.py run" in head and "python3 dev.py test" in head
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 dev.py test" in ci
