"""One edit of the config file from the page or the API: applied the careful way
(``configedit``), the page's config reloaded, and recorded in the edit trail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from monitor.config import Config, load_config
from monitor.web.app import PageError, WebContext
from monitor.web.auth import Principal
from monitor.web.configedit import RefusedEdit


def config_of(ctx: WebContext, what: str) -> Config:
    """The config the page was started from; 409 when there is none to edit."""
    if ctx.config is None or ctx.config.path is None:
        raise PageError(
            409, f"This page was not started from a config file, so it cannot edit {what}."
        )
    config: Config = ctx.config
    return config


def apply_edit(
    ctx: WebContext,
    who: Principal,
    kind: str,
    name: str,
    action: str,
    change: Callable[[Path], None],
    detail: str = "",
) -> Config:
    """Apply ``change(config_path)``; RefusedEdit (the config left as it was) passes through,
    a KeyError is a 404. Returns the config as loaded after the edit."""
    config = config_of(ctx, f"{kind}s")
    assert config.path is not None
    try:
        change(Path(config.path))
    except KeyError:
        raise PageError(404, f"There is no {kind} {name} in {config.path}.") from None
    loaded = ctx.config = load_config(config.path)
    ctx.store.record_edit(kind, name, action, ctx.who(who), ctx.clock(), detail=detail)
    return loaded


__all__ = ["RefusedEdit", "apply_edit", "config_of"]
