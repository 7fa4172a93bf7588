"""The admins' pages: notification channels and accounts (forms over the same functions as
the API: ``channelset``/``configedit`` and ``team``).

GET  /channels                          every channel, its URLs shown safely; add, edit, test
POST /channels/add, /channels/{name}/edit|enable|disable|test
GET  /users                             every account; add, role, password, disable, tokens
POST /users/add, /users/{name}/role|enable|disable|password|token|revoke
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from monitor.accounts import MIN_PASSWORD, ROLES
from monitor.web import channelset, configedit, team
from monitor.web.app import PageError
from monitor.web.auth import Principal
from monitor.web.deps import Form, context, read_form, require
from monitor.web.edits import RefusedEdit, apply_edit, config_of
from monitor.web.pages import redirect, render

router = APIRouter(include_in_schema=False)
admin = require("admin")
CHANNEL_TYPES = ("apprise", "slack", "console")
FORMATS = ("text", "markdown", "html")


# -- channels ---------------------------------------------------------------------------------
def channels_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = context(request)
    config = config_of(ctx, "channels")
    q = request.query_params
    return render(
        request,
        "channels.html",
        {
            "channels": channelset.records(config),
            "types": CHANNEL_TYPES,
            "formats": FORMATS,
            "saved": q.get("saved"),
            "problems": [],
            "tested": None,
            "form": {},
            "edits": ctx.store.list_edits("channel", limit=10),
            **values,
        },
        status=status,
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


@router.get("/channels")
def channel_list(request: Request, who: Principal = Depends(admin)) -> Response:
    return channels_page(request)


@router.post("/channels/add")
def channel_add(
    request: Request, form: Form = Depends(read_form), who: Principal = Depends(admin)
) -> Response:
    ctx = context(request)
    config = config_of(ctx, "channels")
    name, kind = form.get("name").strip(), form.get("type")
    fmt = form.get("format")
    values = {"name": name, "type": kind, "urls": form.get("urls"), "format": fmt}
    problems = []
    if not name or not name[0].isalnum():
        problems.append("name: a channel needs a name (letters, digits, . _ -)")
    elif name in config.channels:
        problems.append(f"name: there is already a channel {name}")
    if kind not in CHANNEL_TYPES or fmt not in FORMATS:
        problems.append("type or format: choose one of the list")
    urls, url_problems = channelset.checked_urls(_lines(form.get("urls")), kind=kind, base_url=None)
    problems += url_problems
    if not problems:
        fields = {"type": kind, "urls": urls, "format": None if fmt == "text" else fmt}
        try:
            apply_edit(
                ctx,
                who,
                "channel",
                name,
                "add",
                lambda path: configedit.add_channel(path, name, fields),
                detail=kind,
            )
            return redirect(f"/channels?saved={quote(name)}")
        except RefusedEdit as exc:
            problems = exc.problems
    return channels_page(request, 422, problems=problems, form=values)


@router.post("/channels/{name}/{action}")
def channel_act(
    request: Request,
    name: str,
    action: str,
    form: Form = Depends(read_form),
    who: Principal = Depends(admin),
) -> Response:
    ctx = context(request)
    config = config_of(ctx, "channels")
    current = config.channels.get(name)
    if current is None:
        raise PageError(404, f"There is no channel {name}.")
    if action == "test":
        results = channelset.test_send(config, name)
        failed = sum(1 for r in results if not r["ok"])
        ctx.store.record_edit(
            "channel",
            name,
            "test",
            ctx.who(who),
            ctx.clock(),
            detail=f"{len(results) - failed} delivered, {failed} failed",
        )
        return channels_page(request, tested={"name": name, "results": results})
    if action in ("enable", "disable"):
        fields: dict[str, Any] = {"enabled": action == "enable"}
    elif action == "edit":
        assert config.path is not None
        urls, problems = channelset.checked_urls(
            _lines(form.get("urls")),
            kind=current.type,
            base_url=current.base_url,
            existing=current,
            templates=configedit.channel_templates(Path(config.path), name),
        )
        fmt = form.get("format")
        if fmt not in FORMATS:
            problems.append("format: choose one of the list")
        if problems:
            return channels_page(request, 422, problems=[f"{name}: {p}" for p in problems])
        fields = {"urls": urls or None, "format": fmt}
    else:
        raise PageError(404, "There is no such page.")
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
        return channels_page(request, 422, problems=exc.problems)
    return redirect(f"/channels?saved={quote(name)}")


# -- users ------------------------------------------------------------------------------------
def users_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = context(request)
    return render(
        request,
        "users.html",
        {
            "users": [team.record(ctx, u) for u in ctx.store.list_users()],
            "roles": ROLES,
            "min_password": MIN_PASSWORD,
            "secret": None,
            "done": request.query_params.get("done"),
            "edits": ctx.store.list_edits("user", limit=10),
            **values,
        },
        status=status,
    )


@router.get("/users")
def user_list(request: Request, who: Principal = Depends(admin)) -> Response:
    return users_page(request)


@router.post("/users/add")
def user_add(
    request: Request, form: Form = Depends(read_form), who: Principal = Depends(admin)
) -> Response:
    import re

    from monitor.accounts import NAME_PATTERN

    name = form.get("name").strip()
    if not re.fullmatch(NAME_PATTERN, name):
        raise PageError(400, "A name is letters, digits and . _ @ - (at most 64).")
    team.add(context(request), who, name, form.get("role"), form.get("password"))
    return redirect(f"/users?done={quote(f'added {name}')}")


@router.post("/users/{name}/{action}")
def user_act(
    request: Request,
    name: str,
    action: str,
    form: Form = Depends(read_form),
    who: Principal = Depends(admin),
) -> Response:
    ctx = context(request)
    if action == "role":
        team.set_role(ctx, who, name, form.get("role"))
        done = f"{name} is now {form.get('role')}"
    elif action in ("enable", "disable"):
        team.set_disabled(ctx, who, name, action == "disable")
        done = f"{name} {action}d"
    elif action == "password":
        generated = team.reset_password(ctx, who, name, form.get("password") or None)
        if generated:  # shown once, in this answer only (never in a URL or a log)
            return users_page(
                request, secret={"what": f"New password for {name}", "value": generated}
            )
        done = f"password of {name} changed"
    elif action == "token":
        token_id, token = team.issue_token(ctx, who, name)
        return users_page(
            request, secret={"what": f"API token #{token_id} for {name}", "value": token}
        )
    elif action == "revoke":
        given = form.get("token")
        n = team.revoke(ctx, who, name, int(given) if given.isdigit() else None)
        done = f"revoked {n} token{'s' if n != 1 else ''} of {name}"
    else:
        raise PageError(404, "There is no such page.")
    return redirect(f"/users?done={quote(done)}")
