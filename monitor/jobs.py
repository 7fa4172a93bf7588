"""Counting the daemon's running jobs, so a stop can wait for them for a bounded time."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator


class JobTracker:
    def __init__(self, stopping: threading.Event) -> None:
        self.stopping = stopping
        self._running: dict[str, int] = {}  # job name → running count
        self._idle = threading.Condition()

    @contextmanager
    def track(self, name: str) -> Iterator[bool]:
        """Count a running job; yields False when a stop has begun (then do nothing: the
        store may be closing). Counting first and checking second closes the race with a stop."""
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

    def running(self) -> list[str]:
        with self._idle:
            return sorted(self._running)

    def wait_idle(self, timeout: float) -> bool:
        """True when no job is running (any more) within ``timeout`` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._running, timeout=timeout)
