"""Prometheus metrics (prometheus-client), served only when ``metrics.enabled`` is set.

    monitor_items_fetched_total{source}                 items a source returned
    monitor_items_new_total{source}                     of those, never seen before
    monitor_hits_total{source}                          hits recorded
    monitor_polls_total{source,result}                  polls, result = ok | failed
    monitor_poll_duration_seconds{source}               histogram of poll durations
    monitor_source_consecutive_failures{source}         gauge; 0 when the last poll succeeded
    monitor_notifications_sent_total                    outbox rows delivered
    monitor_notifications_retried_total                 delivery attempts that failed and will be retried
    monitor_notifications_failed_total                  outbox rows given up on
    monitor_rules_active                                rules the matcher runs
    monitor_reloads_total{result}                       reloads, result = ok | refused
    monitor_outbox_rows{status}                         read from the database at scrape time

The counting functions are cheap and safe to call whether or not the endpoint runs, from
any thread; they are what the daemon (and the notifier, if it wishes) call.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

ITEMS_FETCHED = Counter(
    "monitor_items_fetched", "Items returned by a source's polls", ["source"], registry=REGISTRY
)
ITEMS_NEW = Counter("monitor_items_new", "Items never seen before", ["source"], registry=REGISTRY)
HITS = Counter("monitor_hits", "Hits recorded", ["source"], registry=REGISTRY)
POLLS = Counter("monitor_polls", "Polls of a source", ["source", "result"], registry=REGISTRY)
POLL_SECONDS = Histogram(
    "monitor_poll_duration_seconds",
    "How long one poll of a source took",
    ["source"],
    registry=REGISTRY,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120),
)
FAILURES = Gauge(
    "monitor_source_consecutive_failures",
    "Consecutive failed polls of a source",
    ["source"],
    registry=REGISTRY,
)
SENT = Counter("monitor_notifications_sent", "Outbox rows delivered", registry=REGISTRY)
RETRIED = Counter(
    "monitor_notifications_retried",
    "Delivery attempts that failed and will be retried",
    registry=REGISTRY,
)
FAILED = Counter("monitor_notifications_failed", "Outbox rows given up on", registry=REGISTRY)
RULES = Gauge("monitor_rules_active", "Active watch rules", registry=REGISTRY)
RELOADS = Counter("monitor_reloads", "Reloads of config and rules", ["result"], registry=REGISTRY)


def record_poll(
    source: str,
    *,
    ok: bool,
    fetched: int = 0,
    new_items: int = 0,
    hits: int = 0,
    seconds: float = 0.0,
    consecutive_failures: int | None = None,
) -> None:
    POLLS.labels(source, "ok" if ok else "failed").inc()
    POLL_SECONDS.labels(source).observe(max(0.0, seconds))
    if fetched:
        ITEMS_FETCHED.labels(source).inc(fetched)
    if new_items:
        ITEMS_NEW.labels(source).inc(new_items)
    if hits:
        HITS.labels(source).inc(hits)
    if consecutive_failures is not None:
        FAILURES.labels(source).set(consecutive_failures)
    elif ok:
        FAILURES.labels(source).set(0)


def record_dispatch(*, sent: int = 0, retried: int = 0, failed: int = 0) -> None:
    """One dispatch round's outcome (the notifier's DispatchReport)."""
    if sent:
        SENT.inc(sent)
    if retried:
        RETRIED.inc(retried)
    if failed:
        FAILED.inc(failed)


def set_rules(count: int) -> None:
    RULES.set(count)


def record_reload(ok: bool) -> None:
    RELOADS.labels("ok" if ok else "refused").inc()


def forget_source(source: str) -> None:
    """A source left the config: drop its gauge so it does not look stuck."""
    try:
        FAILURES.remove(source)
    except KeyError:
        pass


class _OutboxCollector:
    """Reads the outbox counts from the database when Prometheus scrapes."""

    def __init__(self) -> None:
        self.counts: Callable[[], dict[str, int]] | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "monitor_outbox_rows", "Outbox rows by status", labels=["status"]
        )
        if self.counts is not None:
            try:
                counts = self.counts()
            except Exception as exc:  # a busy database must not break the scrape
                log.debug("metrics: outbox counts unavailable: %s", exc)
                counts = {}
            for status in ("pending", "inflight", "sent", "failed", "suppressed"):
                family.add_metric([status], counts.get(status, 0))
        yield family

    def describe(self) -> list[GaugeMetricFamily]:
        return []


_OUTBOX = _OutboxCollector()
REGISTRY.register(_OUTBOX)


def watch_outbox(counts: Callable[[], dict[str, int]] | None) -> None:
    """Give the scrape a way to read outbox counts (``store.outbox_counts``), or None."""
    _OUTBOX.counts = counts


def render() -> bytes:
    """The exposition text, as the endpoint serves it."""
    return generate_latest(REGISTRY)


class MetricsServer:
    """The HTTP endpoint; ``stop()`` closes its socket."""

    def __init__(self, host: str, port: int) -> None:
        self.server: Any
        self.thread: threading.Thread
        self.server, self.thread = start_http_server(port, addr=host, registry=REGISTRY)
        self.host = host
        self.port = int(self.server.server_address[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(host: str, port: int) -> MetricsServer:
    server = MetricsServer(host, port)
    log.info("metrics on http://%s:%d/metrics", host, server.port)
    return server
