"""The same-story lookup: the fingerprint probe index against reading every hit of the rule.

    python benchmarks/story_window.py

For 100 to 10,000 hits of one rule inside the dedup window (random 64-bit fingerprints, a
temporary SQLite file), 300 lookups of unrelated fingerprints each way: the unit of work's
indexed ``story_candidates`` + ``dedup.earlier_copies`` + ``story_hits``, and the scan the
store did before (every hit of the rule in the window, compared in Python). Prints ms per
lookup, candidates per lookup and the ratio.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

from monitor import dedup  # noqa: E402
from monitor.config import Config  # noqa: E402
from monitor.models import Entry, Item, RuleMatch  # noqa: E402
from monitor.pipeline import record  # noqa: E402
from monitor.store import Store  # noqa: E402


def main() -> None:
    rng = random.Random(1)
    m = RuleMatch(
        rule_id="r", rule_title="R", severity="low", terms=("x",), spans=((0, 1),), snippet="x"
    )
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    since = now - timedelta(days=3)
    for n in (100, 1000, 3000, 10000):
        store = Store(Path(tempfile.mkdtemp()) / "m.db")
        store.conn.execute("PRAGMA synchronous = OFF")
        record(
            store,
            Config(),
            [
                Entry(
                    Item(source="s", key=f"k{i}", title=f"t{i}", text="x"),
                    [m],
                    rng.getrandbits(64) | 1,
                )
                for i in range(n)
            ],
            now,
        )
        probes = [rng.getrandbits(64) | 1 for _ in range(300)]
        t = time.perf_counter()
        cand = 0
        with store.unit_of_work() as uow:
            for fp in probes:
                c = uow.story_candidates(["r"], dedup.probe_keys(fp), since)
                cand += len(c)
                copies = dedup.earlier_copies(fp, [m], c)
                uow.story_hits(copies.values())
        new = (time.perf_counter() - t) / len(probes)
        t = time.perf_counter()
        for fp in probes:  # the old way: every hit of the rule in the window, compared in Python
            rows = store.conn.execute(
                "SELECT h.id, h.item_id, i.story_id, h.also_in, h.source, i.fingerprint FROM hits h JOIN items i ON i.id = h.item_id WHERE h.rule_id = ? AND h.created_at >= ? AND i.fingerprint IS NOT NULL ORDER BY h.id",
                ("r", since.isoformat()),
            ).fetchall()
            any(dedup.similar(fp, f[5]) for f in rows)
        old = (time.perf_counter() - t) / len(probes)
        print(
            f"{n:>6} hits of the rule in the window: probe index {new * 1e3:.2f} ms/lookup ({cand / len(probes):.0f} candidates), full scan {old * 1e3:.2f} ms; scan/index {old / new:.1f}x"
        )


if __name__ == "__main__":
    main()
