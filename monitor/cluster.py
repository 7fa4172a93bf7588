"""Several daemons on one database: who this process is, and how it takes its share.

    Member.join(store, runtime, role)   this process in the registry (store/daemons.py): an id,
                                        host, pid, version and the digest of its rule set
    Member.beat(runtime)                every heartbeat: its lease and its sources' leases move
                                        on; deliveries left in flight by a daemon that is gone
                                        go back to pending, for whoever sends next
    Member.leave()                      a clean stop: no longer alive, its leases let go
    ClaimLoop                           polling by leases: claim due sources (store/leases.py)
                                        up to the free workers, poll each, release it

Every daemon runs the same loop on the same table, so the sources spread over the daemons
that are alive; one that dies stops beating, its leases expire after ``cluster.lease``, and
the sources it was polling are due again for the others. ``rules_digest`` is what
``monitor status`` compares to warn that the daemons run different rule sets.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from monitor import __version__
from monitor.config import Config
from monitor.models import utcnow
from monitor.rules import RuleSet
from monitor.store import Store

log = logging.getLogger(__name__)

POLL_WORKERS = 8  # polls running at once in one daemon


def rules_digest(rules: RuleSet) -> str:
    """A digest of what the active rules match and say (not where they are written), the
    same on every machine that loaded the same rules."""
    h = hashlib.sha256()
    for r in sorted(rules.active(), key=lambda r: r.id):
        h.update(repr((r.id, r.title, r.severity, r.tags, r.language, r.match)).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:16]


def new_daemon_id() -> str:
    """``host-pid-random``: readable in `monitor status`, never reused by a restart."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def process_alive(pid: int) -> bool:
    """False only when this machine surely has no such process (a pid of another host, or
    one we may not signal, counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def mark_dead_processes(store: Store, now: datetime) -> list[str]:
    """Daemons of the registry on this host whose process is gone (SIGKILL, a crash) are
    gone now, without waiting for their lease: their claims are free at once. Returns
    their ids."""
    host = socket.gethostname()
    dead = [
        d.id
        for d in store.live_daemons(now)
        if d.host == host and d.pid != os.getpid() and not process_alive(d.pid)
    ]
    for daemon_id in dead:
        store.daemon_stopped(daemon_id, now)
        log.info("daemon %s on this host is gone (no such process); its leases are free", daemon_id)
    return dead


@dataclass
class Member:
    """This process in the daemon registry."""

    store: Store
    id: str
    role: str
    lease: float
    clock: Callable[[], datetime] = utcnow
    _digest: str = field(default="", repr=False)
    # one beat at a time: the scheduled heartbeat and a beat asked for directly must not
    # both find the lease gone and enter the registry twice
    _beating: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def join(
        cls,
        store: Store,
        config: Config,
        rules: RuleSet,
        role: str = "daemon",
        clock: Callable[[], datetime] = utcnow,
    ) -> "Member":
        member = cls(store, new_daemon_id(), role, config.lease_seconds, clock)
        mark_dead_processes(store, clock())
        member._register(rules)
        return member

    def _register(self, rules: RuleSet) -> None:
        self._digest = rules_digest(rules)
        self.store.register_daemon(
            daemon_id=self.id,
            host=socket.gethostname(),
            pid=os.getpid(),
            version=__version__,
            role=self.role,
            rules_hash=self._digest,
            rule_count=len(rules.active()),
            now=self.clock(),
            lease=self.lease,
        )

    def beat(self, config: Config, rules: RuleSet) -> int:
        """Renew the leases (re-entering the registry if they ran out meanwhile); bring back
        the deliveries of daemons that are gone. Returns how many were brought back."""
        with self._beating:
            return self._beat(config, rules)

    def _beat(self, config: Config, rules: RuleSet) -> int:
        self.lease = config.lease_seconds
        digest = rules_digest(rules)
        alive = self.store.beat_daemon(
            self.id, self.clock(), self.lease, rules_hash=digest, rule_count=len(rules.active())
        )
        if not alive:
            log.warning(
                "this daemon's lease ran out (no heartbeat for %.0fs): another daemon may have "
                "taken its sources meanwhile; entering the registry again",
                self.lease,
            )
            self.id = new_daemon_id()
            self._register(rules)
        self._digest = digest
        mark_dead_processes(self.store, self.clock())
        return self.store.recover_inflight(self.clock(), unregistered=False)

    def leave(self) -> None:
        self.store.daemon_stopped(self.id, self.clock())


class ClaimLoop:
    """Polling by leases, on one thread of its own and a pool of ``workers`` poll threads.

    It holds at most ``workers`` sources at a time (running or about to run) and claims more
    when half of them are done, or every ``interval`` seconds while it has room: few claim
    transactions when the sources are many, and an idle daemon asks again soon. A source is
    released once its poll is recorded, so its ``next_poll_at`` has moved on."""

    def __init__(
        self,
        store: Store,
        member: Member,
        poll: Callable[[str], None],
        names: Callable[[], list[str]],
        interval: Callable[[], float],
        *,
        workers: int = POLL_WORKERS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.member = member
        self.poll = poll
        self.names = names
        self.interval = interval
        self.workers = workers
        self.clock = clock
        self.stopping = threading.Event()
        self._cond = threading.Condition()
        self._held = 0  # claimed, not yet released
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"poll-{member.id}")
        self._thread = threading.Thread(target=self._loop, name="claim", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """No more claims; polls not started yet are dropped (their leases go with the
        daemon's); running ones finish (the daemon's stop waits for them)."""
        self.stopping.set()
        with self._cond:
            self._cond.notify_all()
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)  # a claim in progress ends before the store is closed

    @property
    def held(self) -> int:
        with self._cond:
            return self._held

    def claim_once(self) -> tuple[int, list[str]]:
        """One claim for the room there is; the claimed polls are started. Returns the room
        and the names claimed."""
        with self._cond:
            room = self.workers - self._held
        if room <= 0 or self.stopping.is_set():
            return room, []
        names = self.store.claim_sources(
            self.member.id, self.names(), self.clock(), self.member.lease, room
        )
        for name in names:
            with self._cond:
                self._held += 1
            try:
                self._pool.submit(self._run, name)
            except RuntimeError:  # the pool was shut down by a stop meanwhile
                self._done()
        return room, names

    def _run(self, name: str) -> None:
        try:
            self.poll(name)
        except Exception:  # run_source records a source's faults; this is anything else
            log.exception("poll of source %s failed", name)
        finally:
            try:
                self.store.release_source(self.member.id, name)
            except Exception as exc:  # its lease expires by itself
                log.warning("could not release source %s: %s", name, exc)
            self._done()

    def _done(self) -> None:
        with self._cond:
            self._held -= 1
            self._cond.notify_all()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                room, claimed = self.claim_once()
            except Exception as exc:
                log.warning("could not claim sources: %s", exc)
                room, claimed = 1, []
            with self._cond:
                if room <= 0 or (claimed and len(claimed) == room):
                    # as many were due as there was room for (more may be), or no room:
                    # ask again when half the room is free
                    self._cond.wait_for(
                        lambda: self.stopping.is_set() or self._held <= self.workers // 2,
                        timeout=self.interval(),
                    )
                else:  # nothing more is due now (or no room): ask again after the interval
                    self._cond.wait_for(self.stopping.is_set, timeout=self.interval())
