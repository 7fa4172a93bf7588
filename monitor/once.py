"""`monitor run --once`: every enabled source polled once (concurrently), then everything due sent."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Callable

from monitor.cluster import Member
from monitor.dbfiles import InstanceLock
from monitor.logs import config_secrets, hide_secrets
from monitor.models import utcnow
from monitor.pipeline import (
    PollReport,
    Runtime,
    dispatch,
    open_store,
    recover,
    run_source,
    shares_sources,
)

log = logging.getLogger(__name__)


def run_once(runtime: Runtime, clock: Callable[[], datetime] = utcnow) -> list[PollReport]:
    """Poll every enabled source once (concurrently), then send everything that is due."""
    cfg = runtime.config
    hide_secrets(config_secrets(cfg))
    store = open_store(cfg)
    lock = InstanceLock(cfg.db_path)
    member = Member.join(store, cfg, runtime.rules, role="once", clock=clock)
    try:
        if shares_sources(cfg):  # PostgreSQL: recovery takes only the rows of daemons gone
            recover(runtime, store, clock=clock)
        elif lock.acquire("once"):
            recover(runtime, store, clock=clock)
        else:  # a daemon runs on this database: rows in flight are its sends, not a crash's
            log.info(
                "a daemon (pid %s) is running on this database; its in-flight alerts are left to it",
                lock.holder().get("pid", "?"),
            )
            store.sync_sources(cfg.sources)
        sources = [s for s in cfg.sources if s.enabled]
        with ThreadPoolExecutor(max_workers=min(8, max(1, len(sources)))) as pool:
            reports = list(pool.map(lambda s: run_source(runtime, store, s, clock=clock), sources))
        for _ in range(100):  # bounded: each round sends up to notify.batch rows
            member.beat(cfg, runtime.rules)  # alive while it sends: its claims are its own
            report = dispatch(runtime, store, clock=clock, claimant=member.id)
            if not report.claimed:
                break
        return reports
    finally:
        try:
            member.leave()
        except Exception as exc:  # its lease expires by itself
            log.warning("could not record the end of this run: %s", exc)
        store.close()
        lock.release()
