"""The JSON API for notification channels (admins only): list, add, edit, enable or
disable, send a test. The config file is rewritten the careful way (``configedit``);
URLs are shown and taken with secrets only as ``${VAR}`` references (``channelset``).

GET   /api/v1/channels                 every channel, its URLs shown safely, the routes naming it
GET   /api/v1/channels/{name}          one channel
POST  /api/v1/channels                 add one (201); 422 when it would not load or writes a secret out
PATCH /api/v1/channels/{name}          change urls, format, enabled, rate limit …
POST  /api/v1/channels/{name}/test     send a sample alert to each of its URLs now
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from monitor.config import Config
from monitor.web import channelset, configedit
from monitor.web.app import PageError, WebContext
from monitor.web.auth import Principal
from monitor.web.deps import context, require
from monitor.web.edits import RefusedEdit, apply_edit, config_of

router = APIRouter(prefix="/api/v1", tags=["channels"])
admin = require("admin")
NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class ChannelPatch(BaseModel):
    urls: list[str] | None = Field(
        default=None,
        max_length=50,
        description="every URL, secrets as ${VAR}; one sent back as shown is kept as it is",
    )
    enabled: bool | None = None
    format: Literal["text", "markdown", "html"] | None = None
    rate_limit: int | None = Field(default=None, gt=0)
    rate_window: str | float | None = Field(default=None, description="1h, 30m, or seconds")
    base_url: str | None = Field(default=None, pattern=r"^https?://", max_length=2000)
    template: str | None = Field(default=None, max_length=20_000)
    subject_template: str | None = Field(default=None, max_length=2000)


class ChannelIn(ChannelPatch):
    name: str = Field(pattern=NAME)
    type: Literal["apprise", "slack", "console"] = "apprise"


def refused(problems: list[str]) -> JSONResponse:
    return JSONResponse({"detail": problems}, status_code=422)


def fields_of(
    body: ChannelPatch,
    kind: str,
    config: Config,
    name: str | None,
) -> tuple[dict[str, Any], list[str]]:
    """The fields to write, with the URLs checked (no secret written out)."""
    fields = body.model_dump(exclude_unset=True, exclude={"name"})
    problems: list[str] = []
    if body.urls is not None:
        existing = config.channels.get(name) if name else None
        templates = None
        if existing is not None and config.path is not None:
            templates = configedit.channel_templates(Path(config.path), name or "")
        base_url = body.base_url or (existing.base_url if existing else None)
        fields["urls"], problems = channelset.checked_urls(
            body.urls, kind=kind, base_url=base_url, existing=existing, templates=templates
        )
    return fields, problems


def _one(ctx: WebContext, name: str) -> dict[str, Any]:
    config = config_of(ctx, "channels")
    try:
        return channelset.record(config, name)
    except KeyError:
        raise PageError(404, f"There is no channel {name}.") from None


@router.get("/channels")
def list_channels(request: Request, who: Principal = Depends(admin)) -> dict[str, Any]:
    """Every channel: its type, whether it is enabled, its URLs as the config spells them
    (``${VAR}`` references kept, other secrets as ``****``), the routes that name it."""
    return {"channels": channelset.records(config_of(context(request), "channels"))}


@router.get("/channels/{name}")
def get_channel(request: Request, name: str, who: Principal = Depends(admin)) -> dict[str, Any]:
    """One channel."""
    return _one(context(request), name)


@router.post("/channels", status_code=201, response_model=None)
def add_channel(
    request: Request, body: ChannelIn, who: Principal = Depends(admin)
) -> dict[str, Any] | JSONResponse:
    """Add a channel to the config file. Its URLs keep secrets in ``${VAR}`` references;
    name it in a route (in the file) for alerts to reach it."""
    ctx = context(request)
    config = config_of(ctx, "channels")
    if body.name in config.channels:
        raise PageError(409, f"There is already a channel {body.name}.")
    fields, problems = fields_of(body, body.type, config, None)
    if body.urls is None and body.type != "console":
        problems.append("urls: a channel needs at least one URL")
    if problems:
        return refused(problems)
    fields["type"] = body.type
    try:
        apply_edit(
            ctx,
            who,
            "channel",
            body.name,
            "add",
            lambda path: configedit.add_channel(path, body.name, fields),
            detail=body.type,
        )
    except RefusedEdit as exc:
        return refused(exc.problems)
    return _one(ctx, body.name)


@router.patch("/channels/{name}", response_model=None)
def update_channel(
    request: Request, name: str, body: ChannelPatch, who: Principal = Depends(admin)
) -> dict[str, Any] | JSONResponse:
    """Change a channel: ``enabled: false`` stops new alerts to it (queued ones are given up,
    visibly); ``urls`` replaces its URLs."""
    ctx = context(request)
    config = config_of(ctx, "channels")
    current = config.channels.get(name)
    if current is None:
        raise PageError(404, f"There is no channel {name}.")
    fields, problems = fields_of(body, current.type, config, name)
    if problems:
        return refused(problems)
    only_enabled = set(fields) == {"enabled"}
    action = ("enable" if fields["enabled"] else "disable") if only_enabled else "edit"
    try:
        apply_edit(
            ctx,
            who,
            "channel",
            name,
            action,
            lambda path: configedit.update_channel(path, name, fields),
            detail=", ".join(sorted(fields)),
        )
    except RefusedEdit as exc:
        return refused(exc.problems)
    return _one(ctx, name)


@router.post("/channels/{name}/test")
def test_channel(request: Request, name: str, who: Principal = Depends(admin)) -> dict[str, Any]:
    """Send a sample alert to each URL of the channel now (nothing is queued); each URL's
    outcome, under its safe label."""
    ctx = context(request)
    config = config_of(ctx, "channels")
    try:
        results = channelset.test_send(config, name)
    except KeyError:
        raise PageError(404, f"There is no channel {name}.") from None
    failed = sum(1 for r in results if not r["ok"])
    ctx.store.record_edit(
        "channel",
        name,
        "test",
        ctx.who(who),
        ctx.clock(),
        detail=f"{len(results) - failed} delivered, {failed} failed",
    )
    return {"name": name, "ok": failed == 0, "results": results}
