"""Scale-out: three `monitor run` daemons on one PostgreSQL database divide 2,000 feeds
(one local HTTP server) matched against 1,000 rules; one daemon is SIGKILLed mid-run.

    every item stored once and matched once (one hit per item, by the rule its word names)
    every alert delivered (a real apprise json:// receiver); a second copy only with the
        first copy's Idempotency-Key (the documented window: sent, not yet recorded)
    the dead daemon's sources (its leases at the kill) polled again, by the others, within
        the lease expiry (3 s here) and a claim round
    `monitor status` then lists the two live daemons, on one rule set

Short intervals (heartbeat 1 s, lease 3 s, claim every 0.2 s) keep it well under a minute.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from conftest import monitor_cmd
from helpers_ops import MonitorProcess
from reliability.helpers import FeedServer, WebhookSink, daemon_config, respond, rss, wait_until
from reliability.test_load import word

SOURCES, ITEMS, RULES = 2000, 2, 1000
LEASE, CLAIM_EVERY = 3.0, 0.2
LATENCY = 0.02  # each feed answers after 20 ms
SLOW, SLOW_LATENCY = 25, 1.5  # every 25th feed after 1.5 s: the kill finds its daemon mid-poll

pytestmark = [pytest.mark.slow, pytest.mark.scale, pytest.mark.timeout(240)]


def _rule_of(k: int) -> int:
    return k % RULES


def _alerted(r: int) -> bool:
    return r % 4 == 0  # a quarter of the rules are severity high, and only those alert


def write_rules(folder: Path) -> None:
    rules = folder / "rules"
    rules.mkdir(parents=True)
    for f in range(10):
        lines = ["rules:"]
        for r in range(f * 100, (f + 1) * 100):
            lines += [
                f"  - id: scale-{r:04d}",
                f"    title: Scale rule {r}",
                f"    severity: {'high' if _alerted(r) else 'low'}",
                "    match:",
                f"      any: [{word(r)}]",
            ]
        (rules / f"scale-{f}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def serve_feeds(feeds: FeedServer) -> None:
    for n in range(SOURCES):
        items = [
            {
                "guid": f"urn:f{n}:{j}",
                "title": f"Report #f{n}-{j}",
                "description": f"Council notes {word(_rule_of(n * ITEMS + j))} today.",
            }
            for j in range(ITEMS)
        ]
        body, etag = rss(items), f'"f{n}-v1"'

        def feed(h, body: bytes = body, etag: str = etag, wait: float = LATENCY) -> None:
            time.sleep(wait)
            if h.headers.get("If-None-Match") == etag:
                respond(h, 304)
            else:
                respond(h, 200, body, headers={"ETag": etag})

        if n % SLOW == 0:
            feed = functools.partial(feed, wait=SLOW_LATENCY)
        feeds.set_handler(f"/f{n}.xml", feed)


def test_three_daemons_one_killed_every_item_matched_and_alerted_once(
    tmp_path: Path, feeds: FeedServer, webhook: WebhookSink, pg_cluster, pg_template
):
    import psycopg

    name = f"scale_{uuid.uuid4().hex[:8]}"
    url = pg_cluster.clone(pg_template, name)
    serve_feeds(feeds)
    write_rules(tmp_path)
    cfg = daemon_config(
        tmp_path,
        storage={"url": url},
        sources=[
            {"name": f"f{n}", "kind": "feed", "url": feeds.url(f"/f{n}.xml"), "interval": "1h"}
            for n in range(SOURCES)
        ],
        channels={"hook": {"urls": [webhook.url()]}},
        routes=[{"channels": ["hook"], "min_severity": "high"}],
        notify={"batch": 500},
        daemon={"heartbeat": "1s"},
        cluster={"lease": f"{LEASE}s", "claim_interval": f"{CLAIM_EVERY}s"},
    )
    expected_tags = {
        f"f{n}-{j}"
        for n in range(SOURCES)
        for j in range(ITEMS)
        if _alerted(_rule_of(n * ITEMS + j))
    }
    assert len(expected_tags) == SOURCES * ITEMS // 4

    db = psycopg.connect(url, autocommit=True)

    def one(sql: str, *params):
        return db.execute(sql, params).fetchone()[0]

    started = time.monotonic()
    daemons = [MonitorProcess(tmp_path, cfg) for _ in range(3)]
    try:
        for d in daemons:
            d.wait_for("monitor running", timeout=90)
        running = time.monotonic()
        wait_until(
            lambda: one("SELECT COUNT(*) FROM sources WHERE last_success_at IS NOT NULL") >= 600,
            60,
            what="a third of the sources polled",
        )
        # the victim: a daemon in the middle of polling a slow feed
        victim_id, victim_pid = wait_until(
            lambda: db.execute(
                """SELECT d.id, d.pid FROM daemons d JOIN source_leases l ON l.daemon = d.id
                   JOIN sources s ON s.name = l.source
                   WHERE d.stopped_at IS NULL AND s.last_success_at IS NULL
                     AND l.expires_at > now() AND CAST(substr(l.source, 2) AS integer) %% %s = 0
                   ORDER BY l.claimed_at DESC LIMIT 1""",
                (SLOW,),
            ).fetchone(),
            30,
            what="a daemon polling a slow feed",
        )
        victim = next(d for d in daemons if d.proc.pid == victim_pid)
        victim.proc.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        assert victim.proc.wait(timeout=10) == -9
        # its sources: leases it held on sources whose poll it had not recorded (one it had
        # recorded but not yet let go of is not due again, and rightly waits its interval)
        held = [
            r[0]
            for r in db.execute(
                """SELECT l.source FROM source_leases l JOIN sources s ON s.name = l.source
                   WHERE l.daemon = %s AND s.last_success_at IS NULL""",
                (victim_id,),
            ).fetchall()
        ]
        assert held, "the killed daemon was polling nothing"
        polled_by_victim = one(
            "SELECT COUNT(*) FROM sources WHERE last_success_at IS NOT NULL"
        )  # at least its share so far, and everything the others did

        wait_until(
            lambda: (
                one("SELECT COUNT(*) FROM sources WHERE last_success_at IS NOT NULL") == SOURCES
            ),
            90,
            what="every source polled",
        )
        wait_until(
            lambda: (
                one("SELECT COUNT(*) FROM outbox WHERE kind = 'hit' AND status = 'sent'")
                == len(expected_tags)
            ),
            60,
            what="every alert sent",
        )
        took = time.monotonic() - started

        # every item stored once, matched once, by the rule its word names
        assert one("SELECT COUNT(*) FROM items") == SOURCES * ITEMS
        rows = db.execute("SELECT h.rule_id, i.key FROM hits h JOIN items i ON i.id = h.item_id")
        per_item: Counter[str] = Counter()
        for rule_id, key in rows.fetchall():
            _, n, j = key.split(":")  # urn:f<n>:<j>
            assert int(rule_id.removeprefix("scale-")) == _rule_of(int(n[1:]) * ITEMS + int(j))
            per_item[key] += 1
        assert len(per_item) == SOURCES * ITEMS and set(per_item.values()) == {1}
        assert one("SELECT COUNT(*) FROM outbox WHERE kind = 'hit'") == len(expected_tags)

        # every alert delivered; a copy only with the first copy's key
        wait_until(
            lambda: set(webhook.tag_counts()) == expected_tags, 30, what="every alert received"
        )
        received = webhook.tag_counts()
        assert webhook.unkeyed_copies() == 0
        assert max(received.values()) <= 2, received.most_common(3)

        # the dead daemon's sources: polled again by the others within the lease expiry
        for source in held:
            after = [t for t in feeds.times[f"/{source}.xml"] if t > killed_at]
            assert after, f"{source} was not polled again after the kill"
            assert after[0] - killed_at <= LEASE + 2 * CLAIM_EVERY + 1.0, (
                source,
                after[0] - killed_at,
            )
        assert one("SELECT COUNT(*) FROM source_leases WHERE daemon = %s", victim_id) == 0

        # status: two live daemons, one rule set
        status = subprocess.run(
            monitor_cmd("--config", str(cfg), "status", "--json"),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env={**os.environ},
        )
        data = json.loads(status.stdout)
        live = {d["pid"] for d in data["daemons"] if d["role"] == "daemon"}
        assert live == {d.proc.pid for d in daemons if d is not victim}
        assert data["rule_sets_differ"] is False and data["daemon"]["running"] is True
        for d in daemons:
            if d is not victim:
                assert d.stop() == 0
        print(
            f"\nscale: {SOURCES} feeds, {SOURCES * ITEMS} items, {RULES} rules, 3 daemons "
            f"(one killed after {polled_by_victim} sources, polling {len(held)}): {took:.1f} s "
            f"(start-up {running - started:.1f} s), "
            f"{len(expected_tags)} alerts, {sum(received.values()) - len(received)} keyed copies"
        )
        assert took < 120, took
    finally:
        for d in daemons:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()
        db.close()
        pg_cluster.drop(name)
