"""The JSON API under /api/v1 (described at /api/v1/openapi.json): hits, silences, status.
Rules and sources are in api_rules.py. Everything the pages do, a script can do here.

    GET  /api/v1/hits                 the CLI's filters, ``q`` search, ``limit``, ``cursor``
    GET  /api/v1/hits/{id}            one hit with its evidence, notes and deliveries
    POST /api/v1/hits/{id}/{action}   ack | dismiss | reopen | note                (analyst)
    POST /api/v1/hits/bulk            ack | dismiss | reopen many                  (analyst)
    GET|POST /api/v1/silences, DELETE /api/v1/silences/{id}            (POST, DELETE: analyst)
    GET  /api/v1/status               the health ``monitor status`` reports
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from monitor.models import Hit, Silence
from monitor.store.base import parse_ts, ts
from monitor.store.hits import STATUSES, HitFilter, parse_when
from monitor.store.triage import DISMISS_REASONS
from monitor.web.app import PageError, WebContext, search_error
from monitor.web.auth import Principal
from monitor.web.deps import context, require

router = APIRouter(prefix="/api/v1", tags=["hits"])
viewer, analyst = require("viewer"), require("analyst")
MAX_LIMIT = 500


class HitSummary(BaseModel):
    id: int
    title: str
    url: str | None
    rule: str
    rules: list[str] = Field(
        description="every rule that fired on the item (the first is ``rule``)"
    )
    severity: str
    source: str
    published: str | None
    status: str
    snippet: str


class HitList(BaseModel):
    hits: list[HitSummary]
    next: str | None = Field(description="pass as ``cursor`` for the next page; null on the last")


class Note(BaseModel):
    action: str
    text: str | None
    by: str | None
    created_at: str


class DeliveryOut(BaseModel):
    channel: str
    status: str
    attempts: int
    last_error: str | None


class HitDetail(HitSummary):
    rule_title: str
    tags: list[str]
    terms: list[str]
    spans: list[list[int]]
    why: str
    text: str
    created_at: str
    also_in: list[str]
    status_reason: str | None
    status_by: str | None
    status_at: str | None
    notes: list[Note]
    deliveries: list[DeliveryOut]


class TriageIn(BaseModel):
    note: str | None = Field(default=None, max_length=10_000)
    reason: Literal[DISMISS_REASONS] | None = Field(default=None, description="dismiss: why")  # type: ignore[valid-type]
    text: str | None = Field(default=None, max_length=10_000, description="note: the text")


class BulkIn(BaseModel):
    ids: list[int] = Field(min_length=1, max_length=5000)
    action: Literal["ack", "dismiss", "reopen"]
    reason: Literal[DISMISS_REASONS] | None = None  # type: ignore[valid-type]
    note: str | None = Field(default=None, max_length=10_000)


class TriageOut(BaseModel):
    changed: list[int]
    unchanged: list[int]
    missing: list[int]


class SilenceIn(BaseModel):
    rule: str | None = None
    source: str | None = None
    hours: float = Field(gt=0, le=24 * 366, description="how long it lasts")
    comment: str = Field(min_length=1, max_length=2000)


def summary(hit: Hit) -> dict[str, Any]:
    return {
        "id": hit.id,
        "title": hit.title,
        "url": hit.url,
        "rule": hit.rule_id,
        "rules": list(hit.rule_ids),
        "severity": hit.severity,
        "source": hit.source,
        "published": ts(hit.published),
        "status": hit.status,
        "snippet": hit.snippet,
    }


def _cursor(hit: Hit) -> str:
    """The opaque cursor after ``hit``: its place in the list's order, (created_at, id)."""
    raw = json.dumps([ts(hit.created_at), hit.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _after(cursor: str | None) -> tuple[datetime, int] | None:
    """The place a cursor names (a keyset: hits recorded since do not shift the pages)."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, hit_id = json.loads(raw)
        at = parse_ts(when) if isinstance(when, str) else None
        if at is not None and isinstance(hit_id, int) and not isinstance(hit_id, bool):
            return at, hit_id
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        pass
    raise PageError(400, "That cursor is not one this API gave out.")


def _when(value: str | None, now: datetime, name: str) -> datetime | None:
    try:
        return parse_when(value, now) if value else None
    except ValueError as exc:
        raise PageError(400, f"{name}: {exc}") from None


@router.get("/hits", response_model=HitList)
def list_hits(
    request: Request,
    status: list[str] = Query(default=[]),
    rule: list[str] = Query(default=[]),
    severity: list[str] = Query(default=[]),
    source: list[str] = Query(default=[]),
    tag: list[str] = Query(default=[]),
    since: str | None = None,
    until: str | None = None,
    q: str | None = Query(default=None, description="full-text search of titles and article text"),
    limit: int = Query(default=50, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
    who: Principal = Depends(viewer),
) -> dict[str, Any]:
    """Hits, newest first, with the CLI's filters; ``status=all`` (or none) for every status."""
    ctx = context(request)
    unknown = [s for s in status if s not in (*STATUSES, "all")]
    if unknown:
        raise PageError(
            400, f"status: {', '.join(unknown)} is not one of {', '.join(STATUSES)}, all"
        )
    search_error(q)
    now = ctx.clock()
    f = HitFilter(
        rule=rule,
        severity=severity,
        source=source,
        tag=tag,
        status=[] if "all" in status else status,
        since=_when(since, now, "since"),
        until=_when(until, now, "until"),
        search=q,
    )
    hits = ctx.store.list_hits(limit=limit + 1, before=_after(cursor), **f.kwargs())
    page = hits[:limit]
    return {
        "hits": [summary(h) for h in page],
        "next": _cursor(page[-1]) if len(hits) > limit else None,
    }


def _detail(ctx: WebContext, hit_id: int) -> dict[str, Any]:
    hit = ctx.store.get_hit(hit_id)
    if hit is None:
        raise PageError(404, f"There is no hit {hit_id}.")
    row = ctx.store.get_hit_row(hit_id)
    if row is None:
        raise PageError(404, f"There is no hit {hit_id}.")
    return {
        **summary(hit),
        "rule_title": hit.rule_title,
        "tags": list(hit.tags),
        "terms": list(hit.terms),
        "spans": [list(s) for s in hit.spans],
        "why": hit.why,
        "text": row.text,
        "created_at": ts(hit.created_at),
        "also_in": list(hit.also_in),
        "status_reason": row.status_reason,
        "status_by": row.status_by,
        "status_at": ts(row.status_at),
        "notes": [
            {
                "action": n.action,
                "text": n.text,
                "by": n.by,
                "created_at": _iso(n.created_at),
            }
            for n in ctx.store.hit_notes(hit_id)
        ],
        "deliveries": [
            {
                "channel": d.channel,
                "status": d.status,
                "attempts": d.attempts,
                "last_error": d.last_error,
            }
            for d in ctx.store.deliveries_for_hit(hit_id)
        ],
    }


@router.get("/hits/{hit_id}", response_model=HitDetail)
def get_hit(request: Request, hit_id: int, who: Principal = Depends(viewer)) -> dict[str, Any]:
    """One hit: the item's text, the spans that matched, why, notes and deliveries."""
    return _detail(context(request), hit_id)


def _triage(
    ctx: WebContext,
    who: Principal,
    ids: list[int],
    action: str,
    reason: str | None,
    note: str | None,
) -> Any:
    now, by = ctx.clock(), ctx.who(who)
    if action == "ack":
        return ctx.store.ack_hits(ids, by=by, now=now, note=note)
    if action == "reopen":
        return ctx.store.reopen_hits(ids, by=by, now=now, note=note)
    if reason is None:
        raise PageError(400, f"dismiss needs a reason: {', '.join(DISMISS_REASONS)}")
    return ctx.store.dismiss_hits(ids, reason, by=by, now=now, note=note)


def _result(result: Any) -> dict[str, list[int]]:
    return {k: list(getattr(result, k, []) or []) for k in ("changed", "unchanged", "missing")}


@router.post("/hits/bulk", response_model=TriageOut)
def bulk(request: Request, body: BulkIn, who: Principal = Depends(analyst)) -> dict[str, list[int]]:
    """Acknowledge, dismiss (with a reason) or reopen many hits at once."""
    return _result(_triage(context(request), who, body.ids, body.action, body.reason, body.note))


@router.post("/hits/{hit_id}/{action}", response_model=HitDetail)
def act(
    request: Request,
    hit_id: int,
    action: Literal["ack", "dismiss", "reopen", "note"],
    body: TriageIn,
    who: Principal = Depends(analyst),
) -> dict[str, Any]:
    """Triage one hit; ``note`` adds ``text`` to its trail. Returns the hit as it is now."""
    ctx = context(request)
    if action == "note":
        if not (body.text or "").strip():
            raise PageError(400, "A note needs some text.")
        text = (body.text or "").strip()
        if ctx.store.add_note(hit_id, text, by=ctx.who(who), now=ctx.clock()) is None:
            raise PageError(404, f"There is no hit {hit_id}.")
    elif _triage(
        ctx, who, [hit_id], action, body.reason, (body.note or "").strip() or None
    ).missing:
        raise PageError(404, f"There is no hit {hit_id}.")
    return _detail(ctx, hit_id)


# -- silences ---------------------------------------------------------------------------------
def _iso(value: Any) -> Any:
    return ts(value) if isinstance(value, datetime) else value


def _silence(s: Silence) -> dict[str, Any]:
    return {
        "id": s.id,
        "rule": s.rule_id,
        "source": s.source,
        "expires_at": _iso(s.expires_at),
        "comment": s.comment,
        "created_by": s.created_by,
        "created_at": _iso(s.created_at),
    }


@router.get("/silences", tags=["silences"])
def list_silences(
    request: Request, who: Principal = Depends(viewer)
) -> dict[str, list[dict[str, Any]]]:
    """The silences in force."""
    ctx = context(request)
    return {"silences": [_silence(s) for s in ctx.store.list_silences(ctx.clock())]}


@router.post("/silences", tags=["silences"], status_code=201)
def add_silence(
    request: Request, body: SilenceIn, who: Principal = Depends(analyst)
) -> dict[str, Any]:
    """Silence a rule, a source, or one rule from one source, for ``hours``."""
    if not body.rule and not body.source:
        raise PageError(400, "Give a rule, a source or both.")
    ctx = context(request)
    now = ctx.clock()
    sid = ctx.store.add_silence(
        rule_id=body.rule,
        source=body.source,
        expires_at=now + timedelta(hours=body.hours),
        comment=body.comment,
        now=now,
        created_by=ctx.who(who),
    )
    return next(_silence(s) for s in ctx.store.list_silences(now) if s.id == sid)


@router.delete("/silences/{silence_id}", tags=["silences"])
def remove_silence(
    request: Request, silence_id: int, who: Principal = Depends(analyst)
) -> dict[str, Any]:
    """End a silence now."""
    if not context(request).store.remove_silence(silence_id):
        raise PageError(404, f"There is no silence {silence_id}.")
    return {"removed": silence_id}


# -- status -----------------------------------------------------------------------------------
@router.get("/status", tags=["status"])
def status(request: Request, who: Principal = Depends(viewer)) -> dict[str, Any]:
    """What ``monitor status --json`` reports: the daemon, sources, deliveries, problems."""
    ctx = context(request)
    if ctx.config is None:
        return {"ok": None, "problems": [], "hits_new": ctx.store.count_hits(status=["new"])}
    from monitor.health import evaluate

    return evaluate(ctx.store, ctx.config, ctx.clock()).as_json()
