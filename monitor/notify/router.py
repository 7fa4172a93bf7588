"""Routing: which channels a new hit goes to, and whether it is sent, held for a digest,
or suppressed (kept for the record with the reason).

    for each route whose filters match the hit (a route without filters matches every hit):
        each of its channels, once per hit; an immediate route wins over a digest route
    then, in this order, a row is "suppressed" (reason in last_error) when
        a silence covers the rule or the source        "silenced by #3 until …: comment"
        the same rule alerted on the same story within notify.cooldown
                                                        "cooldown: same story as hit #12"
    otherwise the row is pending: due now, or (digest route) at the end of its period.

``Router.plan`` is called by the store inside the transaction that writes the hit: it reads
through ``store.query`` on the same connection and never opens a transaction of its own.
"""

from __future__ import annotations

import re
from datetime import timedelta

from monitor.config import Config, RouteConfig
from monitor.models import Hit
from monitor.notify.digest import digest_key, period_end
from monitor.store import OutboxPlan, Store

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def story_title(title: str) -> str:
    """A title reduced to its words, for "same story": case, punctuation and spacing ignored."""
    return _NON_WORD.sub(" ", title.casefold()).strip()


def route_name(route: RouteConfig, index: int) -> str:
    return route.name or f"route-{index + 1}"


class Router:
    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store

    def plan(self, hit: Hit) -> list[OutboxPlan]:
        now = hit.created_at
        chosen: dict[str, tuple[str, RouteConfig]] = {}
        for i, route in enumerate(self.config.routes):
            if not route.matches(hit.rule_id, hit.tags, hit.severity, hit.source):
                continue
            for channel in route.channels:
                held = chosen.get(channel)
                if held is None or (held[1].digest is not None and route.digest is None):
                    chosen[channel] = (route_name(route, i), route)
        if not chosen:
            return []
        reason = self._suppressed_because(hit)
        plans: list[OutboxPlan] = []
        for channel, (name, route) in chosen.items():
            if route.digest is None:
                plan = OutboxPlan(channel=channel, next_attempt_at=now, route=name)
            else:
                end = period_end(route.digest, now)
                plan = OutboxPlan(channel=channel, next_attempt_at=end, route=name, kind="digest-member",
                                  digest_key=digest_key(name, end))
            if reason:
                plan = OutboxPlan(channel=plan.channel, next_attempt_at=plan.next_attempt_at, route=plan.route,
                                  kind=plan.kind, digest_key=plan.digest_key, status="suppressed", last_error=reason)
            plans.append(plan)
        return plans

    def _suppressed_because(self, hit: Hit) -> str | None:
        silence = self.store.active_silence(hit.rule_id, hit.source, hit.created_at)
        if silence:
            what = " ".join(x for x in (f"rule {silence['rule_id']}" if silence["rule_id"] else "",
                                        f"source {silence['source']}" if silence["source"] else "") if x)
            comment = f": {silence['comment']}" if silence["comment"] else ""
            return f"silenced ({what}) by silence #{silence['id']} until {silence['expires_at']:%Y-%m-%d %H:%M} UTC{comment}"
        cooldown = self.config.notify.cooldown
        if cooldown <= 0:
            return None
        since = hit.created_at - timedelta(seconds=cooldown)
        earlier = self.store.recent_alerted_hits(hit.rule_id, since, hit.id)
        if not earlier:
            return None
        mine = self.store.hit_item_story(hit.id)
        my_story = {int(hit.story)} if hit.story and hit.story.isdigit() else set()
        if mine:
            my_story |= {mine[0], *( [mine[1]] if mine[1] else [] )}
        title = story_title(hit.title)
        for row in earlier:
            same_story = bool(my_story & {row["item_id"], row["story_id"]} - {None})
            same_title = bool(title) and story_title(row["title"] or "") == title
            if same_story or same_title:
                return f"cooldown: same story as hit #{row['id']} (rule {hit.rule_id}, within {_human(cooldown)})"
        return None


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"
