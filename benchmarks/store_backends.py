"""Recording and reading through the store: SQLite against PostgreSQL, in one run.

    python benchmarks/store_backends.py [--polls 200] [--items 20]

Each poll is one ``pipeline.record`` unit of work: ``--items`` new items, each matched by two
rules with a random fingerprint (so every item probes the story index), routed to one
channel. Then 200 hit-list pages (50 hits, newest first) and 200 searches. SQLite is a
temporary file (synchronous=FULL, as the daemon runs it); PostgreSQL is a throwaway local
cluster (tests/pgcluster.py: Unix socket, fsync off) when the server binaries exist.
Prints items/s, ms per page and per search, and PostgreSQL's figures as a ratio of SQLite's.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import argparse  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

from monitor.config import config_from_dict  # noqa: E402
from monitor.models import Entry, Item, RuleMatch  # noqa: E402
from monitor.pipeline import record  # noqa: E402
from monitor.store import Store  # noqa: E402

WORDS = "Baku Yerevan release transit corridor detainees lease route ministry talks".split()


def entries(rng: random.Random, poll: int, items: int) -> list[Entry]:
    out = []
    for n in range(items):
        words = " ".join(rng.choice(WORDS) for _ in range(12))
        item = Item(
            source=f"feed{poll % 50}",
            key=f"{poll}-{n}",
            title=f"{rng.choice(WORDS)} {rng.choice(WORDS)} {poll}-{n}",
            text=words,
            url=f"https://news.example.org/{poll}/{n}",
        )
        matches = [
            RuleMatch(
                rule_id=f"rule{(poll * items + n + k) % 40}",
                rule_title="A rule",
                severity="high",
                terms=("Baku",),
                spans=((0, 4),),
                snippet="Baku",
            )
            for k in range(2)
        ]
        out.append(Entry(item=item, matches=matches, fingerprint=rng.getrandbits(64) | 1))
    return out


def run(store: Store, polls: int, items: int) -> dict[str, float]:
    rng = random.Random(3)
    config = config_from_dict(
        {
            "channels": {"console": {"type": "console"}},
            "routes": [{"channels": ["console"]}],
            "notify": {"cooldown": 0},
        }
    )
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    batches = [entries(rng, p, items) for p in range(polls)]
    started = time.perf_counter()
    for p, batch in enumerate(batches):
        record(store, config, batch, now + timedelta(seconds=p))
    recorded = time.perf_counter() - started
    started = time.perf_counter()
    for k in range(200):
        store.list_hits(limit=50, offset=(k % 10) * 50)
    pages = time.perf_counter() - started
    started = time.perf_counter()
    for k in range(200):
        store.list_hits(limit=50, search=f"{WORDS[k % len(WORDS)]} OR {WORDS[(k + 3) % 10]}")
    searches = time.perf_counter() - started
    return {
        "items/s": polls * items / recorded,
        "ms/page": pages / 200 * 1000,
        "ms/search": searches / 200 * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--polls", type=int, default=200)
    parser.add_argument("--items", type=int, default=20)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with Store(Path(tempfile.mkdtemp()) / "bench.db") as store:
        results["sqlite"] = run(store, args.polls, args.items)
    try:
        from pgcluster import server_bindir, start_cluster
    except ImportError:
        server_bindir = None  # type: ignore[assignment]
    if server_bindir is not None and server_bindir() is not None:
        cluster = start_cluster()
        try:
            url = cluster.createdb("bench")
            with Store(url) as store:
                results["postgresql"] = run(store, args.polls, args.items)
        finally:
            cluster.stop()
    base = results["sqlite"]
    print(f"{args.polls} polls x {args.items} items, 2 rules each")
    for name, figures in results.items():
        line = "  ".join(f"{k} {v:9.2f}" for k, v in figures.items())
        ratio = "  ".join(f"{k} x{figures[k] / base[k]:.2f}" for k in figures)
        print(f"{name:<11} {line}   vs sqlite: {ratio}")


if __name__ == "__main__":
    main()
