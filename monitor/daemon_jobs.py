"""The daemon's schedule: one job per source, and its own jobs, on an APScheduler scheduler.

    one job per source ── on the source's own schedule (interval ± jitter); the first run at
                          the time the last poll chose (backoff after failures), never
                          further off than that poll's delay
    dispatch           ── every notify.interval ("default" executor, beside the polls)
    heartbeat, watch,  ── the "ops" executor (2 threads), so slow polls cannot starve them
    learn, retention

Times handed to the scheduler are delays measured on the daemon's clock (``scheduler_time``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from apscheduler.executors.pool import ThreadPoolExecutor as APThreadPool
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import Config, SourceConfig
from monitor.models import SourceStatus

DISPATCH_JOB = "dispatch"
HEARTBEAT_JOB = "heartbeat"
WATCH_JOB = "watch"
RETENTION_JOB = "retention"
LEARN_JOB = "learn"
LEARN_EVERY = 300.0  # compile what the matcher learned of the stream, off the polling path
RETENTION_EVERY = 86400.0
RETENTION_FIRST_DELAY = 60.0  # after start-up, leave the first polls alone for a minute
SOURCE_PREFIX = "source:"


def new_scheduler() -> BackgroundScheduler:
    """Polls on "default" (8 threads), the daemon's own jobs on "ops" (2 threads); a job that
    fell behind runs once, never two at a time."""
    return BackgroundScheduler(
        executors={"default": APThreadPool(max_workers=8), "ops": APThreadPool(max_workers=2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone="UTC",
    )


def job_id(source: SourceConfig) -> str:
    return f"{SOURCE_PREFIX}{source.name}"


def scheduler_time(delay: timedelta) -> datetime:
    """A delay measured on the daemon's clock, as a time on the scheduler's own clock.

    The scheduler keeps wall time itself. Handing it an absolute time read from our clock
    would, after a clock jump between the two readings, lose the schedule for the length
    of the jump (forwards) or poll in a tight loop (backwards)."""
    return datetime.now(timezone.utc) + max(delay, timedelta(0))


def schedule_sources(
    scheduler: BackgroundScheduler,
    sources: Iterable[SourceConfig],
    rows: Mapping[str, SourceStatus],
    now: datetime,
    poll: Callable[[str], None],
) -> list[str]:
    """One job per enabled source, ``poll(name)``; jobs of sources no longer enabled are
    removed. Returns the names of the sources whose jobs were removed."""
    wanted = {job_id(s): s for s in sources if s.enabled}
    removed = []
    for job in scheduler.get_jobs():
        if job.id.startswith(SOURCE_PREFIX) and job.id not in wanted:
            job.remove()
            removed.append(job.id.removeprefix(SOURCE_PREFIX))
    for jid, source in wanted.items():
        row = rows.get(source.name)
        # never further off than the delay chosen at the last poll: if the clock has been put
        # back since, the stored time lies that much further ahead; do not wait out the jump
        next_at = (row.next_poll_at if row else None) or now
        intended = next_at - ((row.last_poll_at if row else None) or now)
        first = scheduler_time(min(next_at - now, max(intended, timedelta(0))))
        existing = scheduler.get_job(jid)
        trigger = IntervalTrigger(
            seconds=source.interval, jitter=int(source.jitter) if source.jitter else None
        )
        if existing:
            existing.reschedule(trigger)
            existing.modify(next_run_time=first)
        else:
            scheduler.add_job(
                poll, trigger, args=[source.name], id=jid, name=source.name, next_run_time=first
            )
    return removed


@dataclass(frozen=True)
class OpsJobs:
    """What the daemon's own jobs run."""

    dispatch: Callable[[], object]
    heartbeat: Callable[[], object]
    check_files: Callable[[], object]
    learn: Callable[[], object]
    prune: Callable[[], object]


def schedule_ops(
    scheduler: BackgroundScheduler, cfg: Config, heartbeat_every: float, jobs: OpsJobs
) -> None:
    """The daemon's own jobs; called at start and after a reload (intervals may change)."""
    now = datetime.now().astimezone()
    scheduler.add_job(
        jobs.dispatch,
        IntervalTrigger(seconds=cfg.notify.interval),
        id=DISPATCH_JOB,
        name="dispatch",
        replace_existing=True,
        next_run_time=now,
    )
    scheduler.add_job(
        jobs.heartbeat,
        IntervalTrigger(seconds=heartbeat_every),
        id=HEARTBEAT_JOB,
        name="heartbeat",
        executor="ops",
        replace_existing=True,
        next_run_time=now,
    )
    scheduler.add_job(
        jobs.check_files,
        IntervalTrigger(seconds=cfg.daemon.watch_interval),
        id=WATCH_JOB,
        name="watch",
        executor="ops",
        replace_existing=True,
        next_run_time=now + timedelta(seconds=cfg.daemon.watch_interval),
    )
    scheduler.add_job(
        jobs.learn,
        IntervalTrigger(seconds=LEARN_EVERY),
        id=LEARN_JOB,
        name="learn",
        executor="ops",
        replace_existing=True,
        next_run_time=now + timedelta(seconds=LEARN_EVERY),
    )
    if cfg.storage.retention:
        if not scheduler.get_job(RETENTION_JOB):
            scheduler.add_job(
                jobs.prune,
                IntervalTrigger(seconds=RETENTION_EVERY),
                id=RETENTION_JOB,
                name="retention",
                executor="ops",
                next_run_time=now + timedelta(seconds=RETENTION_FIRST_DELAY),
            )
    elif scheduler.get_job(RETENTION_JOB):
        scheduler.remove_job(RETENTION_JOB)
