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
    instance lock      ── an flock on ``<database>.lock`` for the process's life: a second
                          daemon on the same database is refused (its start-up recovery
                          would resend the first one's in-flight alerts); ``run --once``
                          beside a daemon leaves the daemon's in-flight rows alone

Polls run on the "default" executor (8 threads); the daemon's own jobs on "ops" (2 threads).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

from apscheduler.executors.pool import ThreadPoolExecutor as APThreadPool
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor import metrics, process, sdnotify
from monitor.check import channel_url_problems
from monitor.config import Config, SourceConfig
from monitor.dbfiles import InstanceLock
from monitor.errors import ConfigError, ConfigErrors
from monitor.logs import config_secrets, hide_secrets
from monitor.models import utcnow
from monitor.pipeline import PollReport, Runtime, dispatch, open_store, recover, run_source
from monitor.store import Store

log = logging.getLogger(__name__)

DISPATCH_JOB = "dispatch"
HEARTBEAT_JOB = "heartbeat"
WATCH_JOB = "watch"
RETENTION_JOB = "retention"
LEARN_JOB = "learn"
LEARN_EVERY = 300.0  # compile what the matcher learned of the stream, off the polling path
RETENTION_EVERY = 86400.0
RETENTION_FIRST_DELAY = 60.0  # after start-up, leave the first polls alone for a minute
RULE_SUFFIXES = (".yaml", ".yml")
ONCE_WAIT = 300.0  # a daemon starting while `run --once` holds the lock waits this long for it


def _job_id(source: SourceConfig) -> str:
    return f"source:{source.name}"


def _error_lines(exc: ConfigError) -> list[str]:
    """Each error as ``file:line: message`` (one per line, as ConfigError prints them)."""
    errors = exc.errors if isinstance(exc, ConfigErrors) else [exc]
    return [line for e in errors for line in str(e).splitlines() if line.strip()]


def watched_files(config: Config) -> dict[str, tuple[int, int]]:
    """The files a reload would read, with (mtime_ns, size): the config and every rule file."""
    out: dict[str, tuple[int, int]] = {}
    paths: list[Path] = [config.path] if config.path else []
    for root in config.rule_paths:
        if root.is_dir():
            paths.extend(p for p in sorted(root.rglob("*")) if p.suffix in RULE_SUFFIXES)
        else:
            paths.append(root)
    for p in paths:
        try:
            st = p.stat()
        except OSError:
            continue  # a deleted file is simply absent from the snapshot
        out[str(p)] = (st.st_mtime_ns, st.st_size)
    return out


def _scheduler_time(delay: timedelta) -> datetime:
    """A delay measured on the daemon's clock, as a time on the scheduler's own clock.

    The scheduler keeps wall time itself. Handing it an absolute time read from our clock
    would, after a clock jump between the two readings, lose the schedule for the length
    of the jump (forwards) or poll in a tight loop (backwards)."""
    return datetime.now(timezone.utc) + max(delay, timedelta(0))


class Daemon:
    def __init__(self, config_path: str | Path, runtime: Runtime, clock: Callable[[], datetime] = utcnow):
        self.config_path = Path(config_path)
        self.runtime = runtime
        self.clock = clock
        self.store: Store = open_store(runtime.config)
        self.stopping = threading.Event()
        self.scheduler = BackgroundScheduler(
            executors={"default": APThreadPool(max_workers=8), "ops": APThreadPool(max_workers=2)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC",
        )
        self.started_at = clock()
        self.pid = os.getpid()
        self._reload_lock = threading.Lock()
        self._running: dict[str, int] = {}  # job name → running count
        self._idle = threading.Condition()
        self._snapshot: dict[str, tuple[int, int]] = {}
        self._pending_snapshot: dict[str, tuple[int, int]] | None = None
        self._watchdog_every = sdnotify.watchdog_interval()
        self._metrics_server: metrics.MetricsServer | None = None
        self._hits_since_start = 0
        self._failing: set[str] = set()
        self.lock = InstanceLock(runtime.config.db_path)
        hide_secrets(config_secrets(runtime.config))

    # -- bookkeeping of running jobs (for a bounded stop) ---------------------------
    @contextmanager
    def _job(self, name: str) -> Iterator[bool]:
        """Count a running job; yields False when a stop has begun (then do nothing: the
        store may be closing). Counting first and checking second closes the race with stop()."""
        with self._idle:
            self._running[name] = self._running.get(name, 0) + 1
        try:
            yield not self.stopping.is_set()
        finally:
            with self._idle:
                self._running[name] -= 1
                if not self._running[name]:
                    del self._running[name]
                self._idle.notify_all()

    def running_jobs(self) -> list[str]:
        with self._idle:
            return sorted(self._running)

    # -- jobs -----------------------------------------------------------------------
    def _poll(self, name: str) -> None:
        runtime = self.runtime  # one consistent snapshot for the whole poll
        try:
            source = runtime.config.source(name)
        except KeyError:
            return
        with self._job(f"poll {name}") as go:
            if not go:
                return
            started = self.clock()
            report = run_source(runtime, self.store, source, clock=self.clock)
            self._observe_poll(report)
        if report.next_poll_at and not self.stopping.is_set():
            try:
                self.scheduler.modify_job(_job_id(source),
                                          next_run_time=_scheduler_time(report.next_poll_at - started))
            except Exception:  # the job was removed by a reload meanwhile
                pass
        if report.hits and not self.stopping.is_set():
            self._dispatch_soon()

    def _observe_poll(self, report: PollReport) -> None:
        failures = None
        try:
            row = self.store.source_row(report.source)
            failures = int(row["consecutive_failures"]) if row else None
            if row and (row.get("failing") or row.get("disabled_reason")):
                self._failing.add(report.source)
            else:
                self._failing.discard(report.source)
        except Exception:
            log.debug("could not read the state of source %s", report.source, exc_info=True)
        self._hits_since_start += report.hits
        metrics.record_poll(report.source, ok=report.ok, fetched=report.fetched, new_items=report.new_items,
                            hits=report.hits, seconds=report.seconds, consecutive_failures=failures)
        log.debug("source %s polled in %.2fs: %s, %d item(s), %d new, %d hit(s)", report.source, report.seconds,
                  "ok" if report.ok else "failed", report.fetched, report.new_items, report.hits)

    def _dispatch(self) -> None:
        with self._job("dispatch") as go:
            if not go:
                return
            try:
                report = dispatch(self.runtime, self.store, clock=self.clock)
            except Exception:
                log.exception("dispatch round failed; retrying at the next round")
                return
            sent, retried, failed = (getattr(report, k, 0) for k in ("sent", "retried", "failed"))
            metrics.record_dispatch(sent=sent, retried=retried, failed=failed)
            if getattr(report, "claimed", 0):
                log.debug("dispatch round: %d sent, %d to retry, %d given up", sent, retried, failed)

    def _dispatch_soon(self) -> None:
        try:
            self.scheduler.modify_job(DISPATCH_JOB, next_run_time=datetime.now().astimezone())
        except Exception:
            pass

    def heartbeat(self) -> None:
        """Record that we are alive, and tell systemd (WATCHDOG=1, STATUS=)."""
        with self._job("heartbeat") as go:
            if not go:
                return
            try:
                self.store.beat(self.started_at, self.clock(), self._heartbeat_every(), pid=self.pid)
            except Exception as exc:  # the database busy for long: say so, keep running
                log.warning("could not record the heartbeat: %s", exc)
        if self._watchdog_every:
            sdnotify.watchdog()
        sdnotify.status(self.status_line())

    def status_line(self) -> str:
        cfg = self.runtime.config
        line = (f"watching {sum(1 for s in cfg.sources if s.enabled)} source(s) with "
                f"{self.runtime.matcher.rule_count} rule(s); {self._hits_since_start} hit(s) since start")
        if self._failing:
            line += f"; failing: {', '.join(sorted(self._failing))}"
        return line

    def _heartbeat_every(self) -> float:
        every = self.runtime.config.daemon.heartbeat
        if self._watchdog_every:
            every = min(every, self._watchdog_every)
        return every

    def check_files(self) -> bool:
        """One round of the file watch: reload when the config or a rule file changed and
        has stayed the same for one round (an editor may still be writing). True if a
        reload was attempted."""
        if self.stopping.is_set() or not self.runtime.config.rules.watch:
            return False
        now = watched_files(self.runtime.config)
        if now == self._snapshot:
            self._pending_snapshot = None
            return False
        if now != self._pending_snapshot:
            self._pending_snapshot = now  # changed: wait one round for it to settle
            return False
        changed = sorted(set(now) ^ set(self._snapshot) | {k for k in now if self._snapshot.get(k) != now[k]})
        log.info("changed on disk: %s; reloading", ", ".join(changed[:5]) + (" …" if len(changed) > 5 else ""))
        with self._job("reload") as go:
            if go:
                self.reload()
        return True

    def prune(self) -> int:
        """Retention: delete items older than storage.retention that no hit refers to."""
        retention = self.runtime.config.storage.retention
        if not retention:
            return 0
        now = self.clock()
        older_than = now - timedelta(seconds=retention)
        with self._job("retention") as go:
            if not go:
                return 0
            pruned = self.store.prune_items(older_than)
            self.store.record_retention(now, older_than, pruned)
            try:
                self.store.conn.execute("PRAGMA optimize")
            except Exception:
                pass
        if pruned:
            log.info("retention: pruned %d item(s) fetched before %s", pruned, older_than.isoformat(timespec="seconds"))
        return pruned

    def _learn_job(self) -> None:
        """Compile into the matcher's scan the words it learned to skip (see
        ``Matcher.refresh``): here, in the ops executor every few minutes, and nowhere
        else, so polls never wait for it."""
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
        cfg = self.runtime.config
        wanted = {_job_id(s): s for s in cfg.sources if s.enabled}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("source:") and job.id not in wanted:
                job.remove()
                metrics.forget_source(job.id.removeprefix("source:"))
                self._failing.discard(job.id.removeprefix("source:"))
        rows = {r["name"]: r for r in self.store.list_sources()}
        now = self.clock()
        for job_id, source in wanted.items():
            row = rows.get(source.name) or {}
            # never further off than the delay chosen at the last poll: if the clock has been put
            # back since, the stored time lies that much further ahead; do not wait out the jump
            next_at = row.get("next_poll_at") or now
            intended = next_at - (row.get("last_poll_at") or now)
            first = _scheduler_time(min(next_at - now, max(intended, timedelta(0))))
            existing = self.scheduler.get_job(job_id)
            trigger = IntervalTrigger(seconds=source.interval, jitter=int(source.jitter) if source.jitter else None)
            if existing:
                existing.reschedule(trigger)
                existing.modify(next_run_time=first)
            else:
                self.scheduler.add_job(self._poll, trigger, args=[source.name], id=job_id, name=source.name,
                                       next_run_time=first)

    def _schedule_ops(self) -> None:
        """The daemon's own jobs; called at start and after a reload (intervals may change)."""
        cfg = self.runtime.config
        now = datetime.now().astimezone()
        self.scheduler.add_job(self._dispatch, IntervalTrigger(seconds=cfg.notify.interval), id=DISPATCH_JOB,
                               name="dispatch", replace_existing=True, next_run_time=now)
        self.scheduler.add_job(self.heartbeat, IntervalTrigger(seconds=self._heartbeat_every()), id=HEARTBEAT_JOB,
                               name="heartbeat", executor="ops", replace_existing=True, next_run_time=now)
        self.scheduler.add_job(self.check_files, IntervalTrigger(seconds=cfg.daemon.watch_interval), id=WATCH_JOB,
                               name="watch", executor="ops", replace_existing=True,
                               next_run_time=now + timedelta(seconds=cfg.daemon.watch_interval))
        self.scheduler.add_job(self._learn_job, IntervalTrigger(seconds=LEARN_EVERY), id=LEARN_JOB,
                               name="learn", executor="ops", replace_existing=True,
                               next_run_time=now + timedelta(seconds=LEARN_EVERY))
        if cfg.storage.retention:
            if not self.scheduler.get_job(RETENTION_JOB):
                self.scheduler.add_job(self._prune_job, IntervalTrigger(seconds=RETENTION_EVERY), id=RETENTION_JOB,
                                       name="retention", executor="ops",
                                       next_run_time=now + timedelta(seconds=RETENTION_FIRST_DELAY))
        elif self.scheduler.get_job(RETENTION_JOB):
            self.scheduler.remove_job(RETENTION_JOB)

    # -- lifecycle ------------------------------------------------------------------
    def take_lock(self) -> None:
        """The single-instance lock, or AlreadyRunning. A ``run --once`` holding it is
        waited for (it ends by itself); another daemon is refused at once."""
        deadline = time.monotonic() + ONCE_WAIT
        said = False
        while not self.lock.acquire("daemon"):
            holder = self.lock.holder()
            if holder.get("role") != "once" or time.monotonic() > deadline:
                raise self.lock.refusal()
            if not said:
                log.info("waiting for `monitor run --once` (pid %s) to finish on this database", holder.get("pid"))
                said = True
            time.sleep(0.2)

    def start(self) -> None:
        cfg = self.runtime.config
        self.take_lock()
        process.settle()  # the rules and matcher loaded before the daemon was made
        self._snapshot = watched_files(cfg)
        recovered = recover(self.runtime, self.store)
        if recovered:
            log.warning("%d notification(s) were in flight at the last stop; they will be sent again", recovered)
        if cfg.metrics.enabled:
            self._metrics_server = metrics.serve(cfg.metrics.host, cfg.metrics.port)
            metrics.watch_outbox(self.store.outbox_counts)
        metrics.set_rules(self.runtime.matcher.rule_count)
        self._log_channels(cfg)
        self._log_disabled(cfg)
        self._schedule_sources()
        self._schedule_ops()
        self.scheduler.start()
        log.info("monitor running: %d source(s), %d active rule(s), database %s",
                 sum(1 for s in cfg.sources if s.enabled), self.runtime.matcher.rule_count, cfg.db_path)

    @staticmethod
    def _log_channels(cfg: Config) -> None:
        for name, channel in cfg.channels.items():
            if channel.type == "console":
                log.info("channel %s: prints alerts to the terminal", name)
            if channel.type != "console":
                from monitor.notify.channels import transports_for

                for transport in transports_for(name, channel):
                    log.info("channel %s: %s", name, transport.label)

    def _log_disabled(self, cfg: Config) -> None:
        """Say at start which sources are not polled, and why, and how to bring them back."""
        configured = {s.name for s in cfg.sources if s.enabled}
        for d in self.store.disabled_sources():
            if d.name in configured:
                log.warning("source %s is disabled: %s (fix the cause in the config, which enables it again, "
                            "or run `monitor sources enable %s`)", d.name, d.reason, d.name)

    def reload(self) -> bool:
        """Re-read config and rules; on any error keep running on the previous ones."""
        with self._reload_lock:
            sdnotify.reloading()
            snapshot = watched_files(self.runtime.config)
            try:
                with process.compiling():
                    runtime = Runtime.load(self.config_path)
                bad_urls = channel_url_problems(self.config_path)  # they would fail every alert
                if bad_urls:
                    raise bad_urls[0] if len(bad_urls) == 1 else ConfigErrors(bad_urls)
            except ConfigError as exc:
                self._snapshot = snapshot  # do not retry the same broken files every round
                errors = _error_lines(exc)
                for line in errors:
                    log.error("reload refused: %s", line)
                log.error("still running on the previous config and rules (%d error(s) above)", len(errors))
                self._record_reload(False, errors)
                sdnotify.ready(f"reload refused: {errors[0] if errors else exc}")
                return False
            except Exception as exc:  # an unexpected failure must not take the daemon down
                log.exception("reload failed; still running on the previous config and rules")
                self._snapshot = snapshot
                self._record_reload(False, [f"{type(exc).__name__}: {exc}"])
                sdnotify.ready("reload failed")
                return False
            old = self.runtime.config
            hide_secrets(config_secrets(runtime.config))
            self.runtime = runtime
            self._snapshot = watched_files(runtime.config) if runtime.config.rule_paths != old.rule_paths else snapshot
            self.store.sync_sources(runtime.config.sources, fingerprints=runtime.config.source_fingerprints())
            self._schedule_sources()
            self._schedule_ops()
            if (runtime.config.metrics != old.metrics) or (runtime.config.storage.path != old.storage.path):
                log.warning("changes to the metrics and storage sections take effect at the next restart")
            process.settle()
            self._record_reload(True, [])
            metrics.set_rules(runtime.matcher.rule_count)
            log.info("reloaded: %d source(s), %d active rule(s)",
                     sum(1 for s in runtime.config.sources if s.enabled), runtime.matcher.rule_count)
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
        if busy:
            log.info("stopping: waiting up to %.0fs for %s", timeout, ", ".join(busy))
        else:
            log.info("stopping")
        try:
            self.scheduler.shutdown(wait=False)  # no new runs; running ones carry on
        except Exception:
            pass
        with self._idle:
            finished = self._idle.wait_for(lambda: not self._running, timeout=timeout)
        if self._metrics_server is not None:
            self._metrics_server.stop()
            metrics.watch_outbox(None)
        if not finished:
            left = self.running_jobs()
            log.error("stop: %s still running after %.0fs; leaving without them (their work is "
                      "not committed and will be redone at the next start)", ", ".join(left), timeout)
            # mark the clean stop only if the database is free; never wait on a stuck writer
            if self.store.lock.acquire(timeout=2):
                try:
                    self.store.mark_stopped(self.clock(), pid=self.pid)
                except Exception:
                    pass
                finally:
                    self.store.lock.release()
            self.lock.release()
            return False
        try:
            self.store.mark_stopped(self.clock(), pid=self.pid)
        except Exception as exc:
            log.warning("could not record the stop: %s", exc)
        self.store.close()
        self.lock.release()
        log.info("stopped")
        return True

    def serve_forever(self) -> None:
        """Run until SIGTERM / SIGINT; SIGHUP reloads. READY=1 once running."""
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=self._reload_job, daemon=True).start())
        self.start()
        sdnotify.ready(self.status_line())
        try:
            while not self.stopping.wait(1.0):
                pass
        finally:
            clean = self.stop()
        if not clean:
            # worker threads are stuck in a poll: they would keep the interpreter alive
            logging.shutdown()
            os._exit(0)

    def _reload_job(self) -> None:
        log.info("SIGHUP: reloading")
        with self._job("reload") as go:
            if go:
                self.reload()


def run_once(runtime: Runtime, clock: Callable[[], datetime] = utcnow) -> list[PollReport]:
    """Poll every enabled source once (concurrently), then send everything that is due."""
    cfg = runtime.config
    hide_secrets(config_secrets(cfg))
    store = open_store(cfg)
    lock = InstanceLock(cfg.db_path)
    try:
        if lock.acquire("once"):
            recover(runtime, store)
        else:  # a daemon runs on this database: rows in flight are its sends, not a crash's
            log.info("a daemon (pid %s) is running on this database; its in-flight alerts are left to it",
                     lock.holder().get("pid", "?"))
            store.sync_sources(cfg.sources)
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
        lock.release()
