"""One of two processes recording at the same moment, for tests/test_record_race.py.

    python race_worker.py TARGET MODE SOURCE ROUNDS

Each round it builds its entry, prints ``ready N`` and waits for a line on stdin (the test
sends it to both processes at once), records the entry through ``pipeline.record`` on its
own store, and prints ``done N``. MODE ``same-item``: both processes bring the same item of
the same source; ``same-story``: each brings its own source's copy of the same story (a
fingerprint one bit apart). Every item fires two rules.
"""

from __future__ import annotations

import random
import sys
from datetime import datetime, timezone

from monitor.config import config_from_dict
from monitor.models import Entry, Item, RuleMatch
from monitor.pipeline import record
from monitor.store import Store

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
RULES = ("r-detainees", "r-release")


def entry(mode: str, source: str, n: int) -> Entry:
    fingerprint = random.Random(n).getrandbits(64) | 1
    if mode == "same-item":
        source, key = "wire", f"k{n}"
    else:
        key = f"{source}-{n}"
        fingerprint ^= 1 if source.endswith("b") else 0
    item = Item(
        source=source,
        key=key,
        title=f"Baku hands over the detained Russians ({n})",
        text="Azerbaijan handed over the eleven Russian citizens.",
        url=f"https://{source}.example.org/{key}",
    )
    matches = [
        RuleMatch(
            rule_id=r,
            rule_title=r,
            severity="high",
            terms=("Baku",),
            spans=((0, 4),),
            snippet="Baku",
        )
        for r in RULES
    ]
    return Entry(item=item, matches=matches, fingerprint=fingerprint)


def main() -> None:
    target, mode, source, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    config = config_from_dict(
        {
            "channels": {"console": {"type": "console"}},
            "routes": [{"channels": ["console"]}],
            "notify": {"cooldown": 0},
        }
    )
    with Store(target) as store:
        for n in range(rounds):
            e = entry(mode, source, n)
            print(f"ready {n}", flush=True)
            sys.stdin.readline()
            record(store, config, [e], NOW)
            print(f"done {n}", flush=True)


if __name__ == "__main__":
    main()
