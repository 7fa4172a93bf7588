"""The JSON API for rules and sources (the rest is in api.py).

GET  /api/v1/rules                    every rule with its numbers, and load problems
GET  /api/v1/rules/{id}               one rule: where it is written, its YAML, its numbers
POST /api/v1/rules/check              the rule files, or one candidate file: 422 + file:line:col
POST /api/v1/rules/test               which rules fire on a text (``rules test --json``'s hits)
POST /api/v1/rules/backtest           what the rules (or a candidate) would have caught
GET|PUT /api/v1/rules/files/{name}    a rule file's text; save it (analyst; refused if broken)
GET  /api/v1/sources                  each source's health
POST /api/v1/sources/test             fetch a URL once, store nothing (admin)
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from monitor.models import SourceStatus
from monitor.rules import Rule
from monitor.web import configedit, ruleset
from monitor.web.app import PageError, WebContext
from monitor.web.auth import Principal
from monitor.web.deps import context, poll_now, require

router = APIRouter(prefix="/api/v1")
viewer, analyst, admin = require("viewer"), require("analyst"), require("admin")


class Candidate(BaseModel):
    file: str | None = Field(default=None, description="a rule file, relative to the rules folder")
    yaml: str | None = Field(
        default=None,
        max_length=ruleset.MAX_RULE_FILE_BYTES,
        description="that file's text as it would be saved",
    )


class TestIn(Candidate):
    text: str = Field(max_length=2_000_000, description="the text to try the rules on")
    title: str = Field(default="", max_length=10_000)
    language: str | None = None
    rule: list[str] = Field(
        default_factory=list, description="only these rules (drafts and disabled too)"
    )


class BacktestIn(Candidate):
    days: float = Field(default=30, gt=0, le=3650)
    rule: list[str] = Field(default_factory=list)
    drafts: bool = Field(default=True, description="try draft rules as if active")


class FileIn(BaseModel):
    text: str = Field(max_length=ruleset.MAX_RULE_FILE_BYTES)


class SourceTestIn(BaseModel):
    url: str = Field(pattern=r"^https?://", max_length=4000)
    kind: Literal["feed", "page"] = "feed"
    selector: str | None = None


def paths(ctx: WebContext) -> list[Path]:
    return ctx.rule_paths


def checked(ctx: WebContext, body: Candidate | None) -> ruleset.Checked:
    target = None
    if body is not None and body.file:
        try:
            target = ruleset.editable(paths(ctx), body.file)
        except ValueError as exc:
            raise PageError(400, str(exc)) from None
    try:
        return ruleset.check(
            paths(ctx), target, body.yaml if body is not None and target is not None else None
        )
    except ValueError as exc:
        raise PageError(413, str(exc)) from None


def refused(problems: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse(
        {"detail": [p["text"] for p in problems], "problems": problems}, status_code=422
    )


def _rule_record(ctx: WebContext, rule: Rule, stats: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity,
        "status": rule.status,
        "tags": list(rule.tags),
        "file": ruleset.label(paths(ctx), Path(rule.path)),
        "line": rule.line,
        "stats": stats,
    }


@router.get("/rules", tags=["rules"])
def list_rules(request: Request, who: Principal = Depends(viewer)) -> dict[str, Any]:
    """Every rule (all statuses) with its numbers; ``problems`` lists what did not load."""
    ctx = context(request)
    from monitor.rules import load_rule_set

    rule_set, errors = load_rule_set(paths(ctx))
    rules = [(r.id, r.title, r.severity) for r in rule_set.rules]
    stats = {s.rule_id: s.as_dict() for s in ctx.store.rule_stats(ctx.clock(), rules=rules)}
    return {
        "rules": [_rule_record(ctx, r, stats.get(r.id)) for r in rule_set.rules],
        "files": [ruleset.label(paths(ctx), Path(f)) for f in rule_set.files],
        "problems": [str(e) for e in errors],
    }


@router.get("/rules/files/{name:path}", tags=["rules"])
def read_file(request: Request, name: str, who: Principal = Depends(viewer)) -> dict[str, Any]:
    """A rule file's text, as it is on disk."""
    ctx = context(request)
    try:
        target = ruleset.editable(paths(ctx), name)
    except ValueError as exc:
        raise PageError(400, str(exc)) from None
    if not target.exists():
        raise PageError(404, f"There is no rule file {name}.")
    return {"file": name, "text": target.read_text(encoding="utf-8")}


@router.put("/rules/files/{name:path}", tags=["rules"], response_model=None)
def save_file(
    request: Request, name: str, body: FileIn, who: Principal = Depends(analyst)
) -> dict[str, Any] | JSONResponse:
    """Save a rule file atomically (a running daemon's reload picks it up). A text with any
    problem ``rules check`` would report is refused with 422 and never written."""
    ctx = context(request)
    try:
        target = ruleset.editable(paths(ctx), name)
        result = ruleset.save(paths(ctx), target, body.text)
    except ValueError as exc:
        raise PageError(400, str(exc)) from None
    except ruleset.RefusedSave as exc:
        return refused(exc.problems)
    ctx.store.record_edit(
        "rule",
        name,
        "save",
        ctx.who(who),
        ctx.clock(),
        detail=f"{len(result.rule_set.rules)} rules after the save",
    )
    return {"file": name, "saved": True, "rules": len(result.rule_set.rules)}


@router.get("/rules/{rule_id}", tags=["rules"])
def get_rule(request: Request, rule_id: str, who: Principal = Depends(viewer)) -> dict[str, Any]:
    """One rule: its file and line, its YAML as written (comments kept), its numbers, its edits."""
    ctx = context(request)
    from monitor.rules import load_rule_set

    rule_set, _ = load_rule_set(paths(ctx))
    rule = next((r for r in rule_set.rules if r.id == rule_id), None)
    if rule is None:
        raise PageError(404, f"There is no rule {rule_id}.")
    lines = Path(rule.path).read_text(encoding="utf-8").splitlines(keepends=True)
    starts = sorted(r.line for r in rule_set.rules if r.path == rule.path and r.line)
    start = rule.line or 1
    end = next((s for s in starts if s > start), len(lines) + 1)
    stats = ctx.store.rule_stats(ctx.clock(), rules=[(rule.id, rule.title, rule.severity)])
    record = _rule_record(
        ctx, rule, next((s.as_dict() for s in stats if s.rule_id == rule.id), None)
    )
    return {
        **record,
        "yaml": "".join(lines[start - 1 : end - 1]),
        "edits": ctx.store.list_edits("rule", record["file"], limit=20),
    }


@router.post("/rules/check", tags=["rules"], response_model=None)
def check_rules(
    request: Request, body: Candidate | None = None, who: Principal = Depends(viewer)
) -> dict[str, Any] | JSONResponse:
    """Check the rule files, or them with ``file`` holding ``yaml``: 200 when clean, 422 with
    each problem as ``file:line:col: message`` (the same as ``monitor rules check``)."""
    result = checked(context(request), body)
    if result.problems:
        return refused(result.problems)
    return {"ok": True, "rules": len(result.rule_set.rules), "problems": []}


@router.post("/rules/test", tags=["rules"], response_model=None)
def test_rules(
    request: Request, body: TestIn, who: Principal = Depends(viewer)
) -> dict[str, Any] | JSONResponse:
    """Which rules fire on ``text``, in the shape of ``monitor rules test --json``'s ``hits``.
    With ``file`` and ``yaml``, the rules as they would be after that edit."""
    result = checked(context(request), body)
    if body.file and result.problems:
        return refused(result.problems)
    rules = result.rule_set.rules
    if body.rule:
        unknown = sorted(set(body.rule) - {r.id for r in rules})
        if unknown:
            raise PageError(400, f"unknown rule {', '.join(unknown)}")
        rules = [r for r in rules if r.id in body.rule]
    else:
        rules = [r for r in rules if r.status != "disabled"]
    return {"hits": ruleset.try_text(rules, body.text, body.title, body.language)}


@router.post("/rules/backtest", tags=["rules"], response_model=None)
def backtest_rules(
    request: Request, body: BacktestIn, who: Principal = Depends(viewer)
) -> dict[str, Any] | JSONResponse:
    """Replay the items stored in the last ``days`` through the rules (or the candidate):
    what would newly fire, and what would stop, against the hits recorded."""
    ctx = context(request)
    result = checked(ctx, body)
    if body.file and result.problems:
        return refused(result.problems)
    wanted = {"active", "draft"} if body.drafts else {"active"}
    rules = [r for r in result.rule_set.rules if r.status in wanted]
    only = set(body.rule) or None
    if only is None and body.file:  # the candidate file's rules
        target = ruleset.editable(paths(ctx), body.file).resolve()
        only = {r.id for r in rules if Path(r.path).name.endswith(target.name)} or None
    return ruleset.backtest(ctx.store, rules, ctx.clock() - timedelta(days=body.days), only)


# -- sources ----------------------------------------------------------------------------------
@router.get("/sources", tags=["sources"])
def list_sources(request: Request, who: Principal = Depends(viewer)) -> dict[str, Any]:
    """Each source: its kind and target, when it was polled, its last error, whether it is failing."""
    ctx = context(request)
    rows = {r.name: r for r in ctx.store.list_sources()}
    configured = {s.name: s for s in (ctx.config.sources if ctx.config is not None else [])}
    out = []
    for name in sorted(rows.keys() | configured.keys()):
        s = configured.get(name)
        r = rows.get(name) or SourceStatus(name=name, kind=s.kind if s else "")
        out.append(
            {
                "name": name,
                "kind": s.kind if s else r.kind,
                "target": (str(s.url or s.path) if s else r.target),
                "enabled": bool(s.enabled) if s else None,
                "last_poll_at": r.last_poll_at,
                "last_success_at": r.last_success_at,
                "next_poll_at": r.next_poll_at,
                "last_error": r.last_error,
                "last_error_at": r.last_error_at,
                "consecutive_failures": r.consecutive_failures,
                "failing": r.failing,
                "disabled_reason": r.disabled_reason,
                "items_seen": r.items_seen,
            }
        )
    return {"sources": out}


@router.post("/sources/test", tags=["sources"])
def test_source(
    request: Request, body: SourceTestIn, who: Principal = Depends(admin)
) -> dict[str, Any]:
    """Fetch and parse a URL once through the project's HTTP client (its address checks
    included), storing nothing."""
    from monitor.config import HttpConfig, SourceConfig
    from monitor.errors import MonitorError
    from monitor.sources import make_source
    from monitor.models import SourceState

    ctx = context(request)
    http = ctx.config.http if ctx.config is not None else HttpConfig()
    base = ctx.config.base_dir if ctx.config is not None else Path.cwd()
    try:
        cfg = SourceConfig(name="test", kind=body.kind, url=body.url, selector=body.selector)
        result = make_source(cfg, http, base).fetch(SourceState())
    except MonitorError as exc:
        raise PageError(502, f"could not read {body.url}: {exc}") from None
    return {
        "kind": body.kind,
        "warnings": list(result.warnings),
        "items": [
            {
                "id": i.key,
                "title": i.title,
                "url": i.url,
                "published": i.published.isoformat() if i.published else None,
                "language": i.language,
                "text_length": len(i.text),
            }
            for i in result.items
        ],
    }


class SourceIn(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    kind: Literal["feed", "page"] = "feed"
    url: str = Field(pattern=r"^https?://", max_length=4000)
    interval: str | float | None = Field(default=None, description="30m, 1h, or seconds")
    enabled: bool | None = None
    language: str | None = None
    full_text: bool | None = None
    selector: str | None = None
    tags: list[str] | None = None


class SourcePatch(BaseModel):
    url: str | None = Field(default=None, pattern=r"^https?://", max_length=4000)
    interval: str | float | None = None
    enabled: bool | None = None
    language: str | None = None
    full_text: bool | None = None
    selector: str | None = None
    tags: list[str] | None = None


def edit_sources(
    ctx: WebContext,
    who: Principal,
    name: str,
    action: str,
    change: Callable[[Path], None],
) -> dict[str, Any] | JSONResponse:
    from monitor.web.edits import RefusedEdit, apply_edit

    try:
        config = apply_edit(ctx, who, "source", name, action, change)
    except RefusedEdit as exc:
        return refused_edit(exc.problems)
    source = config.source(name)
    return {
        "name": name,
        "kind": source.kind,
        "url": source.url,
        "enabled": source.enabled,
        "interval": source.interval,
        "saved": True,
    }


def refused_edit(problems: list[str]) -> JSONResponse:
    return JSONResponse({"detail": problems}, status_code=422)


@router.post("/sources", tags=["sources"], status_code=201, response_model=None)
def add_source(
    request: Request, body: SourceIn, who: Principal = Depends(admin)
) -> dict[str, Any] | JSONResponse:
    """Add a feed or page source to the config file (rewritten with comments kept, checked
    before it replaces the old one); a running daemon picks it up at its next check."""
    fields = body.model_dump(exclude_none=True)
    return edit_sources(
        context(request), who, body.name, "add", lambda path: configedit.add_source(path, fields)
    )


@router.patch("/sources/{name}", tags=["sources"], response_model=None)
def update_source(
    request: Request, name: str, body: SourcePatch, who: Principal = Depends(admin)
) -> dict[str, Any] | JSONResponse:
    """Change a source's url, interval, enabled … (``enabled: true`` also re-enables one the
    daemon disabled)."""
    ctx = context(request)
    fields = body.model_dump(exclude_unset=True)
    enabled = fields.get("enabled")
    action = "edit" if len(fields) != 1 or enabled is None else ("enable" if enabled else "disable")
    result = edit_sources(
        ctx, who, name, action, lambda path: configedit.update_source(path, name, fields)
    )
    if fields.get("enabled") is True and isinstance(result, dict):
        result["reenabled"] = ctx.store.reenable_source(name, ctx.clock())
    return result


@router.post("/sources/{name}/retry", tags=["sources"])
def retry_source(request: Request, name: str, who: Principal = Depends(analyst)) -> dict[str, Any]:
    """Poll the source now (its last error is replaced by this poll's outcome)."""
    report = poll_now(context(request), name, who)
    return {
        "name": name,
        "ok": report.ok,
        "fetched": report.fetched,
        "new_items": report.new_items,
        "hits": report.hits,
        "error": report.error,
    }
