"""The review page as an ASGI application on FastAPI (Starlette), rendered with Jinja2.

    create_app(store, ...)  the application: pages (pages.py), the JSON API (api.py),
                            static files, and the defences around them (guard.py)

Safety: every template is autoescaped (item text is data, never markup); only http(s)
links are made clickable; every form POST carries a CSRF token equal to the one in its
cookie (a script's POST sends it as ``X-CSRF-Token``), and a cross-origin ``Origin`` is
refused; a Content-Security-Policy forbids inline script; the page answers only to the
host names it is served as; roles (auth.py) are checked on every route.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from monitor.store.search import SearchError, check_search
from monitor.models import SEVERITIES, utcnow
from monitor.store.triage import DISMISS_REASONS
from monitor.web.auth import Access, Authenticator, Principal  # noqa: F401 (Access: re-exported)
from monitor.web.guard import HostGuard, LoginLimiter, allowed_hosts
from monitor.timefmt import ago
from monitor.urls import safe_url
from monitor.web.present import exact

if TYPE_CHECKING:
    from monitor.config import Config

log = logging.getLogger(__name__)

CSRF_COOKIE = "monitor_csrf"
_CSRF_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,64}")
SINCE_CHOICES = [
    ("", "any time"),
    ("6h", "last 6 hours"),
    ("24h", "last 24 hours"),
    ("2d", "last 2 days"),
    ("7d", "last 7 days"),
    ("30d", "last 30 days"),
]
STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


@dataclass
class WebContext:
    """What every route needs, built once per application."""

    store: Any
    auth: Authenticator
    env: Environment
    rules: Callable[[], Iterable[tuple[str, str, str]]]
    default_by: str
    clock: Callable[[], datetime]
    config: Any = None  # the loaded Config, when served from a config file (editors, status)
    extra: dict[str, Any] = field(default_factory=dict)

    def who(self, principal: Principal | None) -> str:
        return (principal.name if principal and principal.name else None) or self.default_by

    @property
    def rule_paths(self) -> list[Path]:
        return list(self.config.rule_paths) if self.config is not None else []


class PageError(Exception):
    """A page's refusal, rendered as the error page (or JSON under /api)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        self.status, self.message, self.headers = status, message, headers or {}
        super().__init__(message)


def search_error(text: str | None) -> None:
    """A search the store cannot read (``Armenia OR``) is a 400 that says why, not an error page."""
    if text:
        try:
            check_search(text)
        except SearchError as exc:
            raise PageError(400, f"search: {exc}") from None


def csrf_of(request: Request) -> str:
    token: str = request.state.csrf
    return token


def create_app(
    store: Any,
    access: Access | None = None,
    rules: Callable[[], Iterable[tuple[str, str, str]]] | None = None,
    default_by: str = "web",
    clock: Callable[[], datetime] = utcnow,
    *,
    config: Config | None = None,
    bound: str = "127.0.0.1",
    hosts: Iterable[str] = (),
    limiter: LoginLimiter | None = None,
    poll: Callable[[str], Any] | None = None,
) -> HostGuard:
    """The ASGI application. ``bound`` and ``hosts`` decide the Host names it answers to;
    ``poll(name)`` polls a source now (the Sources page's "retry now")."""
    web_cfg = getattr(config, "web", None)
    if limiter is None:
        limiter = (
            LoginLimiter(web_cfg.login_attempts, web_cfg.login_window)
            if web_cfg
            else LoginLimiter()
        )
    env = Environment(
        loader=PackageLoader("monitor.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.globals.update(
        ago=ago,
        exact=exact,
        safe_url=safe_url,
        severities=SEVERITIES,
        dismiss_reasons=DISMISS_REASONS,
        since_choices=SINCE_CHOICES,
    )
    ctx = WebContext(
        store=store,
        auth=Authenticator(store, access or Access(), limiter),
        env=env,
        rules=rules or (lambda: []),
        default_by=default_by,
        clock=clock,
        config=config,
        extra={"poll": poll} if poll else {},
    )

    app = FastAPI(
        title="signal monitor",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        description="The review page's JSON API. Authenticate with `Authorization: Bearer TOKEN` "
        "(`monitor users token NAME`).",
    )
    app.state.web = ctx

    from monitor.web import (
        api,
        api_channels,
        api_rules,
        api_users,
        feeds,
        pages,
        pages_admin,
        pages_rules,
        pages_sources,
    )

    app.include_router(api.router)
    app.include_router(api_rules.router)
    app.include_router(api_channels.router)
    app.include_router(api_users.router)
    app.include_router(pages.router)
    app.include_router(pages_rules.router)
    app.include_router(pages_sources.router)
    app.include_router(pages_admin.router)
    app.include_router(feeds.router)

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if not re.fullmatch(r"[a-z0-9_-]+\.(?:css|js|svg)", name):
            raise PageError(404, "No such file.")
        try:
            data = resources.files("monitor.web").joinpath("static", name).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise PageError(404, "No such file.") from None
        return Response(
            data,
            media_type=STATIC_TYPES[name[name.rfind(".") :]],
            headers={"cache-control": "max-age=300"},
        )

    @app.middleware("http")
    async def csrf_cookie(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        given = request.cookies.get(CSRF_COOKIE) or ""
        fresh = None if _CSRF_SHAPE.fullmatch(given) else secrets.token_urlsafe(32)
        request.state.csrf = fresh or given
        response = await call_next(request)
        if fresh:
            response.set_cookie(
                CSRF_COOKIE,
                fresh,
                path="/",
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
        return response

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        return error_response(request, exc.status, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {
            404: "There is no such page.",
            405: f"{request.method} is not allowed here.",
        }.get(exc.status_code, str(exc.detail))
        if request.url.path.startswith("/api/"):
            message = str(exc.detail)
        return error_response(
            request, exc.status_code, message, getattr(exc, "headers", None) or {}
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
        return error_response(request, 404, "There is no such page.", {})

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.error("review page: %s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(
            request, 500, "Something went wrong; the details are in the server log.", {}
        )

    return HostGuard(
        app, allowed_hosts(bound, list(hosts) + list(web_cfg.hosts if web_cfg else []))
    )


def error_response(
    request: Request, status: int, message: str, headers: dict[str, str]
) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    if status == 401 and "www-authenticate" in {k.lower() for k in headers}:
        return PlainTextResponse(message + "\n", status_code=status, headers=headers)
    ctx: WebContext = request.app.state.web
    from http import HTTPStatus

    body = ctx.env.get_template("error.html").render(
        status=HTTPStatus(status),
        message=message,
        csrf=getattr(request.state, "csrf", ""),
        now=ctx.clock(),
        path=request.url.path,
        user="",
        new_count=0,
        role=None,
    )
    return Response(
        body, status_code=status, media_type="text/html; charset=utf-8", headers=headers
    )
