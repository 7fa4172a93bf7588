"""``${VAR}`` and ``${VAR:-default}`` in the fields meant for them (channel URLs, secrets)."""

from __future__ import annotations

import os
import re

from monitor.urls import ENV_REF


def env_names(text: str) -> set[str]:
    """The environment variables ``text`` refers to as ``${VAR}`` or ``${VAR:-default}``."""
    return {m.group(1) for m in ENV_REF.finditer(text)}


def expand_env(value: str, environ: dict[str, str] | None = None) -> str:
    """Expand ``${VAR}`` and ``${VAR:-default}``; an unset variable without default is an error."""
    env = os.environ if environ is None else environ

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env and env[name] != "":
            return env[name]
        if default is not None:
            return default
        raise ValueError(f"environment variable {name} is not set")

    return ENV_REF.sub(repl, value)
