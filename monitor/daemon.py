"""The daemon: APScheduler wiring, signals, reload. It only connects the pipeline's parts.

    one job per source ── run_source() on the source's own schedule (interval ± jitter,
                          backoff after failures); coalescing, one instance at a time
    one dispatcher job ── dispatch() every notify.interval, and right after a poll with hits
    SIGTERM / Ctrl-C   ── stop: running polls finish (bounded by HTTP timeouts), nothing half-written
    SIGHUP             ── reload config and rules; a broken file keeps the previous ones
"""

from __future__ import annotations

import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from apscheduler.executors.pool import ThreadPoolExecutor as APThreadPool
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import SourceConfig
from monitor.errors import ConfigError
from monitor.models import utcnow
from monitor.pipeline import PollReport, Runtime, dispatch, open_store, recover, run_source
from monitor.store import Store

log = logging.getLogger(__name__)

DISPATCH_JOB = "dispatch"


def _job_id(source: SourceConfig) -> str:
    return f"source:{source.name}"


class Daemon:
    def __init__(self, config_path: str | Path, runtime: Runtime, clock: Callable[[], datetime] = utcnow):
        self.config_path = Path(config_path)
        self.runtime = runtime
        self.clock = clock
        self.store: Store = open_store(runtime.config)
        self.stopping = threading.Event()
        self.scheduler = BackgroundScheduler(
            executors={"default": APThreadPool(max_workers=8)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC",
        )
        self._reload_lock = threading.Lock()

    # -- jobs -----------------------------------------------------------------------
    def _poll(self, name: str) -> None:
        runtime = self.runtime  # one consistent snapshot for the whole poll
        try:
            source = runtime.config.source(name)
        except KeyError:
            return
        report = run_source(runtime, self.store, source, clock=self.clock)
        if report.next_poll_at and not self.stopping.is_set():
            try:
                self.scheduler.modify_job(_job_id(source), next_run_time=report.next_poll_at)
            except Exception:  # the job was removed by a reload meanwhile
                pass
        if report.hits and not self.stopping.is_set():
            self._dispatch_soon()

    def _dispatch(self) -> None:
        try:
            dispatch(self.runtime, self.store, clock=self.clock)
        except Exception:
            log.exception("dispatch round failed; retrying at the next round")

    def _dispatch_soon(self) -> None:
        try:
            self.scheduler.modify_job(DISPATCH_JOB, next_run_time=datetime.now().astimezone())
        except Exception:
            pass

    def _schedule_sources(self) -> None:
        cfg = self.runtime.config
        wanted = {_job_id(s): s for s in cfg.sources if s.enabled}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("source:") and job.id not in wanted:
                job.remove()
        rows = {r["name"]: r for r in self.store.list_sources()}
        now = self.clock()
        for job_id, source in wanted.items():
            row = rows.get(source.name) or {}
            first = row.get("next_poll_at") or now
            if first < now:
                first = now
            existing = self.scheduler.get_job(job_id)
            trigger = IntervalTrigger(seconds=source.interval, jitter=int(source.jitter) if source.jitter else None)
            if existing:
                existing.reschedule(trigger)
                existing.modify(next_run_time=first)
            else:
                self.scheduler.add_job(self._poll, trigger, args=[source.name], id=job_id, name=source.name,
                                       next_run_time=first)

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        recovered = recover(self.runtime, self.store)
        if recovered:
            log.warning("%d notification(s) were in flight at the last stop; they will be sent again", recovered)
        self._schedule_sources()
        self.scheduler.add_job(self._dispatch, IntervalTrigger(seconds=self.runtime.config.notify.interval),
                               id=DISPATCH_JOB, name="dispatch", next_run_time=datetime.now().astimezone())
        self.scheduler.start()
        cfg = self.runtime.config
        log.info("monitor running: %d source(s), %d active rule(s), database %s",
                 sum(1 for s in cfg.sources if s.enabled), self.runtime.matcher.rule_count, cfg.db_path)

    def reload(self) -> bool:
        """Re-read config and rules; on any error keep running on the previous ones."""
        with self._reload_lock:
            try:
                runtime = Runtime.load(self.config_path)
            except ConfigError as exc:
                for line in str(exc).splitlines():
                    log.error("reload refused: %s", line)
                return False
            self.runtime = runtime
            self.store.sync_sources(runtime.config.sources)
            self._schedule_sources()
            log.info("reloaded: %d source(s), %d active rule(s)",
                     sum(1 for s in runtime.config.sources if s.enabled), runtime.matcher.rule_count)
            return True

    def stop(self) -> None:
        self.stopping.set()
        log.info("stopping: waiting for running polls to finish")
        try:
            self.scheduler.shutdown(wait=True)
        except Exception:
            pass
        self.store.close()
        log.info("stopped")

    def serve_forever(self) -> None:
        """Run until SIGTERM / SIGINT; SIGHUP reloads."""
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=self.reload, daemon=True).start())
        self.start()
        try:
            while not self.stopping.wait(1.0):
                pass
        finally:
            self.stop()


def run_once(runtime: Runtime, clock: Callable[[], datetime] = utcnow) -> list[PollReport]:
    """Poll every enabled source once (concurrently), then send everything that is due."""
    cfg = runtime.config
    store = open_store(cfg)
    try:
        recover(runtime, store)
        sources = [s for s in cfg.sources if s.enabled]
        with ThreadPoolExecutor(max_workers=min(8, max(1, len(sources)))) as pool:
            reports = list(pool.map(lambda s: run_source(runtime, store, s, clock=clock), sources))
        for _ in range(100):  # bounded: each round sends up to notify.batch rows
            report = dispatch(runtime, store, clock=clock)
            if not getattr(report, "claimed", 0):
                break
        return reports
    finally:
        store.close()
