"""What the daemon says of its work: metrics per poll and per dispatch round, a debug line
each, what it announces at start-up, and its status line for systemd (sources watched, rules,
hits since start, which sources are failing)."""

from __future__ import annotations

import logging

from datetime import datetime
from typing import Callable

from monitor import metrics
from monitor.config import Config
from monitor.logs import channel_labels
from monitor.pipeline import PollReport, Runtime, disabled_sources, dispatch
from monitor.store import Store

log = logging.getLogger("monitor.daemon")  # the daemon speaks under its own name


class PollStatus:
    """The daemon's running account of its polls (one per daemon; polls report from several
    threads, each about its own source)."""

    def __init__(self) -> None:
        self.hits_since_start = 0
        self.failing: set[str] = set()

    def observe(self, store: Store, report: PollReport) -> None:
        """One poll finished: count its hits, note whether its source is failing, record it."""
        failures = None
        try:
            row = store.source_row(report.source)
            failures = row.consecutive_failures if row else None
            if row and (row.failing or row.disabled_reason):
                self.failing.add(report.source)
            else:
                self.failing.discard(report.source)
        except Exception:
            log.debug("could not read the state of source %s", report.source, exc_info=True)
        self.hits_since_start += report.hits
        metrics.record_poll(
            report.source,
            ok=report.ok,
            fetched=report.fetched,
            new_items=report.new_items,
            hits=report.hits,
            seconds=report.seconds,
            consecutive_failures=failures,
        )
        log.debug(
            "source %s polled in %.2fs: %s, %d item(s), %d new, %d hit(s)",
            report.source,
            report.seconds,
            "ok" if report.ok else "failed",
            report.fetched,
            report.new_items,
            report.hits,
        )

    def forget(self, source: str) -> None:
        """A source left the schedule."""
        metrics.forget_source(source)
        self.failing.discard(source)

    def line(self, runtime: Runtime) -> str:
        cfg = runtime.config
        line = (
            f"watching {sum(1 for s in cfg.sources if s.enabled)} source(s) with "
            f"{runtime.matcher.rule_count} rule(s); {self.hits_since_start} hit(s) since start"
        )
        if self.failing:
            line += f"; failing: {', '.join(sorted(self.failing))}"
        return line


def announce_start(cfg: Config, store: Store) -> None:
    """Log the channels (without secrets) and every source the daemon will not poll."""
    for name, what in channel_labels(cfg):
        log.info("channel %s: %s", name, what)
    for name, reason in disabled_sources(store, cfg):
        log.warning(
            "source %s is disabled: %s (fix the cause in the config, which enables it again, "
            "or run `monitor sources enable %s`)",
            name,
            reason,
            name,
        )


def announce_running(cfg: Config, rule_count: int) -> None:
    log.info(
        "monitor running: %d source(s), %d active rule(s), database %s",
        sum(1 for s in cfg.sources if s.enabled),
        rule_count,
        cfg.storage_label,
    )


def dispatch_round(
    runtime: Runtime, store: Store, clock: Callable[[], datetime], claimant: str | None
) -> None:
    """One round of the outbox, counted in the metrics; a failed round is logged and left
    to the next."""
    try:
        report = dispatch(runtime, store, clock=clock, claimant=claimant)
    except Exception:
        log.exception("dispatch round failed; retrying at the next round")
        return
    sent, retried, failed = report.sent, report.retried, report.failed
    metrics.record_dispatch(sent=sent, retried=retried, failed=failed)
    if report.claimed:
        log.debug("dispatch round: %d sent, %d to retry, %d given up", sent, retried, failed)


def heartbeat_every(cfg: Config, watchdog: float | None) -> float:
    """Seconds between heartbeats: the configured interval, or systemd's watchdog interval
    when that is shorter."""
    return min(cfg.daemon.heartbeat, watchdog) if watchdog else cfg.daemon.heartbeat
