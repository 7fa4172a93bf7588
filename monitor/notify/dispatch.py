"""The dispatcher: drains the outbox, one round per ``run_once()``.

For each due row (oldest first, at most ``notify.batch``):

    channel gone from the config or disabled, or row older than notify.max_age ──► failed + announced
    an alert over its channel's rate limit ──► folded into the channel's pending summary
    otherwise: claim (in flight, committed) ──► render per URL ──► send per URL ──►
        every URL done          ──► sent
        a URL to retry          ──► pending again, next attempt after an exponential backoff
                                    with jitter, never before a Retry-After the server gave
        a URL refused for good  ──► failed + announced on notify.operations_channel

Each URL's success is recorded on the row (``delivered``), so a retry goes only to the
URLs that have not yet taken the message. Digest members due together (same channel,
route and period) are claimed and sent as one message. The guarantee: at least once; a
duplicate only when the process dies between a send and the commit that records it (the
row is then still in flight, and ``recover()`` at start-up makes it pending again).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, TextIO

from monitor.backoff import exponential
from monitor.config import Config
from monitor.errors import NotifyError, PermanentNotifyError
from monitor.models import Delivery, Hit, utcnow
from monitor.notify.channels import Transport, transports_for
from monitor.notify.digest import parse_digest_key, period_start
from monitor.notify.render import Message, Renderer
from monitor.notify.router import route_name
from monitor.store import Store, ts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DispatchReport:
    """Outbox rows handled in one round (a digest of five hits counts five rows)."""

    claimed: int = 0  # rows taken off the due list (0: nothing was due)
    sent: int = 0
    retried: int = 0
    failed: int = 0
    suppressed: int = 0  # folded into a rate-limit summary


def announce(store: Store, config: Config, text: str, *, title: str, now: datetime) -> int | None:
    """Queue an operations notice (a source failing or recovered, a delivery given up) on
    ``notify.operations_channel``. Returns the outbox row id, or None without such a channel."""
    channel = config.notify.operations_channel
    if not channel or not getattr(config.channels.get(channel), "enabled", True):
        log.warning("%s: %s", title, text)
        return None
    return store.enqueue(channel, "ops", {"title": title, "text": text}, now)


def delivery_key(row: Delivery) -> str:
    """A stable key for one delivery, from its outbox row (for a digest, its first member):
    the same on every retry and after a restart, different for every other row, and for a
    row of another database (the creation time is in it)."""
    basis = f"{row.id}|{ts(row.created_at)}|{row.channel}|{row.kind}|{row.hit_id}"
    return "sm-" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


class Dispatcher:
    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Callable[[], datetime] = utcnow,
        *,
        rng: random.Random | None = None,
        console: TextIO | None = None,
        claimant: str | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.claimant = claimant  # the daemon (registry id) whose claims these are
        self.rng = rng or random.Random()
        self.console = console
        self._transports: dict[str, list[Transport]] = {}
        self._renderers: dict[str, Renderer] = {}

    # -- public ----------------------------------------------------------------------------
    def recover(self) -> int:
        """At start-up: rows a crash left in flight become pending again (they may have been
        sent); not the rows of another daemon that is alive (see ``recover_inflight``)."""
        n = self.store.recover_inflight(self.clock())
        if n:
            log.warning(
                "%d notification(s) were in flight when the last run stopped; sending them again", n
            )
        return n

    def recover_orphans(self) -> int:
        """While running: rows in flight for a daemon whose lease has expired (it died
        mid-send) become pending again, to be sent by whichever daemon is next."""
        n = self.store.recover_inflight(self.clock(), unregistered=False)
        if n:
            log.warning(
                "%d notification(s) were in flight at a daemon that is gone; sending them again", n
            )
        return n

    def run_once(self) -> DispatchReport:
        now = self.clock()
        counts: Counter[str] = Counter()
        seen_digests: set[tuple[str, str]] = set()
        for row in self.store.due_rows(now, limit=self.config.notify.batch):
            if row.kind == "digest-member" and row.digest_key:
                key = (row.channel, row.digest_key)
                if key in seen_digests:
                    continue
                seen_digests.add(key)
                rows = self.store.digest_members(*key)
            else:
                rows = [row]
            if rows:
                self._handle(rows, now, counts)
        return DispatchReport(**counts)

    # -- one message ------------------------------------------------------------------------
    def _handle(self, rows: list[Delivery], now: datetime, counts: Counter[str]) -> None:
        first = rows[0]
        ids = [r.id for r in rows]
        channel = first.channel
        cfg = self.config.channels.get(channel)
        if cfg is None:
            self._give_up(
                rows, now, counts, f"channel {channel!r} is no longer in the configuration"
            )
            return
        if not cfg.enabled:
            self._give_up(rows, now, counts, f"channel {channel!r} is disabled")
            return
        age = now - self._age_start(first)
        if age.total_seconds() > self.config.notify.max_age:
            last = f"; last error: {first.last_error}" if first.last_error else ""
            self._give_up(
                rows,
                now,
                counts,
                f"not delivered within notify.max_age ({first.attempts} attempts){last}",
            )
            return
        # only a first attempt is folded: a retry may already have reached some of the URLs
        if (
            first.kind == "hit"
            and first.hit_id is not None
            and not first.attempts
            and cfg.rate_limit
            and self._over_limit(channel, now)
        ):
            due = self._window_frees(channel, now)
            summary = self.store.fold_into_summary(first.id, channel, first.hit_id, now, due)
            if summary is None:
                return  # another dispatcher took this row first
            log.info(
                "channel %s over its rate limit: hit #%s folded into summary #%d",
                channel,
                first.hit_id,
                summary,
            )
            counts["claimed"] += 1
            counts["suppressed"] += 1
            return
        claimed = self.store.claim(ids, now, self.claimant)
        if not claimed:
            return
        if len(claimed) != len(ids):  # another dispatcher took some members meanwhile
            rows = [r for r in rows if r.id in claimed]
            ids = claimed
        counts["claimed"] += len(ids)
        current = self.store.outbox_row(ids[0])
        delivered = dict(current.delivered) if current else {}
        attempts = first.attempts + 1
        try:
            message_for = self._composer(rows)
            transient, permanent, retry_after = self._send(channel, message_for, delivered)
        except PermanentNotifyError as exc:  # e.g. the hit is gone
            transient, permanent, retry_after = [], [str(exc)], None
        except Exception as exc:  # a bug or a broken template must not strand the row in flight
            log.exception("channel %s: could not prepare outbox row(s) %s", channel, ids)
            transient, permanent, retry_after = [f"{type(exc).__name__}: {exc}"], [], None
        done = self.clock()
        if transient:
            delay = self.backoff(attempts, retry_after)
            error = "; ".join(transient + permanent)
            self.store.finish(
                ids,
                "pending",
                now=done,
                error=error,
                next_attempt_at=done + timedelta(seconds=delay),
                delivered=delivered,
            )
            log.warning(
                "channel %s: delivery of row(s) %s failed (attempt %d), next in %.0fs: %s",
                channel,
                ids,
                attempts,
                delay,
                error,
            )
            counts["retried"] += len(ids)
        elif permanent:
            self._give_up(
                rows, done, counts, "; ".join(permanent), delivered=delivered, claimed=True
            )
        else:
            self.store.finish(ids, "sent", now=done, delivered=delivered)
            counts["sent"] += len(ids)

    def _send(
        self, channel: str, message_for: Callable[[str], Message], delivered: dict[str, str]
    ) -> tuple[list[str], list[str], float | None]:
        transient: list[str] = []
        permanent: list[str] = []
        retry_after: float | None = None
        for transport in self.transports(channel):
            if delivered.get(transport.key) in ("sent", "failed"):
                continue
            try:
                transport.send(message_for(transport.dialect))
            except PermanentNotifyError as exc:
                delivered[transport.key] = "failed"
                permanent.append(str(exc))
            except NotifyError as exc:
                transient.append(str(exc))
                if exc.retry_after is not None:
                    retry_after = max(retry_after or 0.0, exc.retry_after)
            else:
                delivered[transport.key] = "sent"
                # the console prints the alert itself; a log line for it would only repeat it
                (log.debug if transport.label == "console" else log.info)(
                    "channel %s: sent to %s", channel, transport.label
                )
        return transient, permanent, retry_after

    def _composer(self, rows: list[Delivery]) -> Callable[[str], Message]:
        """What to send, rendered lazily per dialect (one rendering per dialect)."""
        first = rows[0]
        renderer = self.renderer(first.channel)
        kind = first.kind
        key = delivery_key(min(rows, key=lambda r: r.id))
        cache: dict[str, Message] = {}
        make: Callable[[str], Message]
        if kind == "hit":
            hit = self._hit(first.hit_id)

            def make(d: str) -> Message:
                return renderer.render_alert(hit, d)
        elif kind == "digest-member" and first.digest_key:
            hits = [self._hit(r.hit_id) for r in rows]
            route, end = parse_digest_key(first.digest_key)
            start = self._digest_start(route, end)

            def make(d: str) -> Message:
                return renderer.render_digest(hits, d, route=route, start=start, end=end)
        elif kind == "summary":
            payload = _payload(first)
            hits = [
                h for h in (self.store.get_hit(i) for i in payload.get("hits", [])) if h is not None
            ]
            cfg = self.config.channels[first.channel]

            def make(d: str) -> Message:
                return renderer.render_summary(
                    hits, d, limit=cfg.rate_limit or 0, window=cfg.rate_window
                )
        else:  # ops, and anything else that carries its own title and text
            payload = _payload(first)

            def make(d: str) -> Message:
                return renderer.render_notice(
                    str(payload.get("title", "Notice")), str(payload.get("text", "")), d
                )

        def message_for(dialect: str) -> Message:
            if dialect not in cache:
                cache[dialect] = dataclasses.replace(make(dialect), key=key)
            return cache[dialect]

        return message_for

    # -- failure ----------------------------------------------------------------------------
    def _give_up(
        self,
        rows: list[Delivery],
        now: datetime,
        counts: Counter[str],
        error: str,
        *,
        delivered: dict[str, str] | None = None,
        claimed: bool = False,
    ) -> None:
        ids = [r.id for r in rows]
        if not claimed:
            ids = self.store.claim(ids, now, self.claimant)
            if not ids:
                return
            counts["claimed"] += len(ids)
        self.store.finish(ids, "failed", now=now, error=error, delivered=delivered)
        counts["failed"] += len(ids)
        first = rows[0]
        log.error("channel %s: gave up on outbox row(s) %s: %s", first.channel, ids, error)
        ops = self.config.notify.operations_channel
        if first.kind == "ops" or first.channel == ops:
            return  # never announce a failed announcement on the channel that just failed
        what = {
            "hit": f"the alert for hit #{first.hit_id}",
            "digest-member": f"a digest of {len(ids)} hit(s)",
            "summary": "a rate-limit summary",
        }.get(first.kind, f"a {first.kind} message")
        announce(
            self.store,
            self.config,
            f"Could not deliver {what} to channel {first.channel}: {error}",
            title=f"Delivery failed: {first.channel}",
            now=now,
        )

    def backoff(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds before the next attempt: base·2^(attempts-1), capped at backoff_max, with
        jitter (between half and all of it), and never less than a server's Retry-After."""
        n = self.config.notify
        delay = exponential(n.backoff_base, attempts, n.backoff_max)
        delay *= 0.5 + 0.5 * self.rng.random()
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    # -- helpers ----------------------------------------------------------------------------
    def transports(self, channel: str) -> list[Transport]:
        if channel not in self._transports:
            self._transports[channel] = transports_for(
                channel, self.config.channels[channel], self.console
            )
        return self._transports[channel]

    def renderer(self, channel: str) -> Renderer:
        if channel not in self._renderers:
            self._renderers[channel] = Renderer(
                self.config.channels[channel],
                self.config.base_dir,
                channel,
                hit_base_url=self.config.web.base_url,
            )
        return self._renderers[channel]

    def _hit(self, hit_id: int | None) -> Hit:
        hit = self.store.get_hit(hit_id) if hit_id is not None else None
        if hit is None:
            raise PermanentNotifyError(f"hit #{hit_id} no longer exists")
        return hit

    def _age_start(self, row: Delivery) -> datetime:
        if row.kind == "digest-member" and row.digest_key:
            return parse_digest_key(row.digest_key)[1]
        assert row.created_at is not None  # NOT NULL in the schema
        return row.created_at

    def _digest_start(self, route: str, end: datetime) -> datetime:
        for i, r in enumerate(self.config.routes):
            if route_name(r, i) == route and r.digest is not None:
                return period_start(r.digest, end)
        return end - timedelta(days=1)

    def _over_limit(self, channel: str, now: datetime) -> bool:
        cfg = self.config.channels[channel]
        since = now - timedelta(seconds=cfg.rate_window)
        return self.store.messages_sent_since(channel, since) >= (cfg.rate_limit or 0)

    def _window_frees(self, channel: str, now: datetime) -> datetime:
        cfg = self.config.channels[channel]
        first = self.store.first_sent_since(channel, now - timedelta(seconds=cfg.rate_window))
        return (first or now) + timedelta(seconds=cfg.rate_window)


def _payload(row: Delivery) -> dict[str, Any]:
    return row.payload if isinstance(row.payload, dict) else {}


__all__ = ["Dispatcher", "DispatchReport", "announce", "delivery_key"]
