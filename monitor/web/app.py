"""The review page as a plain WSGI application, rendered with Jinja2 (autoescaped).

    GET  /                      the hit list: status tabs, filters, full-text search, paging
    GET  /hits/<id>             one hit: snippet and article text with the matches marked
    POST /hits/<id>/<action>    ack | dismiss | reopen | note
    POST /hits/bulk             ack or dismiss the ticked hits
    GET  /rules                 per-rule numbers (``rules stats``)
    GET  /sources               each source's health
    GET  /login?token=…         token mode: remember the token in a cookie, then go to /

Safety: every template is autoescaped (item text is data, never markup); only http(s)
links are made clickable; every POST carries a CSRF token that must equal the one in its
cookie, and a cross-origin ``Origin`` is refused; a Content-Security-Policy forbids inline
script; access control (``Access``) is decided by ``server.serve``.
"""

from __future__ import annotations

import base64
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.cookies import SimpleCookie
from importlib import resources
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, urlencode, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape

from monitor.models import SEVERITIES, utcnow
from monitor.store.base import parse_ts
from monitor.store.hits import STATUSES, HitFilter, parse_when
from monitor.store.triage import DISMISS_REASONS
from monitor.web.present import ago, document_parts, exact, safe_url, snippet_parts

log = logging.getLogger(__name__)

PAGE_SIZE = 50
MAX_FORM_BYTES = 64 * 1024
CSRF_COOKIE = "monitor_csrf"
TOKEN_COOKIE = "monitor_token"
SINCE_CHOICES = [("", "any time"), ("6h", "last 6 hours"), ("24h", "last 24 hours"), ("2d", "last 2 days"),
                 ("7d", "last 7 days"), ("30d", "last 30 days")]
SECURITY_HEADERS = [
    ("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
]
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class Access:
    """Who may use the page. No secret at all means open (only ever on a loopback address)."""

    password: str | None = None  # HTTP basic auth; any user name unless ``user`` is set
    user: str | None = None
    token: str | None = None  # ``Authorization: Bearer``, or once via /login?token=… then a cookie

    @property
    def open(self) -> bool:
        return not (self.password or self.token)

    def check(self, req: "Request") -> tuple[bool, str | None]:
        """(allowed, the user name the request proved, if any)."""
        if self.open:
            return True, None
        header = req.header("authorization")
        if self.password and header.lower().startswith("basic "):
            try:
                user, _, given = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return False, None
            if _same(given, self.password) and (self.user is None or _same(user, self.user)):
                return True, user or None
        if self.token:
            given = header[7:].strip() if header.lower().startswith("bearer ") else req.cookies.get(TOKEN_COOKIE, "")
            if given and _same(given, self.token):
                return True, None
        return False, None


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class Request:
    def __init__(self, environ: dict[str, Any]):
        self.environ = environ
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        self.path = environ.get("PATH_INFO", "/") or "/"
        self.query_string = environ.get("QUERY_STRING", "")
        self.query = parse_qs(self.query_string, keep_blank_values=False)
        cookie = SimpleCookie()
        try:
            cookie.load(environ.get("HTTP_COOKIE", ""))
        except Exception:  # a malformed cookie header from elsewhere on this host
            pass
        self.cookies = {k: m.value for k, m in cookie.items()}
        self._form: dict[str, list[str]] | None = None

    def header(self, name: str) -> str:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"), "")

    def arg(self, name: str, default: str = "") -> str:
        return (self.query.get(name) or [default])[0]

    def args(self, name: str) -> list[str]:
        return [v for v in self.query.get(name, []) if v]

    @property
    def form(self) -> dict[str, list[str]]:
        if self._form is None:
            try:
                length = int(self.environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > MAX_FORM_BYTES:
                raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "That form is too large.")
            body = self.environ["wsgi.input"].read(length) if length > 0 else b""
            self._form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return self._form

    def field(self, name: str, default: str = "") -> str:
        return (self.form.get(name) or [default])[0]

    @property
    def origin(self) -> str:
        scheme = self.environ.get("wsgi.url_scheme", "http")
        host = self.environ.get("HTTP_HOST") or f"{self.environ.get('SERVER_NAME')}:{self.environ.get('SERVER_PORT')}"
        return f"{scheme}://{host}"


class HttpError(Exception):
    def __init__(self, status: HTTPStatus, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


@dataclass
class Response:
    status: HTTPStatus
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] | None = None


def redirect(location: str) -> Response:
    return Response(HTTPStatus.SEE_OTHER, b"", headers=[("Location", location)])


def _local_path(value: str, default: str = "/") -> str:
    """A redirect target only if it is a path on this site (no scheme, no //host)."""
    parts = urlsplit(value or "")
    if value.startswith("/") and not value.startswith("//") and not parts.scheme and not parts.netloc \
            and "\\" not in value:
        return value
    return default


class ReviewApp:
    """The WSGI callable. One ``Store`` shared by the server's threads (it serialises access)."""

    def __init__(self, store, access: Access | None = None, rules: Callable[[], Iterable[tuple[str, str, str]]] | None = None,
                 default_by: str = "web", clock: Callable[[], datetime] = utcnow):
        self.store = store
        self.access = access or Access()
        self.rules = rules or (lambda: [])
        self.default_by = default_by
        self.clock = clock
        self.env = Environment(loader=PackageLoader("monitor.web", "templates"),
                               autoescape=select_autoescape(default=True, default_for_string=True))
        self.env.globals.update(ago=ago, exact=exact, safe_url=safe_url, severities=SEVERITIES,
                                dismiss_reasons=DISMISS_REASONS, since_choices=SINCE_CHOICES)
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = [
            ("GET", re.compile(r"/"), self.hit_list),
            ("GET", re.compile(r"/hits/(\d+)"), self.hit_detail),
            ("POST", re.compile(r"/hits/bulk"), self.bulk),
            ("POST", re.compile(r"/hits/(\d+)/(ack|dismiss|reopen|note)"), self.act),
            ("GET", re.compile(r"/rules"), self.rule_list),
            ("GET", re.compile(r"/sources"), self.source_list),
            ("GET", re.compile(r"/login"), self.login),
            ("GET", re.compile(r"/static/([a-z0-9_-]+\.(?:css|js|svg))"), self.static),
        ]

    # -- WSGI ---------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response) -> list[bytes]:
        req = Request(environ)
        csrf = req.cookies.get(CSRF_COOKIE) or ""
        new_csrf = None
        if not re.fullmatch(r"[A-Za-z0-9_-]{32,64}", csrf):
            csrf = new_csrf = secrets.token_urlsafe(32)
        try:
            resp = self.dispatch(req, csrf)
        except HttpError as exc:
            resp = self.page("error.html", {"status": exc.status, "message": exc.message}, req, csrf, status=exc.status)
        except Exception:
            log.exception("review page: %s %s failed", req.method, req.path)
            resp = self.page("error.html", {"status": HTTPStatus.INTERNAL_SERVER_ERROR,
                                            "message": "Something went wrong; the details are in the server log."},
                             req, csrf, status=HTTPStatus.INTERNAL_SERVER_ERROR)
        own = resp.headers or []
        own_names = {k.lower() for k, _ in own}
        headers = [("Content-Type", resp.content_type), ("Content-Length", str(len(resp.body)))]
        headers += [(k, v) for k, v in SECURITY_HEADERS if k.lower() not in own_names] + own
        if new_csrf:
            headers.append(("Set-Cookie", f"{CSRF_COOKIE}={new_csrf}; Path=/; HttpOnly; SameSite=Strict"))
        start_response(f"{resp.status.value} {resp.status.phrase}", headers)
        return [resp.body] if req.method != "HEAD" else [b""]

    def dispatch(self, req: Request, csrf: str) -> Response:
        method = "GET" if req.method == "HEAD" else req.method
        allowed, user = self.access.check(req)
        if not allowed and not req.path.startswith("/static/") and req.path != "/login":
            return self.unauthorised()
        req.environ["monitor.user"] = user
        for verb, pattern, handler in self.routes:
            m = pattern.fullmatch(req.path)
            if not m:
                continue
            if verb != method:
                raise HttpError(HTTPStatus.METHOD_NOT_ALLOWED, f"{req.method} is not allowed here.")
            if method == "POST":
                self.check_csrf(req, csrf)
            return handler(req, csrf, *m.groups())
        raise HttpError(HTTPStatus.NOT_FOUND, "There is no such page.")

    def unauthorised(self) -> Response:
        headers = [("WWW-Authenticate", 'Basic realm="signal monitor", charset="UTF-8"')] if self.access.password else []
        body = b"Sign in: this review page needs the password (or token) it was started with.\n"
        return Response(HTTPStatus.UNAUTHORIZED, body, "text/plain; charset=utf-8", headers)

    def check_csrf(self, req: Request, csrf: str) -> None:
        # A browser names the page a form came from; another site's page is refused outright.
        # ("null" — privacy settings, sandboxes — names none: the token below decides.)
        origin = req.header("origin")
        if origin and origin != "null" and origin != req.origin:
            raise HttpError(HTTPStatus.FORBIDDEN, "That form came from another site and was refused.")
        given = req.field("csrf")
        if not given or not req.cookies.get(CSRF_COOKIE) or not _same(given, req.cookies[CSRF_COOKIE]):
            raise HttpError(HTTPStatus.FORBIDDEN,
                            "This form has expired or did not come from this page. Go back, reload and try again.")

    def page(self, template: str, context: dict[str, Any], req: Request, csrf: str,
             status: HTTPStatus = HTTPStatus.OK) -> Response:
        new_count = self.store.count_hits(status=["new"]) if template != "error.html" else 0
        body = self.env.get_template(template).render(
            **context, csrf=csrf, now=self.clock(), path=req.path, user=self.who(req), new_count=new_count,
        )
        return Response(status, body.encode("utf-8"))

    def who(self, req: Request) -> str:
        return req.environ.get("monitor.user") or self.default_by

    # -- pages --------------------------------------------------------------------------
    def filter_from(self, req: Request) -> tuple[HitFilter, dict[str, Any]]:
        """The hit filter in the query string; ``status`` defaults to new (the inbox)."""
        now = self.clock()
        status = req.arg("status", "new")
        statuses = [] if status == "all" else [s for s in [status] if s in STATUSES]
        bounds: dict[str, datetime | None] = {}
        for name in ("since", "until"):
            value = req.arg(name)
            try:
                bounds[name] = parse_when(value, now) if value else None
            except ValueError as exc:
                raise HttpError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        f = HitFilter(rule=req.args("rule"), severity=[s for s in req.args("severity") if s in SEVERITIES],
                      source=req.args("source"), tag=req.args("tag"), status=statuses,
                      since=bounds["since"], until=bounds["until"], search=req.arg("q") or None)
        form = {"q": req.arg("q"), "rule": req.arg("rule"), "severity": req.arg("severity"),
                "source": req.arg("source"), "tag": req.arg("tag"), "since": req.arg("since"),
                "until": req.arg("until"), "status": status if status in (*STATUSES, "all") else "new"}
        return f, form

    def hit_list(self, req: Request, csrf: str) -> Response:
        f, form = self.filter_from(req)
        try:
            page = max(1, int(req.arg("page", "1")))
        except ValueError:
            page = 1
        total = self.store.count_hits(**f.kwargs())
        hits = self.store.list_hits(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **f.kwargs())
        facets = self.store.hit_facets()
        keep = {k: v for k, v in form.items() if v}

        def url(**changes: Any) -> str:
            """This list's address with some parameters changed (page 1 and the new tab are defaults)."""
            params = {**keep, **changes}
            params = {k: v for k, v in params.items()
                      if v not in (None, "") and not (k == "page" and v == 1) and not (k == "status" and v == "new")}
            return "/" + ("?" + urlencode(params) if params else "")

        tab_counts = dict(facets["statuses"])
        if f.kwargs()["search"] or any(form[k] for k in ("rule", "severity", "source", "tag", "since", "until")):
            tab_counts = {s: self.store.count_hits(**f.but(status=[s]).kwargs()) for s in STATUSES}
        tab_counts["all"] = sum(tab_counts.get(s, 0) for s in STATUSES)
        rows = [{"hit": h, "snippet": snippet_parts(h.snippet), "link": safe_url(h.url)} for h in hits]
        return self.page("hits.html", {
            "rows": rows, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
            "first": (page - 1) * PAGE_SIZE + 1, "last": (page - 1) * PAGE_SIZE + len(hits), "form": form,
            "facets": facets, "url": url, "tab_counts": tab_counts, "here": req.path + ("?" + req.query_string if req.query_string else ""),
            "filtered": any(form[k] for k in ("q", "rule", "severity", "source", "tag", "since", "until")),
        }, req, csrf)

    def hit_detail(self, req: Request, csrf: str, hit_id: str) -> Response:
        hit = self.store.get_hit(int(hit_id))
        if hit is None:
            raise HttpError(HTTPStatus.NOT_FOUND, f"There is no hit {hit_id}.")
        row = self.store.get_hit_row(hit.id)
        title_parts, body_parts = document_parts(hit.title, row["text"] or "", hit.spans)
        return self.page("hit.html", {
            "hit": hit, "row": row, "snippet": snippet_parts(hit.snippet), "title_parts": title_parts,
            "body_parts": body_parts, "link": safe_url(hit.url), "notes": self.store.hit_notes(hit.id),
            "deliveries": self.store.deliveries_for_hit(hit.id), "status_at": parse_ts(row["status_at"]),
            "back": _local_path(req.arg("back"), "/"), "here": req.path + ("?" + req.query_string if req.query_string else ""),
        }, req, csrf)

    def act(self, req: Request, csrf: str, hit_id: str, action: str) -> Response:
        now, by, ids = self.clock(), self.who(req), [int(hit_id)]
        note = req.field("note").strip() or None
        if action == "ack":
            result = self.store.ack_hits(ids, by=by, now=now, note=note)
        elif action == "reopen":
            result = self.store.reopen_hits(ids, by=by, now=now, note=note)
        elif action == "dismiss":
            reason = req.field("reason")
            if reason not in DISMISS_REASONS:
                raise HttpError(HTTPStatus.BAD_REQUEST, f"Choose a reason: {', '.join(DISMISS_REASONS)}.")
            result = self.store.dismiss_hits(ids, reason, by=by, now=now, note=note)
        else:
            text = req.field("text").strip()
            if not text:
                raise HttpError(HTTPStatus.BAD_REQUEST, "A note needs some text.")
            if self.store.add_note(int(hit_id), text, by=by, now=now) is None:
                raise HttpError(HTTPStatus.NOT_FOUND, f"There is no hit {hit_id}.")
            return redirect(_local_path(req.field("next"), f"/hits/{hit_id}"))
        if result.missing:
            raise HttpError(HTTPStatus.NOT_FOUND, f"There is no hit {hit_id}.")
        return redirect(_local_path(req.field("next"), f"/hits/{hit_id}"))

    def bulk(self, req: Request, csrf: str) -> Response:
        ids = [int(v) for v in req.form.get("ids", []) if v.isdigit()]
        action = req.field("action")
        if not ids:
            return redirect(_local_path(req.field("next")))
        if action == "ack":
            self.store.ack_hits(ids, by=self.who(req), now=self.clock())
        elif action == "dismiss":
            reason = req.field("reason")
            if reason not in DISMISS_REASONS:
                raise HttpError(HTTPStatus.BAD_REQUEST, f"Choose a reason: {', '.join(DISMISS_REASONS)}.")
            self.store.dismiss_hits(ids, reason, by=self.who(req), now=self.clock())
        else:
            raise HttpError(HTTPStatus.BAD_REQUEST, "Unknown action.")
        return redirect(_local_path(req.field("next")))

    def rule_list(self, req: Request, csrf: str) -> Response:
        stats = self.store.rule_stats(self.clock(), rules=self.rules())
        return self.page("rules.html", {"stats": stats}, req, csrf)

    def source_list(self, req: Request, csrf: str) -> Response:
        return self.page("sources.html", {"sources": self.store.list_sources()}, req, csrf)

    def login(self, req: Request, csrf: str) -> Response:
        token = req.arg("token")
        if self.access.token and token and _same(token, self.access.token):
            resp = redirect("/")
            resp.headers.append(("Set-Cookie", f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"))
            return resp
        return self.unauthorised()

    def static(self, req: Request, csrf: str, name: str) -> Response:
        try:
            data = resources.files("monitor.web").joinpath("static", name).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise HttpError(HTTPStatus.NOT_FOUND, "No such file.") from None
        suffix = name[name.rfind("."):]
        return Response(HTTPStatus.OK, data, STATIC_TYPES[suffix], [("Cache-Control", "max-age=300")])
