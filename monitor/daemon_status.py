"""What the daemon says of its polls: metrics per poll, a debug line each, and its status line
for systemd (sources watched, rules, hits since start, which sources are failing)."""

from __future__ import annotations

import logging

from monitor import metrics
from monitor.pipeline import PollReport, Runtime
from monitor.store import Store

log = logging.getLogger(__name__)


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
