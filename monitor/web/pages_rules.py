"""The rule pages: one rule (its YAML, numbers, silences), the editor over a rule file
(checked as you type, tried on a text, backtested, saved atomically), new files from a
template or drafted from a pasted brief.

    GET  /rules/{id}                     one rule; POST /rules/{id}/silence (analyst)
    GET  /rules/files/{name}/edit        the editor;  POST: save (analyst; refused if broken)
    GET  /rules/new                      a new file from the template; POST /rules/derive (analyst)
"""

from __future__ import annotations

import re
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from monitor.web import ruleset
from monitor.rules import Rule, RuleSet
from monitor.web.app import PageError, WebContext
from monitor.web.auth import Principal
from monitor.web.deps import Form, context, read_form, require
from monitor.web.pages import redirect, render

router = APIRouter(include_in_schema=False)
viewer, analyst = require("viewer"), require("analyst")

TEMPLATE = """\
# One theme per file. Check it with `monitor rules check`; the editor checks as you type.
rules:
  - id: {rule_id}
    title: What this rule is watching for
    severity: medium          # info | low | medium | high | critical
    tags: []
    status: draft             # draft rules are tried but never alert
    match:
      all:
        - any: [first word, another phrase]
        - any: [second condition]
      none: [words that mean it is noise]
    examples:
      match: ["A sentence it must fire on: first word and second condition"]
      no_match: ["A sentence it must stay silent on"]
"""


def _rule(ctx: WebContext, rule_id: str) -> tuple[Rule, RuleSet]:
    from monitor.rules import load_rule_set

    rule_set, _ = load_rule_set(ctx.rule_paths)
    rule = next((r for r in rule_set.rules if r.id == rule_id), None)
    if rule is None:
        raise PageError(404, f"There is no rule {rule_id}.")
    return rule, rule_set


@router.get("/rules/new")
def new_file(request: Request, file: str = "", who: Principal = Depends(viewer)) -> Response:
    name = file or "new-rules.yaml"
    stem = re.sub(r"[^a-z0-9-]+", "-", Path(name).stem.lower()).strip("-") or "new-rule"
    return editor(request, name, TEMPLATE.format(rule_id=stem), [], new=True)


@router.post("/rules/derive")
def derive(
    request: Request, form: Form = Depends(read_form), who: Principal = Depends(analyst)
) -> Response:
    from monitor.derive import derive_yaml
    from monitor.rules import load_rule_set

    ctx = context(request)
    brief = form.get("brief").strip()
    if not brief:
        raise PageError(400, "Paste a brief to draft rules from.")
    vocabularies = load_rule_set(ctx.rule_paths)[0].vocabularies
    with tempfile.TemporaryDirectory(prefix="monitor-brief-") as tmp:
        seed = Path(tmp) / "brief.txt"
        seed.write_text(brief, encoding="utf-8")
        text = derive_yaml(seed, vocabularies, seed_label="a brief pasted in the review page")
    name = form.get("file").strip() or f"drafts-{ctx.clock():%Y%m%d-%H%M}.yaml"
    return editor(request, name, text, [], new=True)


@router.get("/rules/files/{name:path}/edit")
def edit_file(request: Request, name: str, who: Principal = Depends(viewer)) -> Response:
    ctx = context(request)
    target = _target(ctx, name)
    if not target.exists():
        raise PageError(404, f"There is no rule file {name}.")
    return editor(request, name, target.read_text(encoding="utf-8"), [])


@router.post("/rules/files/{name:path}/edit")
def save_file(
    request: Request, name: str, form: Form = Depends(read_form), who: Principal = Depends(analyst)
) -> Response:
    ctx = context(request)
    target = _target(ctx, name)
    text = form.get("text").replace("\r\n", "\n")
    try:
        result = ruleset.save(ctx.rule_paths, target, text)
    except ruleset.RefusedSave as exc:
        return editor(request, name, text, exc.problems, new=not target.exists(), status=422)
    except ValueError as exc:
        raise PageError(413, str(exc)) from None
    ctx.store.record_edit(
        "rule",
        name,
        "save",
        ctx.who(who),
        ctx.clock(),
        detail=f"{len(result.rule_set.rules)} rules after the save",
    )
    return redirect(f"/rules/files/{name}/edit?saved=1")


def _target(ctx: WebContext, name: str) -> Path:
    try:
        return ruleset.editable(ctx.rule_paths, name)
    except ValueError as exc:
        raise PageError(400, str(exc)) from None


def editor(
    request: Request,
    name: str,
    text: str,
    problems: list[Any],
    new: bool = False,
    status: int = 200,
) -> Response:
    ctx = context(request)
    _target(ctx, name)
    return render(
        request,
        "editor.html",
        {
            "file": name,
            "text": text,
            "problems": problems,
            "new": new,
            "saved": request.query_params.get("saved"),
            "edits": ctx.store.list_edits("rule", name, limit=10),
        },
        status=status,
    )


@router.get("/rules/{rule_id}")
def rule_page(request: Request, rule_id: str, who: Principal = Depends(viewer)) -> Response:
    ctx = context(request)
    rule, rule_set = _rule(ctx, rule_id)
    lines = Path(rule.path).read_text(encoding="utf-8").splitlines(keepends=True)
    starts = sorted(r.line for r in rule_set.rules if r.path == rule.path and r.line)
    start = rule.line or 1
    end = next((s for s in starts if s > start), len(lines) + 1)
    stats = ctx.store.rule_stats(ctx.clock(), rules=[(rule.id, rule.title, rule.severity)])
    silences = [s for s in ctx.store.list_silences(ctx.clock()) if s.rule_id == rule.id]
    return render(
        request,
        "rule.html",
        {
            "rule": rule,
            "file": ruleset.label(ctx.rule_paths, Path(rule.path)),
            "yaml": "".join(lines[start - 1 : end - 1]),
            "stats": next((s for s in stats if s.rule_id == rule.id), None),
            "silences": silences,
        },
    )


@router.post("/rules/{rule_id}/silence")
def silence(
    request: Request,
    rule_id: str,
    form: Form = Depends(read_form),
    who: Principal = Depends(analyst),
) -> Response:
    ctx = context(request)
    _rule(ctx, rule_id)
    try:
        hours = float(form.get("hours"))
    except ValueError:
        raise PageError(400, "How many hours?") from None
    comment = form.get("comment").strip()
    if not (0 < hours <= 24 * 366) or not comment:
        raise PageError(400, "A silence needs a length (hours) and a comment saying why.")
    now = ctx.clock()
    ctx.store.add_silence(
        rule_id=rule_id,
        source=None,
        expires_at=now + timedelta(hours=hours),
        comment=comment,
        now=now,
        created_by=ctx.who(who),
    )
    return redirect(f"/rules/{rule_id}")
