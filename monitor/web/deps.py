"""Request dependencies shared by the pages and the API: who is asking, may they, and
did a form really come from this page (CSRF)."""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import parse_qs, quote

from fastapi import Depends, Request

from monitor.web.app import CSRF_COOKIE, PageError, WebContext
from monitor.web.auth import Principal, TooManyAttempts, same

MAX_FORM_BYTES = 64 * 1024


def context(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.web
    return ctx


def client_of(request: Request) -> str:
    return request.client.host if request.client else "-"


def unauthorised(request: Request, ctx: WebContext) -> PageError:
    api = request.url.path.startswith("/api/") or request.url.path.startswith("/feeds/")
    if not api and ctx.auth.accounts():
        target = request.url.path + ("?" + request.url.query if request.url.query else "")
        return PageError(
            303, "Sign in first.", {"location": "/login?next=" + quote(target, safe="/")}
        )
    schemes = (
        ['Basic realm="signal monitor", charset="UTF-8"']
        if ctx.auth.access.password or (api and ctx.auth.accounts())
        else []
    )
    if api:
        schemes.insert(0, 'Bearer realm="signal monitor"')
    headers = {"www-authenticate": ", ".join(schemes)} if schemes else {}
    message = (
        "Sign in: this page needs the password (or token) it was started with."
        if not api
        else "Authentication required: send Authorization: Bearer TOKEN."
    )
    return PageError(401, message, headers)


def principal(request: Request) -> Principal:
    ctx = context(request)
    try:
        who = ctx.auth.identify(
            request.headers.get("authorization", ""),
            request.cookies,
            client_of(request),
            ctx.clock(),
        )
    except TooManyAttempts as exc:
        raise PageError(
            429,
            f"Too many failed sign-ins from this address; try again in {exc.retry_after} s.",
            {"retry-after": str(exc.retry_after)},
        ) from None
    if who is None:
        raise unauthorised(request, ctx)
    request.state.principal = who
    return who


def require(role: str) -> Callable[..., Principal]:
    def check(request: Request, who: Principal = Depends(principal)) -> Principal:
        if not who.can(role):
            raise PageError(403, f"This needs the {role} role; you are signed in as a {who.role}.")
        # a browser sends cookies and basic credentials by itself, never a bearer token
        bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
        if (
            request.method not in ("GET", "HEAD")
            and not bearer
            and request.url.path.startswith("/api/")
        ):
            check_origin(request)  # a script on the page: its CSRF token rides in a header
            check_token(request, request.headers.get("x-csrf-token", ""))
        return who

    return check


def check_origin(request: Request) -> None:
    # A browser names the page a form came from; another site's page is refused outright.
    # ("null" — privacy settings, sandboxes — names none: the token decides.)
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin and origin != "null" and origin != own:
        raise PageError(403, "That form came from another site and was refused.")


def check_token(request: Request, given: str) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not given or not cookie or not same(given, cookie):
        raise PageError(
            403,
            "This form has expired or did not come from this page. Go back, reload and try again.",
        )


class Form:
    def __init__(self, fields: dict[str, list[str]]):
        self.fields = fields

    def get(self, name: str, default: str = "") -> str:
        return (self.fields.get(name) or [default])[0]

    def all(self, name: str) -> list[str]:
        return self.fields.get(name, [])


async def read_form(request: Request) -> Form:
    """The posted form (at most 64 KiB), after its CSRF token and origin are checked."""
    size = request.headers.get("content-length")
    if size and size.isdigit() and int(size) > MAX_FORM_BYTES:
        raise PageError(413, "That form is too large.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PageError(413, "That form is too large.")
    form = Form(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
    check_origin(request)
    check_token(request, form.get("csrf"))
    return form


def poll_now(ctx: WebContext, name: str, who: Principal) -> Any:
    """ "Retry now" for the page and the API: poll the source from this process, record who
    asked; 409 when the page has no config to poll from, 404 for an unknown source."""
    poll = ctx.extra.get("poll")
    if poll is None:
        raise PageError(409, "This page was not started from a config file, so it cannot poll.")
    try:
        report = poll(name)
    except KeyError:
        raise PageError(404, f"There is no source {name}.") from None
    ctx.store.record_edit("source", name, "retry", ctx.who(who), ctx.clock())
    return report
