"""Hits as Atom feeds, for Miniflux or any reader: ``/feeds/hits.atom?token=…`` with the
hit list's filters (``rule``, ``tag``, ``severity``, ``source``, ``status``; each repeatable).

The token is a user's API token (``monitor users token NAME``) or the shared
``MONITOR_WEB_TOKEN``; a signed-in browser needs none. Entries link to the hit's page,
under ``web.base_url`` when it is set, else under the address the feed was fetched from.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from fastapi import APIRouter, Request
from fastapi.responses import Response

from monitor.models import SEVERITIES
from monitor.store.hits import STATUSES, HitFilter
from monitor.web.app import PageError
from monitor.web.auth import TooManyAttempts
from monitor.web.deps import client_of, context, principal
from monitor.urls import safe_url

router = APIRouter(include_in_schema=False)
ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 100
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML


def _text(value: str | None) -> str:
    return _CONTROL.sub("", value or "")


def _iso(dt: datetime | None) -> str:
    return (dt or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")


@router.get("/feeds/hits.atom")
def hits_feed(request: Request) -> Response:
    ctx = context(request)
    token = request.query_params.get("token")
    if token:
        try:
            who = ctx.auth.bearer(token, client_of(request))
        except TooManyAttempts as exc:
            raise PageError(
                429,
                f"Too many failed sign-ins; try again in {exc.retry_after} s.",
                {"retry-after": str(exc.retry_after)},
            ) from None
        if who is None:
            raise PageError(401, "That feed token is not valid.")
    else:
        who = principal(request)
    if not who.can("viewer"):
        raise PageError(403, "This needs the viewer role.")
    q = request.query_params

    def some(name: str) -> list[str]:
        return [v for v in q.getlist(name) if v]

    f = HitFilter(
        rule=some("rule"),
        tag=some("tag"),
        source=some("source"),
        severity=[s for s in some("severity") if s in SEVERITIES],
        status=[s for s in some("status") if s in STATUSES],
    )
    hits = ctx.store.list_hits(limit=FEED_SIZE, **f.kwargs())
    base = (
        ctx.config.web.base_url
        if ctx.config is not None and ctx.config.web.base_url
        else str(request.base_url)
    ).rstrip("/")
    what = ", ".join(
        f"{k} {', '.join(v)}"
        for k, v in (
            ("rule", f.rule),
            ("tag", f.tag),
            ("severity", f.severity),
            ("source", f.source),
            ("status", f.status),
        )
        if v
    )
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = _text(
        "signal monitor hits" + (f": {what}" if what else "")
    )
    ET.SubElement(feed, f"{{{ATOM}}}id").text = (
        base
        + "/feeds/hits.atom?"
        + "&".join(f"{k}={v}" for k, v in sorted(q.multi_items()) if k != "token")
    )
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _iso(hits[0].created_at if hits else None)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=base + "/")
    ET.SubElement(
        ET.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name"
    ).text = "signal monitor"
    for hit in hits:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = _text(
            f"[{hit.severity}] {hit.title or '(no title)'}"
        )
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"{base}/hits/{hit.id}"
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=f"{base}/hits/{hit.id}")
        article = safe_url(hit.url)
        if article:
            ET.SubElement(entry, f"{{{ATOM}}}link", rel="related", href=article)
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _iso(hit.created_at)
        if hit.published:
            ET.SubElement(entry, f"{{{ATOM}}}published").text = _iso(hit.published)
        ET.SubElement(ET.SubElement(entry, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = _text(
            hit.source
        )
        for term in (hit.rule_id, *hit.tags):
            ET.SubElement(entry, f"{{{ATOM}}}category", term=_text(term))
        summary = ET.SubElement(entry, f"{{{ATOM}}}summary", type="text")
        summary.text = _text(f"{hit.rule_title} — {hit.snippet.replace('**', '')}")
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        feed, encoding="utf-8", xml_declaration=False
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")
