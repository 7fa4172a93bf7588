"""Helpers for the fault-injection suite: real local servers whose behaviour a test scripts,
a real `monitor` subprocess, and read-only looks into its database.

    FeedServer     threaded http.server on 127.0.0.1 serving feeds; any path can be given a
                   handler (fail, stall on an Event, stream 100 MB …); counts every request
    WebhookSink    threaded http.server receiving apprise ``json://`` posts; counts alerts
                   by their item tag, can fail or hold a request while the test acts
    Db             a separate sqlite3 connection on the daemon's database (another "process"
                   as far as SQLite locking goes): counts, integrity_check, a held write lock
    blocked_on_lock(pid)   True while a thread of ``pid`` sleeps in SQLite's busy handler

Every wait here is bounded and wakes on an event (a request arrived, a log line was
written); the only polling is of the database or /proc, in short steps, up to a deadline.

Alerts are identified by a tag in the item's title, ``#<source>-<n>``, which the alert
subject carries (``[HIGH] Zebra crossings — wire: Zebra crossing report #wire-3``).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterable
from xml.sax.saxutils import escape

ZEBRA_RULE = """rules:
  - id: zebra-crossing
    title: Zebra crossings
    severity: high
    match:
      any: [zebra crossing]
"""

TAG = re.compile(r"#([A-Za-z0-9_.-]+-\d+)")


def tags_in(text: str) -> list[str]:
    return TAG.findall(text or "")


def write_rules(folder: Path, text: str = ZEBRA_RULE, name: str = "zebra.yaml") -> Path:
    rules = folder / "rules"
    rules.mkdir(parents=True, exist_ok=True)
    (rules / name).write_text(text, encoding="utf-8")
    return rules


def daemon_config(folder: Path, **sections: Any) -> Path:
    """A config for a `monitor run` under test: the zebra rule (unless rules/ exists), private
    addresses allowed (every server is on 127.0.0.1), a fast dispatcher, no cooldown."""
    from yaml_helpers import write_config

    if not (folder / "rules").exists():
        write_rules(folder)
    base: dict[str, Any] = {
        "http": {"allow_private_networks": True, "timeout": "5s", "connect_timeout": "2s"},
        "notify": {
            "interval": "0.2s",
            "backoff_base": "0.2s",
            "backoff_max": "0.5s",
            "cooldown": 0,
        },
        "daemon": {"watch_interval": "1s", "heartbeat": "1s", "stop_timeout": "5s"},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return write_config(folder, **base)


def wait_until(
    predicate: Callable[[], Any], timeout: float, step: float = 0.05, what: str = "condition"
) -> Any:
    """Poll ``predicate`` (a cheap read: the database, /proc) until truthy, at most ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(step)


# -- feeds --------------------------------------------------------------------------------


def rss(items: Iterable[dict[str, str]], title: str = "Wire") -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://wire.example.org/</link><description>t</description>",
    ]
    for it in items:
        parts.append(
            "<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in it.items()) + "</item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def zebra_items(source: str, numbers: Iterable[int], match: bool = True) -> list[dict[str, str]]:
    """Short items (under the near-duplicate detector's minimum length, so each stands alone),
    one hit each for the zebra rule when ``match``."""
    what = "Zebra crossing" if match else "Library hours"
    return [
        {
            "guid": f"urn:{source}:{n}",
            "title": f"{what} report #{source}-{n}",
            "link": f"https://wire.example.org/{source}/{n}",
            "description": "Painted today.",
        }
        for n in numbers
    ]


Handler = Callable[[BaseHTTPRequestHandler], None]


def respond(
    h: BaseHTTPRequestHandler,
    status: int = 200,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    content_type: str = "application/rss+xml",
) -> None:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    if body:
        h.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        import sys

        if not isinstance(
            sys.exc_info()[1], (ConnectionError, TimeoutError)
        ):  # a killed client is expected here
            super().handle_error(request, client_address)


class _Base:
    """A ThreadingHTTPServer on 127.0.0.1 with a condition notified at every request."""

    def __init__(self, handler_cls: type[BaseHTTPRequestHandler], port: int = 0) -> None:
        self.cond = threading.Condition()
        self.httpd = _Server(("127.0.0.1", port), handler_cls)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.released = threading.Event()  # set at stop: every stalled handler returns

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait(
        self, predicate: Callable[[], bool], timeout: float = 20.0, what: str = "server event"
    ) -> None:
        with self.cond:
            if not self.cond.wait_for(predicate, timeout):
                raise AssertionError(f"{what} not seen within {timeout}s")

    def notify(self) -> None:
        with self.cond:
            self.cond.notify_all()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class FeedServer(_Base):
    """Serves ``feeds[path]`` (bytes) or ``handlers[path]``; counts requests per path."""

    def __init__(self, port: int = 0) -> None:
        self.feeds: dict[str, bytes] = {}
        self.handlers: dict[str, Handler] = {}
        self.requests: Counter[str] = Counter()
        self.times: dict[str, list[float]] = {}  # monotonic time of each request, per path
        self.lock = threading.Lock()
        owner = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path
                with owner.cond:
                    owner.requests[path] += 1
                    owner.times.setdefault(path, []).append(time.monotonic())
                    owner.cond.notify_all()
                with owner.lock:
                    handler = owner.handlers.get(path)
                    body = owner.feeds.get(path)
                try:
                    if handler is not None:
                        handler(self)
                    elif body is not None:
                        respond(self, 200, body)
                    else:
                        respond(self, 404, b"", content_type="text/plain")
                except (BrokenPipeError, ConnectionResetError):
                    pass

        super().__init__(H, port)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def set_feed(self, path: str, body: bytes) -> None:
        with self.lock:
            self.handlers.pop(path, None)
            self.feeds[path] = body

    def set_handler(self, path: str, handler: Handler) -> None:
        with self.lock:
            self.handlers[path] = handler

    def count(self, path: str) -> int:
        with self.cond:
            return self.requests[path]


class WebhookSink(_Base):
    """Receives apprise ``json://127.0.0.1:PORT/hook`` posts. ``gate(payload)`` (optional)
    decides each answer: return an HTTP status; it may block (on an Event) first. A post
    is counted as received as soon as its body has been read, before the answer."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.keys: list[str | None] = []  # the Idempotency-Key of each received post, in order
        self.answered: list[tuple[str, int]] = []  # (tags, status) in order
        self.gate: Callable[[dict[str, Any]], int] | None = None
        owner = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                try:
                    payload = json.loads(raw)
                except ValueError:
                    payload = {"raw": raw.decode("utf-8", "replace")}
                gate = owner.gate
                status = gate(payload) if gate else 200
                if status == 200:
                    with owner.cond:
                        owner.received.append(payload)
                        owner.keys.append(self.headers.get("Idempotency-Key"))
                        owner.cond.notify_all()
                with owner.cond:
                    owner.answered.append(((tags_in(payload.get("title", "")) or [""])[0], status))
                    owner.cond.notify_all()
                try:
                    respond(self, status, b"{}", content_type="application/json")
                except (BrokenPipeError, ConnectionResetError):
                    pass

        super().__init__(H, port)

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def tag_counts(self) -> Counter[str]:
        with self.cond:
            return Counter(t for p in self.received for t in tags_in(p.get("title", "")))

    def unkeyed_copies(self) -> int:
        """Extra copies of an alert a receiver could not drop: ones whose Idempotency-Key is
        missing or differs from the first copy's."""
        first: dict[str, str | None] = {}
        extra = 0
        with self.cond:
            for payload, key in zip(self.received, self.keys):
                for tag in tags_in(payload.get("title", "")):
                    if tag not in first:
                        first[tag] = key
                    elif key is None or key != first[tag]:
                        extra += 1
        return extra


# -- the database, from outside the daemon ---------------------------------------------------


class Db:
    """A connection of the test's own on the daemon's database (WAL): reads never block the
    daemon; ``hold_write_lock()`` takes the write lock the way another process would."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.conn = sqlite3.connect(
            str(path), timeout=30, isolation_level=None, check_same_thread=False
        )

    def close(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.conn.close()

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def count(self, table: str, where: str = "1") -> int:
        try:
            return int(self.scalar(f"SELECT COUNT(*) FROM {table} WHERE {where}") or 0)
        except sqlite3.OperationalError:  # the daemon has not created its tables yet
            return 0

    def outbox(self) -> Counter[str]:
        return Counter(
            r[0] for r in self.conn.execute("SELECT status FROM outbox WHERE kind = 'hit'")
        )

    def hit_tags(self) -> Counter[str]:
        rows = self.conn.execute(
            "SELECT i.title FROM hits h JOIN items i ON i.id = h.item_id"
        ).fetchall()
        return Counter(t for (title,) in rows for t in tags_in(title))

    def outbox_tags(self, status: str) -> set[str]:
        rows = self.conn.execute(
            "SELECT i.title FROM outbox o JOIN hits h ON h.id = o.hit_id JOIN items i ON i.id = h.item_id "
            "WHERE o.kind = 'hit' AND o.status = ?",
            (status,),
        ).fetchall()
        return {t for (title,) in rows for t in tags_in(title)}

    def integrity(self) -> str:
        return str(self.scalar("PRAGMA integrity_check"))

    def hold_write_lock(self, exclusive: bool = False) -> None:
        self.conn.execute("BEGIN EXCLUSIVE" if exclusive else "BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def __enter__(self) -> "Db":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def integrity_check(path: Path) -> str:
    with Db(path) as db:
        return db.integrity()


# -- where a process is ------------------------------------------------------------------------

_SLEEP_SYSCALLS = {"35", "230"}  # x86_64 nanosleep, clock_nanosleep: SQLite's busy handler sleeps


def blocked_on_lock(pid: int) -> bool:
    """True when some thread of ``pid`` is sleeping in a nanosleep: in the daemon that is
    SQLite's busy handler waiting for a write lock (every other wait there is a futex)."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                if f.read().split(" ", 1)[0] in _SLEEP_SYSCALLS:
                    return True
        except OSError:
            continue
    return False


def rss_peak_kib(pid: int) -> int:
    """VmHWM (peak resident set) of a live process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


_HOLDER = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
if sys.argv[2] == "write":
    conn.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
else:
    conn.execute("BEGIN")
    print(conn.execute("SELECT COUNT(*) FROM hits").fetchone()[0], flush=True)
sys.stdin.readline()  # hold until the test says so (or closes the pipe)
if sys.argv[2] == "read":
    print(conn.execute("SELECT COUNT(*) FROM hits").fetchone()[0], flush=True)
conn.execute("ROLLBACK")
"""


class SqliteHolder:
    """A second process holding the database: ``write`` holds BEGIN EXCLUSIVE, ``read`` holds
    a read transaction open (and reports the hit count it sees at start and at release)."""

    def __init__(self, path: Path, mode: str) -> None:
        import sys

        self.proc = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(path), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.first = self._line()

    def _line(self) -> str:
        import select

        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        if not ready:
            raise AssertionError("the holder process did not answer within 20s")
        return self.proc.stdout.readline().strip()

    def release(self) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        last = self._line() if self.first.isdigit() else ""
        self.proc.wait(timeout=20)
        return last

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_measured(args: list[str], cwd: Path, timeout: float = 120) -> tuple[int, str, int]:
    """Run a command; return its exit code, stderr and its own peak RSS in KiB (wait4)."""
    with tempfile.TemporaryFile(
        "w+", encoding="utf-8"
    ) as log:  # a file: a full pipe would block the child
        proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log, text=True)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise AssertionError(f"{args} did not finish within {timeout}s")
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        return proc.returncode, log.read(), usage.ru_maxrss
