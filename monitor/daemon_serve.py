"""Running a daemon in the foreground: signals in, READY=1 out, a clean stop at the end."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import TYPE_CHECKING

from monitor import sdnotify

if TYPE_CHECKING:
    from monitor.daemon import Daemon


def serve(daemon: Daemon) -> None:
    """Run ``daemon`` until SIGTERM / SIGINT; SIGHUP reloads (on a thread of its own, so the
    handler returns at once). READY=1 once running."""
    signal.signal(signal.SIGTERM, lambda *_: daemon.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: daemon.stopping.set())
    if hasattr(signal, "SIGHUP"):
        signal.signal(
            signal.SIGHUP,
            lambda *_: threading.Thread(target=daemon.reload_job, daemon=True).start(),
        )
    daemon.start()
    sdnotify.ready(daemon.status_line())
    try:
        while not daemon.stopping.wait(1.0):
            pass
    finally:
        clean = daemon.stop()
    if not clean:
        # worker threads are stuck in a poll: they would keep the interpreter alive
        logging.shutdown()
        os._exit(0)
