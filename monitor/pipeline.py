"""The one place the stages meet: fetch → new items → match → record → schedule.

    run_source(runtime, store, source)           one poll of one source
    record(store, config, entries, now)          one unit of work: read, fold, route, write
                                                 (in monitor.pipeline_record)
    dispatch(runtime, store)                     one round of the notification outbox

Everything here is synchronous and driven by the caller (the daemon's scheduler, the CLI,
or a test): no threads, no sleeping. Each failure is recorded once, here.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from monitor import dedup
from monitor.config import Config, SourceConfig, load_config
from monitor.errors import ConfigErrors, FetchError, PermanentFetchError, StoreError
from monitor.matching import Matcher, wordparts
from monitor.models import Entry, Item, utcnow
from monitor.notify import Dispatcher, DispatchReport, announce
from monitor.pipeline_record import record
from monitor.rules import RuleSet, load_rules
from monitor.sources import make_source
from monitor.sources.schedule import next_delay
from monitor.store import Store
from monitor.store import open_store as _open_store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    """Everything a poll needs that comes from files: rebuilt whole on reload, swapped at once."""

    config: Config
    rules: RuleSet
    matcher: Matcher

    @classmethod
    def load(cls, config_path: str | Path) -> "Runtime":
        return cls.from_config(load_config(config_path))

    @classmethod
    def load_checked(cls, config_path: str | Path) -> "Runtime":
        """``load``, refusing channel URLs apprise does not understand (they would fail every alert)."""
        from monitor.check import channel_url_problems

        runtime = cls.load(config_path)
        bad = channel_url_problems(Path(config_path))
        if bad:
            raise bad[0] if len(bad) == 1 else ConfigErrors(bad)
        return runtime

    @classmethod
    def from_config(cls, config: Config) -> "Runtime":
        rules = load_rules(config.rule_paths)
        wordparts.read_cache()  # the words analysed by an earlier process (once a process)
        matcher = Matcher(rules.active())
        wordparts.write_cache()  # only when this compile analysed new words
        return cls(config=config, rules=rules, matcher=matcher)


@dataclass
class PollReport:
    source: str
    ok: bool
    fetched: int = 0
    new_items: int = 0
    hits: int = 0
    folded: int = 0
    not_modified: bool = False
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    next_poll_at: datetime | None = None
    seconds: float = 0.0


def open_store(config: Config) -> Store:
    return _open_store(config)


def shares_sources(config: Config) -> bool:
    """True when several daemons may work on the configured database at once (PostgreSQL):
    they divide the due sources by leases instead of each polling every source."""
    return config.storage.url is not None


def run_source(
    runtime: Runtime, store: Store, source: SourceConfig, clock: Callable[[], datetime] = utcnow
) -> PollReport:
    """Poll one source once and record what it brought. Never raises for a source's fault.

    When the database refuses (locked past the busy timeout, disk full), nothing of the poll
    is kept — its items are not stored as seen — so the next poll brings them again: the
    failure is logged once, counted on the source if the database takes even that, and the
    source is polled again after its backoff.
    """
    started = time.monotonic()
    try:
        return _run_source(runtime, store, source, clock, started)
    except StoreError as exc:
        now = clock()
        reason = f"database: {exc}"
        failures = 0
        delay = next_delay(
            source.interval, source.jitter, 1, backoff_max=runtime.config.scheduler.backoff_max
        )
        next_at = now + timedelta(seconds=delay)
        try:
            failures = store.record_poll_failure(source.name, reason, now, next_at)
        except StoreError:
            pass
        log.error(
            "source %s: poll not recorded, it will be polled again in %.0fs: %s",
            source.name,
            delay,
            reason,
        )
        return PollReport(
            source.name,
            ok=False,
            error=reason,
            next_poll_at=next_at,
            seconds=time.monotonic() - started,
            warnings=[f"{failures} failure(s) in a row"] if failures else [],
        )
    except Exception as exc:  # a fault in recording what a source brought: count it on the source
        return _unexpected_failure(runtime, store, source, clock, started, exc)


def _unexpected_failure(
    runtime: Runtime,
    store: Store,
    source: SourceConfig,
    clock: Callable[[], datetime],
    started: float,
    exc: Exception,
) -> PollReport:
    """Record an unforeseen error like any failed poll, so a source that keeps failing shows
    as failing (rather than as never polled) and backs off; the traceback goes to the log."""
    cfg = runtime.config
    now = clock()
    reason = f"{type(exc).__name__}: {exc}".encode("utf-8", "backslashreplace").decode("utf-8")
    row = store.source_row(source.name)
    failures = row.consecutive_failures if row else 0
    delay = next_delay(
        source.interval, source.jitter, failures + 1, backoff_max=cfg.scheduler.backoff_max
    )
    next_at = now + timedelta(seconds=delay)
    count = store.record_poll_failure(source.name, reason, now, next_at)
    log.error(
        "source %s failed (%d in a row), next try in %.0fs: %s",
        source.name,
        count,
        delay,
        reason,
        exc_info=exc,
    )
    if count == cfg.scheduler.failure_threshold:
        store.set_source_failing(source.name, True)
    return PollReport(
        source.name,
        ok=False,
        error=reason,
        next_poll_at=next_at,
        seconds=time.monotonic() - started,
    )


def _run_source(
    runtime: Runtime,
    store: Store,
    source: SourceConfig,
    clock: Callable[[], datetime],
    started: float,
) -> PollReport:
    cfg = runtime.config
    now = clock()
    row = store.source_row(source.name)
    if row and row.disabled_reason:
        return PollReport(source.name, ok=False, error=f"disabled: {row.disabled_reason}")
    failures = row.consecutive_failures if row else 0
    try:
        src = make_source(source, cfg.http, cfg.base_dir)
        result = src.fetch(store.source_state(source.name))
    except PermanentFetchError as exc:
        reason = str(exc)
        log.error("source %s disabled: %s", source.name, reason)
        store.disable_source(source.name, reason, now)
        announce(
            store,
            cfg,
            f"Source {source.name} was disabled: {reason}",
            title=f"Source disabled: {source.name}",
            now=now,
        )
        return PollReport(source.name, ok=False, error=reason, seconds=time.monotonic() - started)
    except Exception as exc:  # a source's fault, whatever it is, must not stop the others
        reason = str(exc) if isinstance(exc, FetchError) else f"{type(exc).__name__}: {exc}"
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        delay = next_delay(
            source.interval,
            source.jitter,
            failures + 1,
            retry_after=retry_after,
            backoff_max=cfg.scheduler.backoff_max,
        )
        next_at = now + timedelta(seconds=delay)
        count = store.record_poll_failure(source.name, reason, now, next_at)
        log.warning(
            "source %s failed (%d in a row), next try in %.0fs: %s",
            source.name,
            count,
            delay,
            reason,
            exc_info=not isinstance(exc, FetchError),
        )
        if count == cfg.scheduler.failure_threshold:
            store.set_source_failing(source.name, True)
            announce(
                store,
                cfg,
                f"Source {source.name} has failed {count} times in a row. Last error: {reason}",
                title=f"Source failing: {source.name}",
                now=now,
            )
        return PollReport(
            source.name,
            ok=False,
            error=reason,
            next_poll_at=next_at,
            seconds=time.monotonic() - started,
        )

    items = _with_language(result.items, source)
    unseen = store.unseen_keys(source.name, [i.key for i in items]) if items else set()
    entries: list[Entry] = []
    taken: set[str] = set()
    for item in items:
        if item.key not in unseen or item.key in taken:
            continue
        taken.add(item.key)
        matches = runtime.matcher.match(item)
        fp = dedup.fingerprint(item.document) if matches else None
        entries.append(Entry(item=item, matches=matches, fingerprint=fp))
    recorded = record(store, cfg, entries, now)
    delay = next_delay(
        source.interval,
        source.jitter,
        0,
        min_next_poll=result.min_next_poll,
        backoff_max=cfg.scheduler.backoff_max,
    )
    next_at = now + timedelta(seconds=delay)
    recovered = store.record_poll_success(
        source.name, result.state, now, next_at, recorded.new_items
    )
    if recovered:
        log.info("source %s recovered", source.name)
        announce(
            store,
            cfg,
            f"Source {source.name} is being read again.",
            title=f"Source recovered: {source.name}",
            now=now,
        )
    for w in result.warnings:
        log.warning("source %s: %s", source.name, w)
    for hit in recorded.hits:
        log.info("hit #%d %s [%s] %s: %s", hit.id, hit.rule_id, hit.severity, hit.source, hit.title)
    return PollReport(
        source.name,
        ok=True,
        fetched=len(items),
        new_items=recorded.new_items,
        hits=len(recorded.hits),
        folded=len(recorded.folded),
        not_modified=result.not_modified,
        warnings=list(result.warnings),
        next_poll_at=next_at,
        seconds=time.monotonic() - started,
    )


def _with_language(items: list[Item], source: SourceConfig) -> list[Item]:
    if not source.language:
        return items
    return [i if i.language else replace(i, language=source.language) for i in items]


def disabled_sources(store: Store, config: Config) -> list[tuple[str, str]]:
    """(name, reason) of the configured sources that are disabled (not polled), for start-up."""
    configured = {s.name for s in config.sources if s.enabled}
    return [(d.name, d.reason) for d in store.disabled_sources() if d.name in configured]


def retention(store: Store, config: Config, now: datetime) -> int:
    """Delete items fetched longer than storage.retention ago that no hit refers to; record it."""
    if not config.storage.retention:
        return 0
    older_than = now - timedelta(seconds=config.storage.retention)
    pruned = store.prune_items(older_than)
    store.record_retention(now, older_than, pruned)
    store.optimize()
    if pruned:
        log.info(
            "retention: pruned %d item(s) fetched before %s",
            pruned,
            older_than.isoformat(timespec="seconds"),
        )
    return pruned


def dispatch(
    runtime: Runtime,
    store: Store,
    clock: Callable[[], datetime] = utcnow,
    claimant: str | None = None,
) -> DispatchReport:
    """One round of the outbox: send what is due, claimed for ``claimant`` (a daemon's
    registry id). Returns the dispatcher's report."""
    return Dispatcher(runtime.config, store, clock=clock, claimant=claimant).run_once()


def recover(runtime: Runtime, store: Store, clock: Callable[[], datetime] = utcnow) -> int:
    """At start-up: rows a crash left in flight go back to pending (never those of another
    daemon that is alive); sources get their rows."""
    store.sync_sources(runtime.config.sources, fingerprints=runtime.config.source_fingerprints())
    return Dispatcher(runtime.config, store, clock=clock).recover()


def recover_orphans(runtime: Runtime, store: Store, clock: Callable[[], datetime] = utcnow) -> int:
    """While running: deliveries in flight at a daemon whose lease expired go back to pending."""
    return Dispatcher(runtime.config, store, clock=clock).recover_orphans()


__all__ = [
    "Runtime",
    "PollReport",
    "run_source",
    "record",
    "retention",
    "disabled_sources",
    "dispatch",
    "recover",
    "recover_orphans",
    "open_store",
    "shares_sources",
    "StoreError",
]
