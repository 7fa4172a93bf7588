"""Routing: which channels the new hits of one item go to, and whether each alert is sent,
held for a digest, or suppressed (kept for the record with the reason).

    for each route whose filters match a hit (a route without filters matches every hit):
        each of its enabled channels; an immediate route wins over a digest route
    one alert per item and channel: the most severe hit routed there carries it (its message
    names every rule that fired on the item)
    a hit is "suppressed" (reason in last_error) when
        a silence covers the rule or the source        "silenced by #3 until …: comment"
        the same rule alerted on the same story within notify.cooldown
                                                        "cooldown: same story as hit #12"
    an alert is suppressed only when every hit routed to its channel is
    otherwise the row is pending: due now, or (digest route) at the end of its period.

``plan`` is a pure function of data: the pipeline reads the silences and the recent alerts
in its unit of work and hands them in; nothing here touches the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.config import Config, RouteConfig
from monitor.models import SEVERITY_RANK, AlertedHit, Hit, OutboxPlan, Silence
from monitor.notify.digest import digest_key, period_end
from monitor.timefmt import short_duration

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def story_title(title: str) -> str:
    """A title reduced to its words, for "same story": case, punctuation and spacing ignored."""
    return _NON_WORD.sub(" ", title.casefold()).strip()


def route_name(route: RouteConfig, index: int) -> str:
    return route.name or f"route-{index + 1}"


@dataclass(frozen=True)
class Context:
    """What routing reads from the store: silences in force, recent alerts of these rules,
    and the story ids of the item (its own id, and the earlier item it is a copy of)."""

    silences: tuple[Silence, ...] = ()
    recent: tuple[AlertedHit, ...] = ()
    story_ids: frozenset[int] = frozenset()


def plan(config: Config, hits: list[Hit], context: Context) -> list[OutboxPlan]:
    """Outbox rows for the new hits of one item: at most one per channel."""
    if not hits:
        return []
    routed: dict[str, list[tuple[Hit, str, RouteConfig]]] = {}
    for hit in hits:
        chosen: dict[str, tuple[str, RouteConfig]] = {}
        for i, route in enumerate(config.routes):
            if not route.matches(hit.rule_id, hit.tags, hit.severity, hit.source):
                continue
            for channel in route.channels:
                if not getattr(config.channels.get(channel), "enabled", True):
                    continue  # a disabled channel takes no new alerts
                held = chosen.get(channel)
                if held is None or (held[1].digest is not None and route.digest is None):
                    chosen[channel] = (route_name(route, i), route)
        for channel, (name, route) in chosen.items():
            routed.setdefault(channel, []).append((hit, name, route))
    reasons = {hit.id: suppressed_because(config, hit, context) for hit in hits}
    plans: list[OutboxPlan] = []
    for channel, candidates in routed.items():
        immediate = [c for c in candidates if c[2].digest is None]
        pool = immediate or candidates
        live = [c for c in pool if reasons[c[0].id] is None] or pool
        hit, name, route = min(live, key=lambda c: (-SEVERITY_RANK.get(c[0].severity, 0), c[0].id))
        now = hit.created_at
        if route.digest is None:
            row = OutboxPlan(hit_id=hit.id, channel=channel, next_attempt_at=now, route=name)
        else:
            end = period_end(route.digest, now)
            row = OutboxPlan(
                hit_id=hit.id,
                channel=channel,
                next_attempt_at=end,
                route=name,
                kind="digest-member",
                digest_key=digest_key(name, end),
            )
        reason = reasons[hit.id]
        if reason:
            row = OutboxPlan(
                hit_id=row.hit_id,
                channel=row.channel,
                next_attempt_at=row.next_attempt_at,
                route=row.route,
                kind=row.kind,
                digest_key=row.digest_key,
                status="suppressed",
                last_error=reason,
            )
        plans.append(row)
    return plans


def suppressed_because(config: Config, hit: Hit, context: Context) -> str | None:
    """Why no alert goes out for ``hit`` (a silence, or the cooldown), or None."""
    silence = next(
        (
            s
            for s in sorted(context.silences, key=lambda s: s.expires_at, reverse=True)
            if s.covers(hit.rule_id, hit.source, hit.created_at)
        ),
        None,
    )
    if silence:
        what = " ".join(
            x
            for x in (
                f"rule {silence.rule_id}" if silence.rule_id else "",
                f"source {silence.source}" if silence.source else "",
            )
            if x
        )
        comment = f": {silence.comment}" if silence.comment else ""
        return f"silenced ({what}) by silence #{silence.id} until {silence.expires_at:%Y-%m-%d %H:%M} UTC{comment}"
    cooldown = config.notify.cooldown
    if cooldown <= 0:
        return None
    title = story_title(hit.title)
    for row in context.recent:
        if row.rule_id != hit.rule_id or row.hit_id == hit.id:
            continue
        same_story = bool(context.story_ids & ({row.item_id, row.story_id} - {None}))
        same_title = bool(title) and story_title(row.title) == title
        if same_story or same_title:
            return f"cooldown: same story as hit #{row.hit_id} (rule {hit.rule_id}, within {short_duration(cooldown)})"
    return None
