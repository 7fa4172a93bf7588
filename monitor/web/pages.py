"""The server-rendered pages: the hit list, one hit, triage forms, rules, sources, sign-in.

GET  /                      the hit list: status tabs, filters, full-text search, paging
GET  /hits/<id>             one hit: snippet and article text with the matches marked
POST /hits/<id>/<action>    ack | dismiss | reopen | note            (analyst)
POST /hits/bulk             ack or dismiss the ticked hits           (analyst)
GET  /rules, /sources       per-rule numbers; each source's health
GET  /login                 the sign-in form; ``?token=…`` remembers the shared token
POST /login, /logout        sign in with a name and password; sign out
"""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from monitor.accounts import digest, new_secret
from monitor.models import SEVERITIES, ListedSource
from monitor.store.hits import STATUSES, HitFilter, parse_when
from monitor.store.triage import DISMISS_REASONS
from monitor.urls import item_link
from monitor.web.app import PageError, WebContext, csrf_of, search_error
from monitor.web.auth import SESSION_COOKIE, TOKEN_COOKIE, Principal, TooManyAttempts, same
from monitor.web.deps import Form, client_of, context, read_form, require
from monitor.web.guard import local_path
from monitor.web.present import document_parts, snippet_parts

PAGE_SIZE = 50
router = APIRouter(include_in_schema=False)
viewer, analyst = require("viewer"), require("analyst")


def render(
    request: Request, template: str, values: dict[str, Any], status: int = 200
) -> HTMLResponse:
    ctx: WebContext = context(request)
    who: Principal | None = getattr(request.state, "principal", None)
    body = ctx.env.get_template(template).render(
        **values,
        csrf=csrf_of(request),
        now=ctx.clock(),
        path=request.url.path,
        user=ctx.who(who),
        role=who.role if who else None,
        new_count=ctx.store.count_hits(status=["new"]),
    )
    return HTMLResponse(body, status_code=status)


def redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=HTTPStatus.SEE_OTHER)


def here(request: Request) -> str:
    return request.url.path + ("?" + request.url.query if request.url.query else "")


def hit_filter(request: Request, ctx: WebContext) -> tuple[HitFilter, dict[str, Any]]:
    """The hit filter in the query string; ``status`` defaults to new (the inbox)."""
    q = request.query_params
    status = q.get("status") or "new"
    statuses = [] if status == "all" else [s for s in [status] if s in STATUSES]
    bounds: dict[str, Any] = {}
    for name in ("since", "until"):
        value = q.get(name)
        try:
            bounds[name] = parse_when(value, ctx.clock()) if value else None
        except ValueError as exc:
            raise PageError(400, str(exc)) from None
    search_error(q.get("q"))

    def some(name: str) -> list[str]:
        return [v for v in q.getlist(name) if v]

    f = HitFilter(
        rule=some("rule"),
        severity=[s for s in some("severity") if s in SEVERITIES],
        source=some("source"),
        tag=some("tag"),
        status=statuses,
        since=bounds["since"],
        until=bounds["until"],
        search=q.get("q") or None,
    )
    form = {k: q.get(k, "") for k in ("q", "rule", "severity", "source", "tag", "since", "until")}
    form["status"] = status if status in (*STATUSES, "all") else "new"
    return f, form


@router.get("/", response_class=HTMLResponse)
def hit_list(request: Request, who: Principal = Depends(viewer)) -> Response:
    ctx = context(request)
    f, form = hit_filter(request, ctx)
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    store = ctx.store
    total = store.count_hits(**f.kwargs())
    hits = store.list_hits(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **f.kwargs())
    facets = store.hit_facets()
    keep = {k: v for k, v in form.items() if v}

    def url(**changes: Any) -> str:
        """This list's address with some parameters changed (page 1 and the new tab are defaults)."""
        params = {**keep, **changes}
        params = {
            k: v
            for k, v in params.items()
            if v not in (None, "")
            and not (k == "page" and v == 1)
            and not (k == "status" and v == "new")
        }
        return "/" + ("?" + urlencode(params) if params else "")

    filtered = any(form[k] for k in ("rule", "severity", "source", "tag", "since", "until"))
    tab_counts = dict(facets["statuses"])
    if f.kwargs()["search"] or filtered:
        tab_counts = {s: store.count_hits(**f.but(status=[s]).kwargs()) for s in STATUSES}
    tab_counts["all"] = sum(tab_counts.get(s, 0) for s in STATUSES)
    rows = [{"hit": h, "snippet": snippet_parts(h.snippet), "link": item_link(h.url)} for h in hits]
    return render(
        request,
        "hits.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "first": (page - 1) * PAGE_SIZE + 1,
            "last": (page - 1) * PAGE_SIZE + len(hits),
            "form": form,
            "facets": facets,
            "url": url,
            "tab_counts": tab_counts,
            "here": here(request),
            "filtered": filtered or bool(form["q"]),
            "newest": max((h.id for h in hits), default=0),
            "live": form["status"] == "new" and page == 1,
            "live_ms": int(
                1000 * (ctx.config.web.live_interval if ctx.config is not None else 10.0)
            ),
            "api_query": urlencode(
                [
                    (k, v)
                    for k, v in request.query_params.multi_items()
                    if k in ("rule", "severity", "source", "tag", "q", "since", "until")
                ]
            ),
        },
    )


@router.get("/hits/{hit_id}", response_class=HTMLResponse)
def hit_detail(request: Request, hit_id: int, who: Principal = Depends(viewer)) -> Response:
    store = context(request).store
    hit = store.get_hit(hit_id)
    if hit is None:
        raise PageError(404, f"There is no hit {hit_id}.")
    row = store.get_hit_row(hit.id)
    if row is None:
        raise PageError(404, f"There is no hit {hit_id}.")
    title_parts, body_parts = document_parts(hit.title, row.text, hit.spans)
    return render(
        request,
        "hit.html",
        {
            "hit": hit,
            "row": row,
            "snippet": snippet_parts(hit.snippet),
            "title_parts": title_parts,
            "body_parts": body_parts,
            "link": item_link(hit.url),
            "notes": store.hit_notes(hit.id),
            "deliveries": store.deliveries_for_hit(hit.id),
            "status_at": row.status_at,
            "back": local_path(request.query_params.get("back"), "/"),
            "here": here(request),
        },
    )


@router.post("/hits/bulk")
def bulk(
    request: Request, form: Form = Depends(read_form), who: Principal = Depends(analyst)
) -> Response:
    ctx = context(request)
    ids = [int(v) for v in form.all("ids") if v.isdigit()]
    action, back = form.get("action"), local_path(form.get("next"))
    if not ids:
        return redirect(back)
    if action == "ack":
        ctx.store.ack_hits(ids, by=ctx.who(who), now=ctx.clock())
    elif action == "dismiss":
        reason = form.get("reason")
        if reason not in DISMISS_REASONS:
            raise PageError(400, f"Choose a reason: {', '.join(DISMISS_REASONS)}.")
        ctx.store.dismiss_hits(ids, reason, by=ctx.who(who), now=ctx.clock())
    else:
        raise PageError(400, "Unknown action.")
    return redirect(back)


@router.post("/hits/{hit_id}/{action}")
def act(
    request: Request,
    hit_id: int,
    action: str,
    form: Form = Depends(read_form),
    who: Principal = Depends(analyst),
) -> Response:
    if action not in ("ack", "dismiss", "reopen", "note"):
        raise PageError(404, "There is no such page.")
    ctx = context(request)
    store, now, by, ids = ctx.store, ctx.clock(), ctx.who(who), [hit_id]
    note = form.get("note").strip() or None
    back = local_path(form.get("next"), f"/hits/{hit_id}")
    if action == "ack":
        result = store.ack_hits(ids, by=by, now=now, note=note)
    elif action == "reopen":
        result = store.reopen_hits(ids, by=by, now=now, note=note)
    elif action == "dismiss":
        reason = form.get("reason")
        if reason not in DISMISS_REASONS:
            raise PageError(400, f"Choose a reason: {', '.join(DISMISS_REASONS)}.")
        result = store.dismiss_hits(ids, reason, by=by, now=now, note=note)
    else:
        text = form.get("text").strip()
        if not text:
            raise PageError(400, "A note needs some text.")
        if store.add_note(hit_id, text, by=by, now=now) is None:
            raise PageError(404, f"There is no hit {hit_id}.")
        return redirect(back)
    if result.missing:
        raise PageError(404, f"There is no hit {hit_id}.")
    return redirect(back)


@router.get("/rules", response_class=HTMLResponse)
def rule_list(request: Request, who: Principal = Depends(viewer)) -> Response:
    ctx = context(request)
    from monitor.web.ruleset import label, rule_files

    files = [label(ctx.rule_paths, f) for f in rule_files(ctx.rule_paths)] if ctx.rule_paths else []
    return render(
        request,
        "rules.html",
        {"stats": ctx.store.rule_stats(ctx.clock(), rules=ctx.rules()), "files": files},
    )


@router.get("/sources", response_class=HTMLResponse)
def source_list(request: Request, who: Principal = Depends(viewer)) -> Response:
    ctx = context(request)
    rows = ctx.store.list_sources()
    configured = {s.name: s for s in (ctx.config.sources if ctx.config is not None else [])}
    polled = {r.name for r in rows}
    rows += [
        ListedSource(name=s.name, kind=s.kind, target=s.url or str(s.path))
        for s in configured.values()
        if s.name not in polled
    ]
    q = request.query_params
    return render(
        request,
        "sources.html",
        {
            "sources": rows,
            "configured": configured,
            "editable": ctx.config is not None and ctx.config.path is not None,
            "retried": q.get("retried"),
            "outcome": q.get("outcome"),
            "added": q.get("added"),
        },
    )


# -- signing in -------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    ctx = context(request)
    token = request.query_params.get("token")
    if token is not None:  # the shared token, once, then a cookie
        try:
            ctx.auth.check_limit(client_of(request))
        except TooManyAttempts as exc:
            raise PageError(
                429,
                f"Too many failed sign-ins from this address; try again in {exc.retry_after} s.",
                {"retry-after": str(exc.retry_after)},
            ) from None
        if ctx.auth.access.token and token and same(token, ctx.auth.access.token):
            resp = redirect("/")
            resp.set_cookie(
                TOKEN_COOKIE,
                token,
                path="/",
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
            return resp
        ctx.auth.failed(client_of(request))
        raise PageError(
            401, "Sign in: this page needs the password (or token) it was started with."
        )
    return render(
        request,
        "login.html",
        {"next": local_path(request.query_params.get("next")), "error": None, "name": ""},
    )


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, form: Form = Depends(read_form)) -> Response:
    ctx = context(request)
    name, password, back = (
        form.get("name").strip(),
        form.get("password"),
        local_path(form.get("next")),
    )
    try:
        who = ctx.auth.password(name, password, client_of(request))
    except TooManyAttempts as exc:
        return render(
            request,
            "login.html",
            {
                "next": back,
                "name": name,
                "error": f"Too many failed sign-ins from this address; try again in {exc.retry_after} s.",
            },
            status=429,
        )
    if who is None:
        return render(
            request,
            "login.html",
            {"next": back, "name": name, "error": "That name and password do not match."},
            status=401,
        )
    if who.via != "password":  # the shared password: the browser's own prompt keeps it
        return render(
            request,
            "login.html",
            {
                "next": back,
                "name": name,
                "error": "That is the shared password: use your browser's sign-in prompt for it.",
            },
            status=400,
        )
    resp = redirect(back)
    secret, now = new_secret(), ctx.clock()
    days = ctx.config.web.session_days if ctx.config is not None else 14.0
    ctx.store.add_session(digest(secret), who.name, now, now + timedelta(days=days))
    resp.set_cookie(
        SESSION_COOKIE,
        secret,
        path="/",
        httponly=True,
        samesite="strict",
        max_age=int(days * 86400),
        secure=request.url.scheme == "https",
    )
    return resp


@router.post("/logout")
def logout(request: Request, form: Form = Depends(read_form)) -> Response:
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        context(request).store.remove_session(digest(session))
    resp = redirect("/login")
    resp.delete_cookie(SESSION_COOKIE, path="/")
    resp.delete_cookie(TOKEN_COOKIE, path="/")
    return resp
