"""Load: 500 sources and 10,000 new items in one cycle against 1,000 rules, all from one
local server: every hit recorded exactly once, memory bounded, a few seconds."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from conftest import monitor_cmd
from reliability.helpers import Db, FeedServer, daemon_config, rss, run_measured

SOURCES, ITEMS, RULES = 500, 20, 1000
CONSONANTS, VOWELS = "bdfgklmnprtvz", "aou"


def word(i: int) -> str:
    """The i-th made-up word, CVCVCV: no English suffix for a stemmer to strip, none alike."""
    syllables = [c + v for c in CONSONANTS for v in VOWELS]
    n = len(syllables)
    return syllables[i // (n * n) % n] + syllables[i // n % n] + syllables[i % n]


def write_load_rules(folder: Path) -> None:
    rules = folder / "rules"
    rules.mkdir(parents=True)
    for f in range(10):
        lines = ["rules:"]
        for r in range(f * 100, (f + 1) * 100):
            lines += [
                f"  - id: load-{r:04d}",
                f"    title: Load rule {r}",
                "    severity: low",
                "    match:",
                f"      any: [{word(r)}]",
            ]
        (rules / f"load-{f}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_500_sources_10000_items_1000_rules_every_hit_once_memory_bounded(
    tmp_path: Path, feeds: FeedServer
):
    for n in range(SOURCES):
        items = []
        for j in range(ITEMS):
            k = n * ITEMS + j
            items.append(
                {
                    "guid": f"urn:f{n}:{j}",
                    "title": f"Report #f{n}-{j}",
                    "description": f"Council notes {word(k % RULES)} today.",
                }
            )
        feeds.set_feed(f"/f{n}.xml", rss(items))
    write_load_rules(tmp_path)
    cfg = daemon_config(
        tmp_path,
        sources=[
            {"name": f"f{n}", "kind": "feed", "url": feeds.url(f"/f{n}.xml"), "language": "en"}
            for n in range(SOURCES)
        ],
        routes=[],
    )
    started = time.monotonic()
    code, err, peak_kib = run_measured(
        monitor_cmd("--config", str(cfg), "run", "--once"), tmp_path, timeout=110
    )
    took = time.monotonic() - started
    assert code == 0, err[-3000:]
    assert (
        f"polled {SOURCES} source(s): {SOURCES * ITEMS} new item(s), {SOURCES * ITEMS} hit(s)"
        in err
    ), err[-500:]
    with Db(tmp_path / "data" / "monitor.db") as db:
        assert db.count("items") == SOURCES * ITEMS
        per_item = Counter(i for (i,) in db.conn.execute("SELECT item_id FROM hits"))
        assert len(per_item) == SOURCES * ITEMS and set(per_item.values()) == {1}
        per_rule = Counter(r for (r,) in db.conn.execute("SELECT rule_id FROM hits"))
        assert len(per_rule) == RULES and set(per_rule.values()) == {SOURCES * ITEMS // RULES}
        wrong = db.scalar(
            "SELECT COUNT(*) FROM hits h JOIN items i ON i.id = h.item_id "
            "WHERE CAST(substr(h.rule_id, 6) AS INTEGER) != "
            "(CAST(substr(i.source, 2) AS INTEGER) * 20 + CAST(substr(i.key, instr(substr(i.key, 6), ':') + 6) AS INTEGER)) % 1000"
        )
        assert wrong == 0
        assert (
            db.count("sources", "consecutive_failures = 0 AND last_success_at IS NOT NULL")
            == SOURCES
        )
    print(
        f"\nload: {SOURCES} sources, {SOURCES * ITEMS} items, {RULES} rules: {took:.1f} s, peak RSS {peak_kib / 1024:.0f} MiB"
    )
    assert peak_kib < 250 * 1024, f"peak RSS {peak_kib} KiB"  # measured: 82 MiB
    assert took < 60, took  # measured: 5.6 s on 2 cores
