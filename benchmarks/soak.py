"""Soak: the daemon (`monitor run`, a real subprocess) for a set time against feeds that
change, fail and recover at random, with random SIGKILL restarts; then every alert is
accounted for.

    python benchmarks/soak.py                    # 10 minutes
    python benchmarks/soak.py --minutes 3 --seed 7
    python benchmarks/soak.py --seconds 45       # a quick run

Everything is local (127.0.0.1) and seeded:

    feed server     --feeds feeds; every --tick seconds each feed may publish an item (most of
                    them match the one watch rule), or turn to failing — HTTP 500, 503 with
                    Retry-After, a stall past the client's timeout, garbage, a truncated body —
                    and later recover. Items never leave a feed, so each matching item is an
                    alert the daemon owes.
    webhook         apprise json://127.0.0.1:PORT/hook; refuses 10 % of posts (500) and holds
                    some for a moment; counts every accepted alert by its item tag.
    killer          every 8–25 s SIGKILL (now and then SIGTERM) and a restart after 0–2 s. After
                    each SIGKILL the outbox rows left in flight are noted: the documented window
                    in which a duplicate is allowed (sent, but not yet recorded).

At the end the chaos stops, the daemon drains the outbox, and the script prints alerts
expected, delivered (distinct), lost, duplicated (extra copies), how many duplicates the
in-flight window explains, and how many extra copies do not share the first copy's
``Idempotency-Key`` (a receiver could not drop them); the last line is
``expected=N delivered=N lost=0 duplicated=N duplicated_unkeyed=0``.
Exit status 1 if an alert was lost, a duplicate falls outside the window, or a duplicate
does not carry the first copy's key.
"""

from __future__ import annotations

import argparse
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from reliability.helpers import (  # noqa: E402
    FeedServer,
    WebhookSink,
    daemon_config,
    respond,
    rss,
    rss_peak_kib,
    tags_in,
    zebra_items,
)

MODES = ("500", "503", "stall", "garbage", "truncated")


class ChaosFeeds:
    """The feeds' contents and failures, advanced one seeded tick at a time."""

    def __init__(self, server: FeedServer, feeds: int, rng: random.Random) -> None:
        self.server = server
        self.rng = rng
        self.names = [f"feed{i}" for i in range(feeds)]
        self.items: dict[str, list[dict[str, str]]] = {n: [] for n in self.names}
        self.mode: dict[str, str] = dict.fromkeys(self.names, "ok")
        self.expected: set[str] = set()
        self.published = 0
        self.failures = Counter()
        self.stall = threading.Event()  # set at the end: stalled handlers return
        for n in self.names:
            self._serve(n)

    def _serve(self, name: str) -> None:
        body = rss(self.items[name], title=name)
        mode = self.mode[name]
        path = f"/{name}.xml"
        if mode == "ok":
            self.server.set_feed(path, body)
        elif mode == "500":
            self.server.set_handler(
                path, lambda h: respond(h, 500, b"down", content_type="text/plain")
            )
        elif mode == "503":
            self.server.set_handler(
                path, lambda h: respond(h, 503, b"busy", {"Retry-After": "2"}, "text/plain")
            )
        elif mode == "stall":

            def stall(h) -> None:
                h.send_response(200)
                h.send_header("Content-Type", "application/rss+xml")
                h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                h.wfile.write(body[:40])
                h.wfile.flush()
                self.stall.wait(4)  # past the client's 2 s timeout

            self.server.set_handler(path, stall)
        elif mode == "garbage":
            self.server.set_feed(path, b"\x00\xff<html>maintenance</html>")
        elif mode == "truncated":
            self.server.set_feed(path, body[: max(60, len(body) // 3)])

    def tick(self) -> None:
        for name in self.names:
            r = self.rng.random()
            if self.mode[name] != "ok":
                if r < 0.25:
                    self.mode[name] = "ok"  # recovers
            elif r < 0.05:
                self.mode[name] = self.rng.choice(MODES)
                self.failures[self.mode[name]] += 1
            elif r < 0.45:
                n = len(self.items[name])
                match = self.rng.random() < 0.8
                self.items[name] += zebra_items(name, [n], match=match)
                self.published += 1
                if match:
                    self.expected.add(f"{name}-{n}")
            self._serve(name)

    def calm(self) -> None:
        for name in self.names:
            self.mode[name] = "ok"
            self._serve(name)
        self.stall.set()


class Daemon:
    """`monitor run` in a subprocess, its log appended to a file."""

    def __init__(self, workdir: Path, config: Path) -> None:
        self.workdir = workdir
        self.config = config
        self.log = open(workdir / "daemon.log", "a", encoding="utf-8")
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.peak_kib = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(self.config), "run"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self.starts += 1

    def _note_memory(self) -> None:
        try:
            self.peak_kib = max(self.peak_kib, rss_peak_kib(self.proc.pid))
        except OSError:
            pass

    def kill(self) -> None:
        self._note_memory()
        self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self) -> int:
        self._note_memory()
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def inflight_tags(db: Path) -> set[str]:
    if not db.exists():
        return set()
    conn = sqlite3.connect(str(db), timeout=30)
    try:
        rows = conn.execute(
            "SELECT i.title FROM outbox o JOIN hits h ON h.id = o.hit_id JOIN items i ON i.id = h.item_id "
            "WHERE o.status = 'inflight'"
        ).fetchall()
    except sqlite3.OperationalError:
        return set()
    finally:
        conn.close()
    return {t for (title,) in rows for t in tags_in(title)}


def outbox_open(db: Path) -> int:
    conn = sqlite3.connect(str(db), timeout=30)
    try:
        return conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'inflight')"
        ).fetchone()[0]
    finally:
        conn.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seconds", type=float, default=None, help="overrides --minutes (a quick run)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--feeds", type=int, default=8)
    ap.add_argument("--tick", type=float, default=1.0, help="seconds between feed changes")
    ap.add_argument(
        "--keep", action="store_true", help="keep the working folder (config, database, log)"
    )
    args = ap.parse_args()
    duration = args.seconds if args.seconds is not None else args.minutes * 60
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="monitor-soak-"))
    db = workdir / "data" / "monitor.db"

    feeds = FeedServer().start()
    hook = WebhookSink().start()
    hook_rng = random.Random(args.seed + 1)
    hook_lock = threading.Lock()
    refusing = threading.Event()
    refusing.set()

    def gate(payload) -> int:
        with hook_lock:
            r = hook_rng.random()
        if refusing.is_set() and r < 0.10:
            return 500
        if refusing.is_set() and r < 0.20:
            time.sleep(0.2)  # a slow receiver widens the send window the killer may land in
        return 200

    hook.gate = gate
    chaos = ChaosFeeds(feeds, args.feeds, rng)
    config = daemon_config(
        workdir,
        sources=[
            {
                "name": n,
                "kind": "feed",
                "url": feeds.url(f"/{n}.xml"),
                "interval": "1s",
                "jitter": "0.3s",
            }
            for n in chaos.names
        ],
        channels={"hook": {"urls": [hook.url()]}},
        routes=[{"channels": ["hook"]}],
        http={"timeout": "2s", "connect_timeout": "1s"},
        scheduler={"backoff_max": "4s", "failure_threshold": 3},
        notify={"interval": "0.5s", "backoff_base": "0.5s", "backoff_max": "3s", "cooldown": 0},
        daemon={"heartbeat": "2s", "watch_interval": "5s", "stop_timeout": "5s"},
    )
    daemon = Daemon(workdir, config)
    window: set[str] = set()
    kills = terms = 0
    started = time.monotonic()
    print(
        f"soak: {duration:.0f} s, seed {args.seed}, {args.feeds} feeds, working folder {workdir}",
        flush=True,
    )
    daemon.start()
    next_kill = started + rng.uniform(8, 25)
    next_tick = started
    try:
        while time.monotonic() - started < duration:
            now = time.monotonic()
            if now >= next_tick:
                chaos.tick()
                next_tick = now + args.tick
            if now >= next_kill:
                if rng.random() < 0.85:
                    daemon.kill()
                    kills += 1
                    window |= inflight_tags(db)
                else:
                    daemon.stop()
                    terms += 1
                time.sleep(rng.uniform(0, 2))
                daemon.start()
                next_kill = time.monotonic() + rng.uniform(8, 25)
            time.sleep(0.05)

        # the chaos stops; the daemon owes every alert: wait for them (bounded)
        chaos.calm()
        refusing.clear()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            got = set(hook.tag_counts())
            if chaos.expected <= got and outbox_open(db) == 0:
                break
            time.sleep(0.5)
        code = daemon.stop()
    finally:
        if daemon.proc and daemon.proc.poll() is None:
            daemon.proc.kill()
        feeds.stop()
        hook.stop()
        daemon.log.close()

    counts = hook.tag_counts()
    expected = chaos.expected
    delivered = len(expected & set(counts))
    lost = len(expected - set(counts))
    unexpected = len(set(counts) - expected)
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    unkeyed = hook.unkeyed_copies()
    explained = sum(n - 1 for t, n in counts.items() if n > 1 and t in window)
    elapsed = time.monotonic() - started
    print(
        f"ran {elapsed:.0f} s: {daemon.starts} daemon start(s), {kills} SIGKILL, {terms} SIGTERM; "
        f"last stop exit {code}"
    )
    print(
        f"feeds: {chaos.published} item(s) published, failures injected {dict(chaos.failures)}; "
        f"{feeds.requests.total()} request(s) served"
    )
    print(
        f"webhook: {len(hook.answered)} post(s) answered, {sum(1 for _, s in hook.answered if s != 200)} refused"
    )
    print(f"daemon peak RSS {daemon.peak_kib // 1024} MiB (VmHWM, largest of the runs measured)")
    print(
        f"in flight at a SIGKILL: {len(window)} alert(s); duplicates they explain: {explained}; "
        f"alerts not owed: {unexpected}"
    )
    if args.keep:
        print(f"kept {workdir}")
    else:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"expected={len(expected)} delivered={delivered} lost={lost} duplicated={duplicated} "
        f"duplicated_unkeyed={unkeyed}"
    )
    return 0 if lost == 0 and unexpected == 0 and duplicated == explained and unkeyed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
