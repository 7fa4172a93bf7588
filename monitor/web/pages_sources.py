"""The Sources page's forms: add a source, enable or disable one (admin), retry now (analyst).

POST /sources/add                 name, kind, url, interval          (admin)
POST /sources/{name}/enable|disable                                  (admin)
POST /sources/{name}/retry        poll it now; the page shows the outcome (analyst)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from monitor.web import configedit
from monitor.web.app import PageError
from monitor.web.auth import Principal
from monitor.web.deps import Form, context, poll_now, read_form, require
from monitor.web.edits import RefusedEdit, apply_edit
from monitor.web.pages import redirect

router = APIRouter(include_in_schema=False)
analyst, admin = require("analyst"), require("admin")


def _edit(
    request: Request, who: Principal, name: str, action: str, change: Callable[[Path], None]
) -> None:
    try:
        apply_edit(context(request), who, "source", name, action, change)
    except RefusedEdit as exc:
        raise PageError(422, "The config was left as it was: " + "; ".join(exc.problems)) from None


@router.post("/sources/add")
def add(
    request: Request, form: Form = Depends(read_form), who: Principal = Depends(admin)
) -> Response:
    name, url = form.get("name").strip(), form.get("url").strip()
    kind = form.get("kind") if form.get("kind") in ("feed", "page") else "feed"
    if not name or not url:
        raise PageError(400, "A source needs a name and a URL.")
    fields = {
        "name": name,
        "kind": kind,
        "url": url,
        "interval": form.get("interval").strip() or None,
    }
    _edit(request, who, name, "add", lambda path: configedit.add_source(path, fields))
    return redirect(f"/sources?added={quote(name)}")


@router.post("/sources/{name}/{action}")
def act(
    request: Request,
    name: str,
    action: str,
    form: Form = Depends(read_form),
    who: Principal = Depends(analyst),
) -> Response:
    ctx = context(request)
    if action == "retry":
        report = poll_now(ctx, name, who)
        outcome = (
            f"{report.new_items} new items, {report.hits} hits"
            if report.ok
            else f"failed: {report.error}"
        )
        return redirect(f"/sources?retried={quote(name)}&outcome={quote(outcome)}")
    if action not in ("enable", "disable"):
        raise PageError(404, "There is no such page.")
    if not who.can("admin"):
        raise PageError(403, f"This needs the admin role; you are signed in as a {who.role}.")
    _edit(
        request,
        who,
        name,
        action,
        lambda path: configedit.update_source(path, name, {"enabled": action == "enable"}),
    )
    if action == "enable":  # also a source the daemon disabled (its disabled_reason is cleared)
        ctx.store.reenable_source(name, ctx.clock())
    return redirect("/sources")
