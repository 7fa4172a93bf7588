"""One story, one alert, across processes: two real processes recording at the same moment
on one database (SQLite's write lock; PostgreSQL's unique constraints and per-rule advisory
locks) make one item, one hit per rule and one alert, never two."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROUNDS = 25


def race(backend, mode: str, sources: tuple[str, str]) -> None:
    """Run two workers for ROUNDS rounds, releasing both at once in each round."""
    backend.open().close()  # the schema exists before the race starts
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(HERE / "race_worker.py"),
                str(backend.target),
                mode,
                s,
                str(ROUNDS),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for s in sources
    ]
    try:
        for n in range(ROUNDS):
            for p in procs:
                line = p.stdout.readline()
                assert line == f"ready {n}\n", (line, p.poll() and p.stderr.read())
            for p in procs:  # both go together
                p.stdin.write("go\n")
            for p in procs:
                p.stdin.flush()
            for p in procs:
                line = p.stdout.readline()
                assert line == f"done {n}\n", (line, p.poll() is not None and p.stderr.read())
        for p in procs:
            p.stdin.close()
            assert p.wait(timeout=60) == 0, p.stderr.read()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


@pytest.mark.slow
def test_the_same_item_polled_by_two_processes_makes_one_item_one_hit_per_rule_one_alert(
    backend,
):
    race(backend, "same-item", ("wire", "wire"))
    with backend.open() as store:
        assert store.count_items() == ROUNDS
        rows = store.query("SELECT rule_id, item_id FROM hits")
        assert len(rows) == 2 * ROUNDS and len({(r["rule_id"], r["item_id"]) for r in rows}) == len(
            rows
        )
        outbox = store.query("SELECT hit_id, channel FROM outbox")
        assert len(outbox) == ROUNDS  # one alert per item and channel, carrying both rules


@pytest.mark.slow
def test_one_story_from_two_sources_recorded_at_once_makes_one_hit_per_rule(backend):
    race(backend, "same-story", ("outlet-a", "outlet-b"))
    with backend.open() as store:
        assert store.count_items() == 2 * ROUNDS  # every copy is stored, and seen
        hits = store.list_hits(limit=None)
        per_story: dict[tuple[str, str], list] = {}
        for h in store.query(
            "SELECT h.rule_id, i.key, h.source, h.also_in FROM hits h JOIN items i ON i.id = h.item_id"
        ):
            n = h["key"].rsplit("-", 1)[1]
            per_story.setdefault((h["rule_id"], n), []).append(h)
        assert len(per_story) == 2 * ROUNDS
        for story, found in per_story.items():
            assert len(found) == 1, (story, found)  # folded, never recorded twice
            (hit,) = found
            other = "outlet-b" if hit["source"] == "outlet-a" else "outlet-a"
            assert other in hit["also_in"], (story, hit)
        assert len(hits) == ROUNDS  # one item per story in the hit list
        assert store.scalar("SELECT COUNT(*) FROM outbox") == ROUNDS  # one alert per story
