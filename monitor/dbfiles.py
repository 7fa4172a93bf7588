"""The files of one SQLite database, and the single-instance lock held beside it.

    monitor.db            the database
    monitor.db-wal        its write-ahead log (committed rows not yet in the main file)
    monitor.db-shm        the WAL index
    monitor.db-journal    a rollback journal (when not in WAL mode)
    monitor.db.lock       held by the running daemon (flock), released by the kernel when
                          the process ends, however it ends (SIGKILL included)

Replacing any of the first four destroys the database (``monitor db backup`` refuses them),
and two daemons on one database would each take the other's in-flight deliveries for a
crash's leftovers and send them again (the second daemon is refused).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

from monitor.errors import MonitorError

log = logging.getLogger(__name__)

COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")
LOCK_SUFFIX = ".lock"


def database_files(db: str | Path) -> list[Path]:
    """The database and every file beside it that belongs to it (see the module docstring)."""
    db = Path(db)
    return [db] + [db.with_name(db.name + s) for s in (*COMPANION_SUFFIXES, LOCK_SUFFIX)]


def is_database_file(target: str | Path, db: str | Path) -> bool:
    """True when ``target`` is (by resolved path, links followed, or as the same file on
    disk) the database or one of its companions."""
    target = Path(target)
    resolved = Path(os.path.realpath(target))
    for f in database_files(Path(os.path.realpath(db))):
        if resolved == f:
            return True
        try:
            if target.exists() and f.exists() and os.path.samefile(target, f):
                return True  # a hard link
        except OSError:
            continue
    return False


class AlreadyRunning(MonitorError):
    """Another daemon holds this database's lock."""


class InstanceLock:
    """An exclusive ``flock`` on ``<database>.lock``, held until ``release()`` or the end of
    the process. The file records who holds it (pid, host, role), for the refusal message."""

    def __init__(self, db: str | Path) -> None:
        self.path = Path(db).with_name(Path(db).name + LOCK_SUFFIX)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, role: str = "daemon") -> bool:
        """Take the lock without waiting; False when another process holds it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        info = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "role": role}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, info + b"\n", 0)
        return True

    def holder(self) -> dict[str, Any]:
        """Who holds (or last held) the lock, as recorded in the file; {} if unknown."""
        try:
            found = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def refusal(self) -> AlreadyRunning:
        h = self.holder()
        who = f"pid {h.get('pid', '?')} on {h.get('host', '?')}" if h else "another process"
        return AlreadyRunning(
            f"another monitor daemon ({who}) is already running on this database ({self.path.with_suffix('')}); "
            f"refusing to start a second one, which would send its in-flight alerts again. "
            f"Stop it first, or give this one its own storage.path"
        )

    def acquire_for_daemon(self, wait: float) -> None:
        """Take the lock as the daemon, or raise AlreadyRunning. A ``run --once`` holding it
        is waited for, up to ``wait`` seconds (it ends by itself); another daemon is refused at once."""
        deadline = time.monotonic() + wait
        said = False
        while not self.acquire("daemon"):
            holder = self.holder()
            if holder.get("role") != "once" or time.monotonic() > deadline:
                raise self.refusal()
            if not said:
                log.info(
                    "waiting for `monitor run --once` (pid %s) to finish on this database",
                    holder.get("pid"),
                )
                said = True
            time.sleep(0.2)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def __del__(self) -> None:  # an object dropped without release() must not keep the lock
        try:
            self.release()
        except Exception:
            pass
