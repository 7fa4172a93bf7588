"""Scale-out: items per second through the pipeline with 1, 2 and 3 daemons on one PostgreSQL
database, against one daemon on SQLite, in one run; and where the time goes.

    python benchmarks/scaleout.py [--feeds 1000] [--items 10] [--rules 1000]

Real `monitor run` processes, a throwaway PostgreSQL cluster (tests/pgcluster.py) and a
threaded local HTTP server serving every feed. Each leg starts on a fresh database; the
feed server holds every request until all the leg's daemons have said "monitor running"
(so none starts ahead of the others), then lets them through: the clock runs from there
until every item is recorded (fetched, matched against the rules, stored with its hit).

Where the time goes: CPU seconds in the measured window of the daemons, of the PostgreSQL
server processes and of the feed server (this process), against the wall time times the
machine's cores; what is left is waiting (locks, round trips, the scheduler).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from pgcluster import server_bindir, start_cluster  # noqa: E402

CONSONANTS, VOWELS = "bdfgklmnprtvz", "aou"
TICK = os.sysconf("SC_CLK_TCK")


def word(i: int) -> str:
    syllables = [c + v for c in CONSONANTS for v in VOWELS]
    n = len(syllables)
    return syllables[i // (n * n) % n] + syllables[i // n % n] + syllables[i % n]


def write_rules(folder: Path, rules: int) -> None:
    (folder / "rules").mkdir(parents=True, exist_ok=True)
    lines = ["rules:"]
    for r in range(rules):
        lines += [
            f"  - id: r{r:05d}",
            f"    title: Rule {r}",
            "    match:",
            f"      any: [{word(r)}]",
        ]
    (folder / "rules" / "bench.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


class Feeds:
    """Every feed on one threaded server; requests wait at ``gate`` until it opens."""

    def __init__(self, feeds: int, items: int, rules: int) -> None:
        self.gate = threading.Event()
        bodies = {}
        for n in range(feeds):
            entries = "".join(
                f"<item><guid>urn:f{n}:{j}</guid><title>Report {n}-{j}</title>"
                f"<description>Council notes {word((n * items + j) % rules)} today, "
                f"item {j} of feed {n}.</description></item>"
                for j in range(items)
            )
            bodies[f"/f{n}.xml"] = (
                '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>Feed {n}</title><link>https://example.org/</link>{entries}</channel></rss>"
            ).encode()
        gate = self.gate

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                gate.wait()
                body = bodies.get(self.path, b"")
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/f{n}.xml"


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except OSError:
        return 0.0


def postgres_pids(postmaster: int) -> list[int]:
    pids = [postmaster]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == postmaster:
                pids.append(int(entry))
    return pids


class Daemon:
    def __init__(self, folder: Path, config: Path) -> None:
        self.running = threading.Event()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "monitor",
                "--config",
                str(config),
                "--log-format",
                "json",
                "run",
            ],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if "monitor running" in line:
                self.running.set()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def leg(
    backend: str, daemons: int, args: argparse.Namespace, cluster: Any, root: Path
) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"scaleout-{backend}-{daemons}-", dir=root))
    write_rules(folder, args.rules)
    feeds = Feeds(args.feeds, args.items, args.rules)
    if backend == "postgresql":
        name = f"bench_{daemons}"
        url = cluster.createdb(name)
        storage: dict[str, Any] = {"url": url}
    else:
        storage = {"path": "data/monitor.db"}
    config = {
        "storage": storage,
        "rules": {"paths": ["rules"]},
        "http": {"allow_private_networks": True, "timeout": "600s"},
        "sources": [
            {
                "name": f"f{n}",
                "kind": "feed",
                "url": feeds.url(n),
                "interval": "1h",
                "language": "en",
            }
            for n in range(args.feeds)
        ],
        "daemon": {"heartbeat": "2s", "stop_timeout": "10s"},
        "cluster": {"claim_interval": "0.2s"},
    }
    cfg = folder / "config.yaml"
    cfg.write_text(json.dumps(config), encoding="utf-8")
    procs = [Daemon(folder, cfg) for _ in range(daemons)]
    total = args.feeds * args.items
    try:
        for d in procs:
            if not d.running.wait(600):
                raise SystemExit(f"a daemon did not start ({backend}, {daemons})")
        count = _counter(backend, folder, storage)
        pg = postgres_pids(cluster.postmaster_pid()) if backend == "postgresql" else []
        cpu0 = [cpu_seconds(d.proc.pid) for d in procs], sum(map(cpu_seconds, pg)), os.times()
        started = time.monotonic()
        feeds.gate.set()
        while count() < total:
            time.sleep(0.05)
        took = time.monotonic() - started
        pg = postgres_pids(cluster.postmaster_pid()) if backend == "postgresql" else []
        now = os.times()
        daemon_cpu = sum(cpu_seconds(d.proc.pid) for d in procs) - sum(cpu0[0])
        pg_cpu = sum(map(cpu_seconds, pg)) - cpu0[1]
        server_cpu = (now.user + now.system) - (cpu0[2].user + cpu0[2].system)
    finally:
        for d in procs:
            d.stop()
        feeds.httpd.shutdown()
    cores = os.cpu_count() or 1
    return {
        "backend": backend,
        "daemons": daemons,
        "items": total,
        "seconds": took,
        "items_per_s": total / took,
        "daemon_cpu": daemon_cpu,
        "pg_cpu": pg_cpu,
        "server_cpu": server_cpu,
        "idle": max(0.0, 1 - (daemon_cpu + pg_cpu + server_cpu) / (took * cores)),
    }


def _counter(backend: str, folder: Path, storage: dict[str, Any]):
    if backend == "postgresql":
        import psycopg

        conn = psycopg.connect(storage["url"], autocommit=True)
        return lambda: conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    db = sqlite3.connect(str(folder / "data" / "monitor.db"), timeout=30)
    return lambda: db.execute("SELECT COUNT(*) FROM items").fetchone()[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--items", type=int, default=10)
    ap.add_argument("--rules", type=int, default=1000)
    args = ap.parse_args()
    if server_bindir() is None:
        raise SystemExit("PostgreSQL's server binaries are needed (apt-get install postgresql)")
    cluster = start_cluster()
    root = Path(tempfile.mkdtemp(prefix="scaleout-"))
    try:
        results = [leg("sqlite", 1, args, cluster, root)]
        for n in (1, 2, 3):
            results.append(leg("postgresql", n, args, cluster, root))
    finally:
        cluster.stop()
    base = results[0]["items_per_s"]
    print(
        f"scale-out: {args.feeds} feeds x {args.items} items, {args.rules} rules, "
        f"{os.cpu_count()} core(s), load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'backend':<11} {'daemons':>7} {'items':>7} {'seconds':>8} {'items/s':>8} {'ratio':>6}"
        f"   CPU s: {'daemons':>8} {'postgres':>8} {'feeds':>6}  waiting"
    )
    for r in results:
        print(
            f"{r['backend']:<11} {r['daemons']:>7} {r['items']:>7} {r['seconds']:>8.1f} "
            f"{r['items_per_s']:>8.0f} {r['items_per_s'] / base:>6.2f}          "
            f"{r['daemon_cpu']:>8.1f} {r['pg_cpu']:>8.1f} {r['server_cpu']:>6.1f}  {r['idle']:>6.0%}"
        )
    print("ratio: items/s against one daemon on SQLite; waiting: the cores' time nobody used")


if __name__ == "__main__":
    main()
