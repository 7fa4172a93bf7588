"""Messages: what an alert, a digest, a summary or an operations notice says, per dialect.

Feed text is untrusted: it reaches a template as plain text and is escaped on output for
the dialect it is rendered in (``monitor.notify.dialects``); only the pieces built here and
there (the emphasised snippet, links to checked URLs, bold) are passed as ``Markup``.

Templates run in Jinja2's ``SandboxedEnvironment``; a channel's own template that fails
to render falls back to the default one (logged), so an alert is never lost to a typo.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from jinja2 import FileSystemLoader, StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from monitor.config import ChannelConfig
from monitor.notify.dialects import DIALECT, Dialect, defang, emphasise, split_title
from monitor.models import SEVERITY_RANK, Hit
from monitor.textfmt import clean, one_line
from monitor.timefmt import window_words
from monitor.urls import item_link

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
DEFAULT_SUBJECT = (
    "[{{ severity|upper }}] {{ rule_title }}{{ more_rules }} — {{ source }}: {{ title }}"
)


@dataclass(frozen=True)
class Message:
    """A rendered message: ``body`` in its dialect, ``html`` an optional HTML alternative,
    ``data`` the same message as structured JSON (for webhooks); ``key`` the delivery's
    stable key (the same on every retry), sent as the email Message-ID and a webhook's
    Idempotency-Key so a receiver can drop a second copy."""

    subject: str
    body: str
    dialect: str
    html: str | None = None
    key: str | None = None
    kind: str = "alert"  # alert | digest | summary | notice
    data: dict[str, Any] | None = None


# -- the template environment --------------------------------------------------------------


class _Env:
    """One sandboxed environment per dialect. Non-HTML dialects escape every ``{{ }}`` output
    that is not Markup through ``finalize``; HTML uses Jinja2's autoescape."""

    def __init__(self, dialect: Dialect, base_dir: Path | None) -> None:
        self.dialect = dialect
        search = [str(TEMPLATE_DIR)]
        if base_dir is not None:
            search.insert(0, str(base_dir))
        if dialect.name == "html":
            env = SandboxedEnvironment(
                loader=FileSystemLoader(search),
                autoescape=True,
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
            )
        else:
            esc = dialect.escape

            def finalize(value: Any) -> Any:
                if value is None:
                    return ""
                return value if isinstance(value, Markup) else Markup(esc(str(value)))

            env = SandboxedEnvironment(
                loader=FileSystemLoader(search),
                autoescape=False,
                finalize=finalize,
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=False,
            )
        env.globals["bold"] = self.bold
        env.globals["link"] = self.link
        self.env = env
        self.plain = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)

    def bold(self, text: Any) -> Markup:
        value = str(text) if isinstance(text, Markup) else self.dialect.escape(str(text))
        return Markup(self.dialect.bold(value))

    def link(self, url: str | None, label: Any = None) -> Markup:
        """A link to ``url`` if it is http(s) or a folder item's file, else the label alone (escaped)."""
        label_s = self.dialect.escape(one_line(str(label))) if label else ""
        good = item_link(url)
        if good is None:
            return Markup(label_s)
        if self.dialect.name == "text":
            return Markup(good)
        return Markup(self.dialect.link(good, label_s or self.dialect.escape(good)))


def _fmt_time(dt: datetime | None) -> str:
    if dt is None:
        return ""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


class Renderer:
    """Renders messages for one channel. ``render_alert(hit, dialect)`` and friends."""

    def __init__(
        self,
        channel: ChannelConfig,
        base_dir: Path | None = None,
        name: str = "",
        hit_base_url: str | None = None,
    ) -> None:
        self.channel = channel
        self.name = name
        self.base_dir = base_dir
        self.hit_base_url = hit_base_url
        self._envs: dict[str, _Env] = {}

    def hit_url(self, hit: Hit) -> str | None:
        """The hit on the review page, when ``web.base_url`` says where that is."""
        return f"{self.hit_base_url.rstrip('/')}/hits/{hit.id}" if self.hit_base_url else None

    def alert_data(self, hit: Hit) -> dict[str, Any]:
        """An alert as structured JSON (the webhook payload): plain text values, no markup
        but the matched words of ``snippet`` as ``**word**``."""
        return {
            "id": hit.id,
            "rule": hit.rule_id,
            "rules": list(hit.rule_ids),
            "severity": hit.severity,
            "title": one_line(hit.title),
            "url": item_link(hit.url),
            "source": one_line(hit.source),
            "published": hit.published.astimezone(timezone.utc).isoformat()
            if hit.published
            else None,
            "snippet": clean(split_title(hit.snippet, hit.title)),
            "why": one_line(hit.why),
            "hit_url": self.hit_url(hit),
        }

    def env(self, dialect: str) -> _Env:
        if dialect not in self._envs:
            self._envs[dialect] = _Env(DIALECT[dialect], self.base_dir)
        return self._envs[dialect]

    # -- contexts ---------------------------------------------------------------------
    def alert_context(self, hit: Hit, dialect: str) -> dict[str, Any]:
        d = DIALECT[dialect]
        url = item_link(hit.url)
        ctx = {
            "hit_id": hit.id,
            "severity": hit.severity,
            "rule_id": hit.rule_id,
            "rule_title": one_line(hit.rule_title),
            "source": one_line(hit.source),
            "title": one_line(hit.title) or "(untitled)",
            "url": url,
            "snippet": emphasise(split_title(hit.snippet, hit.title), d),
            "published": _fmt_time(hit.published),
            "created_at": _fmt_time(hit.created_at),
            "why": one_line(hit.why),
            "terms": [one_line(t) for t in hit.terms],
            "also_in": [one_line(s) for s in hit.also_in],
            "tags": list(hit.tags),
            "dialect": dialect,
            # the other rules that fired on the item (one alert per item names them all)
            "other_rules": [
                {"id": r.rule_id, "title": one_line(r.rule_title), "severity": r.severity}
                for r in hit.rules
                if r.rule_id != hit.rule_id
            ],
            "more_rules": more_rules(hit),
            "hit_url": self.hit_url(hit),
        }
        ctx["subject"] = self.subject(hit)
        return ctx

    def subject(self, hit: Hit) -> str:
        ctx = {
            "severity": hit.severity,
            "rule_id": hit.rule_id,
            "rule_title": one_line(hit.rule_title),
            "source": one_line(hit.source),
            "title": one_line(hit.title) or "(untitled)",
            "more_rules": more_rules(hit),
        }
        env = self.env("text").plain
        source = self.channel.subject_template or DEFAULT_SUBJECT
        try:
            text = env.from_string(source).render(ctx)
        except TemplateError as exc:
            log.error("channel %s: subject_template failed (%s); using the default", self.name, exc)
            text = env.from_string(DEFAULT_SUBJECT).render(ctx)
        return defang(one_line(text))[:250]

    # -- messages ---------------------------------------------------------------------
    def _render(
        self, dialect: str, default: str, ctx: dict[str, Any], custom: str | None = None
    ) -> str:
        env = self.env(dialect).env
        if custom:
            try:
                return str(self._custom(env, custom).render(ctx)).strip() + "\n"
            except (TemplateError, OSError) as exc:
                log.error("channel %s: its template failed (%s); using the default", self.name, exc)
        return env.get_template(default).render(ctx).strip() + "\n"

    def _custom(self, env: SandboxedEnvironment, custom: str) -> Template:
        if "\n" not in custom and re.search(r"\.(j2|jinja2?|txt|md|html?)$", custom):
            return env.get_template(custom)  # a file beside the config (or a default's name)
        return env.from_string(custom)

    def render_alert(self, hit: Hit, dialect: str) -> Message:
        ctx = self.alert_context(hit, dialect)
        custom = self.channel.template
        data = self.alert_data(hit)
        if dialect == "html":
            html = self._render("html", "alert.html.j2", ctx, custom)
            text = self._render("text", "alert.txt.j2", self.alert_context(hit, "text"))
            return Message(ctx["subject"], text, "html", html=html, data=data)
        if dialect == "slack" and custom and self.channel.format == "html":
            custom = None  # an HTML template means nothing to Slack
        return Message(
            ctx["subject"], self._render(dialect, "alert.txt.j2", ctx, custom), dialect, data=data
        )

    def render_digest(
        self, hits: Iterable[Hit], dialect: str, *, route: str, start: datetime, end: datetime
    ) -> Message:
        ordered = sort_for_digest(hits)
        subject = f"Digest {route}: {len(ordered)} alert{'s' if len(ordered) != 1 else ''} ({_fmt_time(start)} – {_fmt_time(end)})"

        def ctx_for(d: str) -> dict[str, Any]:
            return {
                "hits": [self.alert_context(h, d) for h in ordered],
                "count": len(ordered),
                "route": route,
                "period_start": _fmt_time(start),
                "period_end": _fmt_time(end),
                "subject": subject,
                "dialect": d,
            }

        data = {
            "kind": "digest",
            "title": subject,
            "route": route,
            "hits": [self.alert_data(h) for h in ordered],
        }
        if dialect == "html":
            return Message(
                subject,
                self._render("text", "digest.txt.j2", ctx_for("text")),
                "html",
                html=self._render("html", "digest.html.j2", ctx_for("html")),
                kind="digest",
                data=data,
            )
        return Message(
            subject,
            self._render(dialect, "digest.txt.j2", ctx_for(dialect)),
            dialect,
            kind="digest",
            data=data,
        )

    def render_summary(
        self, hits: Iterable[Hit], dialect: str, *, limit: int, window: float
    ) -> Message:
        ordered = sort_for_digest(hits)
        subject = f"{len(ordered)} more alert{'s' if len(ordered) != 1 else ''} held back by the rate limit"
        ctx = {
            "hits": [
                self.alert_context(h, "text" if dialect == "html" else dialect) for h in ordered
            ],
            "count": len(ordered),
            "limit": limit,
            "window": window_words(window),
            "subject": subject,
        }
        d = "text" if dialect == "html" else dialect
        ctx["dialect"] = d
        data = {"kind": "summary", "title": subject, "hits": [self.alert_data(h) for h in ordered]}
        return Message(
            subject, self._render(d, "summary.txt.j2", ctx), d, kind="summary", data=data
        )

    def render_notice(self, title: str, text: str, dialect: str) -> Message:
        d = "text" if dialect == "html" else dialect
        ctx = {"title": one_line(title), "text": clean(text), "subject": one_line(title)}
        data = {"kind": "notice", "title": one_line(title), "text": clean(text)}
        return Message(
            one_line(title), self._render(d, "notice.txt.j2", ctx), d, kind="notice", data=data
        )


def more_rules(hit: Hit) -> str:
    """`` (+2 rules)`` when other rules fired on the hit's item too, else empty."""
    n = len([r for r in hit.rules if r.rule_id != hit.rule_id])
    return f" (+{n} rule{'s' if n != 1 else ''})" if n else ""


def sort_for_digest(hits: Iterable[Hit]) -> list[Hit]:
    """Most severe first; within a severity, oldest first."""
    return sorted(hits, key=lambda h: (-SEVERITY_RANK.get(h.severity, 0), h.created_at, h.id))
