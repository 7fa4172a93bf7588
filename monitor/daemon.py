"""The daemon: APScheduler wiring, signals, reload. It only connects the pipeline's parts.

    one job per source ── run_source() on the source's own schedule (interval ± jitter,
                          backoff after failures); coalescing, one instance at a time
    one dispatcher job ── dispatch() every notify.interval, and right after a poll with hits
    heartbeat job      ── meta["daemon"] in the store (so `monitor status` knows we are alive),
                          WATCHDOG=1 and STATUS= to systemd; on its own small thread pool, so
                          slow polls cannot starve it
    watch job          ── the config file and rule files changed (mtime, size)? reload
    retention job      ── daily: prune items older than storage.retention that no hit keeps
    SIGTERM / Ctrl-C   ── stop: no new polls; running ones get daemon.stop_timeout to finish.
                          Every write is one SQLite transaction, so a poll cut short leaves
                          nothing half-written: it is simply polled again next time.
    SIGHUP             ── reload config and rules; a broken file keeps the previous ones
    instance lock      ── SQLite: an flock on ``<database>.lock`` for the process's life: a second
                          daemon on the same database is refused; ``run --once`` leaves a
                          daemon's rows alone
    registry           ── every daemon has a row (monitor/cluster.py): its heartbeat renews its
                          lease; deliveries it claims carry its id, and a start-up or a heartbeat
                          recovers only the in-flight rows of daemons whose lease has expired
    dividing sources   ── several daemons on one database (``divide``; PostgreSQL): no job per
                          source; a claim loop takes due sources by lease (cluster.ClaimLoop)

Polls run on the "default" executor (8 threads); the daemon's own jobs on "ops" (2 threads).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Callable

from monitor import metrics, process, sdnotify
from monitor.cluster import ClaimLoop, Member, mark_dead_processes
from monitor.daemon_jobs import (
    DISPATCH_JOB,
    OpsJobs,
    job_id,
    new_scheduler,
    schedule_ops,
    schedule_sources,
    scheduler_time,
)
from monitor.daemon_serve import serve
from monitor.daemon_status import (
    PollStatus,
    announce_running,
    announce_start,
    dispatch_round,
    heartbeat_every,
)
from monitor.dbfiles import InstanceLock
from monitor.errors import ConfigError, error_lines
from monitor.filewatch import FileWatch, watched_files
from monitor.jobs import JobTracker
from monitor.logs import config_secrets, hide_secrets
from monitor.models import utcnow
from monitor.once import run_once
from monitor.pipeline import (
    Runtime,
    open_store,
    recover,
    retention,
    run_source,
    shares_sources,
)
from monitor.store import Store

__all__ = ["Daemon", "run_once", "watched_files"]

log = logging.getLogger(__name__)

ONCE_WAIT = 300.0  # a daemon starting while `run --once` holds the lock waits this long for it


class Daemon:
    def __init__(
        self,
        config_path: str | Path,
        runtime: Runtime,
        clock: Callable[[], datetime] = utcnow,
        *,
        divide: bool | None = None,
    ):
        self.config_path = Path(config_path)
        # several daemons dividing the sources by leases, or (SQLite) one with a job per source
        self.divide = shares_sources(runtime.config) if divide is None else divide
        self.member: Member | None = None
        self.claims: ClaimLoop | None = None
        self.runtime = runtime
        self.clock = clock
        self.store: Store = open_store(runtime.config)
        self.stopping = threading.Event()
        self.scheduler = new_scheduler()
        self.started_at = clock()
        self.pid = os.getpid()
        self._reload_lock = threading.Lock()
        self.jobs = JobTracker(self.stopping)
        self.files = FileWatch()
        self._watchdog_every = sdnotify.watchdog_interval()
        self._metrics_server: metrics.MetricsServer | None = None
        self.polls = PollStatus()
        self.lock = InstanceLock(runtime.config.db_path)
        hide_secrets(config_secrets(runtime.config))

    def running_jobs(self) -> list[str]:
        return self.jobs.running()

    # -- jobs -----------------------------------------------------------------------
    def _poll_claimed(self, name: str) -> None:
        """A source this daemon holds the lease of (the claim loop): its next time is the
        ``next_poll_at`` the poll records, for whichever daemon claims it then."""
        self._poll(name, reschedule=False)

    def _poll(self, name: str, reschedule: bool = True) -> None:
        runtime = self.runtime  # one consistent snapshot for the whole poll
        try:
            source = runtime.config.source(name)
        except KeyError:
            return
        with self.jobs.track(f"poll {name}") as go:
            if not go:
                return
            started = self.clock()
            report = run_source(runtime, self.store, source, clock=self.clock)
            self.polls.observe(self.store, report)
        if reschedule and report.next_poll_at and not self.stopping.is_set():
            with contextlib.suppress(Exception):  # the job was removed by a reload meanwhile
                self.scheduler.modify_job(
                    job_id(source), next_run_time=scheduler_time(report.next_poll_at - started)
                )
        if report.hits and not self.stopping.is_set():
            self._dispatch_soon()

    def _dispatch(self) -> None:
        with self.jobs.track("dispatch") as go:
            if not go:
                return
            dispatch_round(self.runtime, self.store, self.clock, self._claimant)

    @property
    def _claimant(self) -> str | None:
        return self.member.id if self.member else None

    def _dispatch_soon(self) -> None:
        with contextlib.suppress(Exception):
            self.scheduler.modify_job(DISPATCH_JOB, next_run_time=datetime.now().astimezone())

    def heartbeat(self) -> None:
        """Record that we are alive, and tell systemd (WATCHDOG=1, STATUS=)."""
        with self.jobs.track("heartbeat") as go:
            if not go:
                return
            try:
                self.store.beat(
                    self.started_at,
                    self.clock(),
                    heartbeat_every(self.runtime.config, self._watchdog_every),
                    pid=self.pid,
                )
                if self.member is not None:
                    self.member.beat(self.runtime.config, self.runtime.rules)
            except Exception as exc:  # the database busy for long: say so, keep running
                log.warning("could not record the heartbeat: %s", exc)
        if self._watchdog_every:
            sdnotify.watchdog()
        sdnotify.status(self.status_line())

    def status_line(self) -> str:
        return self.polls.line(self.runtime)

    def check_files(self) -> bool:
        """One round of the file watch: reload when the config or a rule file changed and
        has stayed the same for one round (an editor may still be writing). True if a
        reload was attempted."""
        if self.stopping.is_set() or not self.runtime.config.rules.watch:
            return False
        changed = self.files.settled(watched_files(self.runtime.config))
        if changed is None:
            return False
        log.info(
            "changed on disk: %s; reloading",
            ", ".join(changed[:5]) + (" …" if len(changed) > 5 else ""),
        )
        with self.jobs.track("reload") as go:
            if go:
                self.reload()
        return True

    def prune(self) -> int:
        """Retention: delete items older than storage.retention that no hit refers to."""
        with self.jobs.track("retention") as go:
            return retention(self.store, self.runtime.config, self.clock()) if go else 0

    def learn(self) -> None:
        """Compile what the matcher learned to skip (``Matcher.refresh``): here, in the ops
        executor every few minutes, and nowhere else, so polls never wait for it."""
        try:
            self.runtime.matcher.refresh()
            process.trim_heap()  # the set before, and its cached states, are gone
        except Exception:
            log.exception("matcher refresh failed; it keeps the scan it has")

    def _prune_job(self) -> None:
        try:
            self.prune()
        except Exception:
            log.exception("retention run failed; trying again tomorrow")

    # -- scheduling -----------------------------------------------------------------
    def _schedule_sources(self) -> None:
        if self.divide:
            return  # the claim loop takes what is due, by lease
        rows = {r.name: r for r in self.store.list_sources()}
        for name in schedule_sources(
            self.scheduler, self.runtime.config.sources, rows, self.clock(), self._poll
        ):
            self.polls.forget(name)

    def schedule_ops(self) -> None:
        """The daemon's own jobs; called at start and after a reload (intervals may change)."""
        jobs = OpsJobs(
            dispatch=self._dispatch,
            heartbeat=self.heartbeat,
            check_files=self.check_files,
            learn=self.learn,
            prune=self._prune_job,
        )
        schedule_ops(
            self.scheduler,
            self.runtime.config,
            heartbeat_every(self.runtime.config, self._watchdog_every),
            jobs,
        )

    # -- lifecycle ------------------------------------------------------------------
    def take_lock(self) -> None:
        """The single-instance lock, or AlreadyRunning (see ``InstanceLock.acquire_for_daemon``).
        Daemons that divide the sources (PostgreSQL) take none: they may be several."""
        if not self.divide:
            self.lock.acquire_for_daemon(ONCE_WAIT)

    def _enabled_sources(self) -> list[str]:
        return [s.name for s in self.runtime.config.sources if s.enabled]

    def start(self) -> None:
        cfg = self.runtime.config
        self.take_lock()
        # the rules and matcher loaded before the daemon was made: frozen as they are (no
        # other thread has run yet, and a compile leaves no cyclic garbage but the few
        # dozen objects of the analyser's first load)
        process.settle(collect=False)
        self.files.reset(watched_files(cfg))
        mark_dead_processes(self.store, self.clock())  # daemons killed on this host: free now
        recovered = recover(self.runtime, self.store, clock=self.clock)
        # registered once the slow part of the start-up (a row per source) is done, so the
        # first heartbeat comes within the lease
        self.member = Member.join(self.store, cfg, self.runtime.rules, clock=self.clock)
        if recovered:
            log.warning(
                "%d notification(s) were in flight at the last stop; they will be sent again",
                recovered,
            )
        if cfg.metrics.enabled:
            self._metrics_server = metrics.serve(cfg.metrics.host, cfg.metrics.port)
            metrics.watch_outbox(self.store.outbox_counts)
        metrics.set_rules(self.runtime.matcher.rule_count)
        announce_start(cfg, self.store)
        self._schedule_sources()
        self.schedule_ops()
        self.scheduler.start()
        if self.divide:
            self.claims = ClaimLoop(
                self.store,
                self.member,
                self._poll_claimed,
                self._enabled_sources,
                lambda: self.runtime.config.cluster.claim_interval,
                clock=self.clock,
            )
            self.claims.start()
        announce_running(cfg, self.runtime.matcher.rule_count)

    def reload(self) -> bool:
        """Re-read config and rules; on any error keep running on the previous ones."""
        with self._reload_lock:
            sdnotify.reloading()
            snapshot = watched_files(self.runtime.config)
            try:
                with process.compiling():
                    runtime = Runtime.load_checked(self.config_path)
            except ConfigError as exc:
                self.files.reset(snapshot)  # do not retry the same broken files every round
                errors = error_lines(exc)
                for line in errors:
                    log.error("reload refused: %s", line)
                log.error(
                    "still running on the previous config and rules (%d error(s) above)",
                    len(errors),
                )
                self._record_reload(False, errors)
                sdnotify.ready(f"reload refused: {errors[0] if errors else exc}")
                return False
            except Exception as exc:  # an unexpected failure must not take the daemon down
                log.exception("reload failed; still running on the previous config and rules")
                self.files.reset(snapshot)
                self._record_reload(False, [f"{type(exc).__name__}: {exc}"])
                sdnotify.ready("reload failed")
                return False
            old = self.runtime.config
            hide_secrets(config_secrets(runtime.config))
            self.runtime = runtime
            self.files.reset(
                watched_files(runtime.config)
                if runtime.config.rule_paths != old.rule_paths
                else snapshot
            )
            self.store.sync_sources(
                runtime.config.sources, fingerprints=runtime.config.source_fingerprints()
            )
            self._schedule_sources()
            self.schedule_ops()
            if (runtime.config.metrics != old.metrics) or (runtime.config.storage != old.storage):
                log.warning(
                    "changes to the metrics and storage sections take effect at the next restart"
                )
            process.settle()
            self._record_reload(True, [])
            metrics.set_rules(runtime.matcher.rule_count)
            log.info(
                "reloaded: %d source(s), %d active rule(s)",
                sum(1 for s in runtime.config.sources if s.enabled),
                runtime.matcher.rule_count,
            )
            sdnotify.ready(self.status_line())
            return True

    def _record_reload(self, ok: bool, errors: list[str]) -> None:
        metrics.record_reload(ok)
        try:
            self.store.record_reload(self.clock(), ok, errors)
        except Exception as exc:
            log.warning("could not record the reload outcome: %s", exc)

    def stop(self) -> bool:
        """Stop scheduling; give running jobs ``daemon.stop_timeout`` seconds to finish.
        True when everything finished (the store is then closed)."""
        self.stopping.set()
        timeout = self.runtime.config.daemon.stop_timeout
        busy = self.running_jobs()
        sdnotify.stopping(f"stopping: waiting for {', '.join(busy)}" if busy else "stopping")
        log.info(
            "stopping%s", f": waiting up to {timeout:.0f}s for {', '.join(busy)}" if busy else ""
        )
        with contextlib.suppress(Exception):
            self.scheduler.shutdown(wait=False)  # no new runs; running ones carry on
        if self.claims is not None:
            self.claims.stop()
        finished = self.jobs.wait_idle(timeout)
        if self._metrics_server is not None:
            self._metrics_server.stop()
            metrics.watch_outbox(None)
        if not finished:
            left = self.running_jobs()
            log.error(
                "stop: %s still running after %.0fs; leaving without them (their work is "
                "not committed and will be redone at the next start)",
                ", ".join(left),
                timeout,
            )
            self.store.mark_stopped_if_free(self.clock(), pid=self.pid)
            self.lock.release()
            return False
        try:
            self.store.mark_stopped(self.clock(), pid=self.pid)
            if self.member is not None:
                self.member.leave()
        except Exception as exc:
            log.warning("could not record the stop: %s", exc)
        self.store.close()
        self.lock.release()
        log.info("stopped")
        return True

    def serve_forever(self) -> None:
        """Run until SIGTERM / SIGINT; SIGHUP reloads. READY=1 once running."""
        serve(self)

    def reload_job(self) -> None:
        log.info("SIGHUP: reloading")
        with self.jobs.track("reload") as go:
            if go:
                self.reload()
