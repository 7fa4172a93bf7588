"""Recording a poll: the store's unit of work, the pure fold and router, one alert per item."""

from __future__ import annotations

import io
import json
import random
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from helpers_notify import T0, make_config
from monitor import dedup
from monitor.cli import cli
from monitor.models import (
    AlertedHit,
    Entry,
    Hit,
    Item,
    RuleMatch,
    Silence,
    StoryCandidate,
    StoryHit,
)
from monitor.errors import StoreError
from monitor.notify import Dispatcher, router
from monitor.pipeline import record
from monitor.store import Store, open_store

CHANNELS = {"console": {"type": "console"}, "email": {"type": "console"}}


def match(rule_id: str, severity: str, title: str | None = None) -> RuleMatch:
    return RuleMatch(
        rule_id=rule_id,
        rule_title=title or f"Rule {rule_id}",
        severity=severity,
        terms=("Baku",),
        spans=((0, 4),),
        snippet="**Baku** agrees",
        why=f"{rule_id} fired",
    )


def item(
    key: str, source: str = "wire", title: str = "Baku agrees to free the eleven Russians"
) -> Item:
    return Item(
        source=source,
        key=key,
        title=title,
        text="Officials in Baku said the detainees go home.",
        url=f"https://news.example.org/{key}",
    )


# -- the band index -------------------------------------------------------------------------


def test_every_fingerprint_within_the_threshold_is_probed_and_few_others_are():
    rng = random.Random(5)
    for _ in range(2000):
        a = rng.getrandbits(64) or 1
        flips = rng.sample(range(64), rng.randint(0, dedup.THRESHOLD))
        b = a
        for bit in flips:
            b ^= 1 << bit
        if not b:
            continue
        assert set(dedup.probe_keys(a)) & set(dedup.bands(b)), (hex(a), flips)
    a = rng.getrandbits(64) | 1
    assert len(dedup.bands(a)) == 5 and len(dedup.probe_keys(a)) == 447
    unrelated = [rng.getrandbits(64) | 1 for _ in range(3000)]
    probed = set(dedup.probe_keys(a))
    share = sum(1 for u in unrelated if probed & set(dedup.bands(u))) / len(unrelated)
    assert share < 0.08, share  # about 6.4 % expected
    assert dedup.bands(0) == () and dedup.bands(None) == () and dedup.probe_keys(0) == ()


def test_story_candidates_come_from_the_index_and_fold_confirms_them(backend, tmp_path):
    config = make_config(backend, CHANNELS, [{"channels": ["console"]}])
    store = open_store(config)
    fp = 0x0123_4567_89AB_CDEF
    near = fp ^ 0b1011_0000_0000_0000_0000_0000_0000_0111  # 6 bits away
    far = fp ^ ((1 << 64) - 1)  # every bit differs: no band in common
    first = record(store, config, [Entry(item("a", "wire"), [match("r1", "high")], fp)], T0)
    (earlier,) = first.hits
    with store.unit_of_work() as uow:
        found = uow.story_candidates(["r1"], dedup.probe_keys(near), T0 - timedelta(days=1))
        assert found == [StoryCandidate(earlier.id, "r1", fp)]
        assert uow.story_candidates(["r1"], dedup.probe_keys(far), T0 - timedelta(days=1)) == []
        assert uow.story_candidates(["r2"], dedup.probe_keys(near), T0 - timedelta(days=1)) == []
        assert uow.story_candidates(["r1"], dedup.probe_keys(near), T0 + timedelta(seconds=1)) == []
    later = record(
        store,
        config,
        [Entry(item("b", "other"), [match("r1", "high"), match("r2", "low")], near)],
        T0 + timedelta(hours=1),
    )
    assert later.folded == [(earlier.id, "other")]
    assert [h.rule_id for h in later.hits] == ["r2"]
    assert store.get_hit(earlier.id).also_in == ("other",)


def test_fold_is_a_pure_function_of_its_candidates():
    m1, m2 = match("r1", "high"), match("r2", "low")
    fp = 0xFFFF_0000_FFFF_0000
    candidates = [
        StoryCandidate(9, "r1", fp ^ 0b11),
        StoryCandidate(7, "r1", fp ^ 0b1),
        StoryCandidate(8, "r2", fp ^ ((1 << 20) - 1)),
    ]
    assert dedup.earlier_copies(fp, [m1, m2], candidates) == {
        "r1": 7
    }  # the oldest; r2's is 20 bits away
    assert dedup.earlier_copies(fp, [m2], candidates) == {}
    earlier = StoryHit(
        hit_id=7, rule_id="r1", item_id=3, story_id=None, source="wire", also_in=("x",)
    )
    result = dedup.fold("other", [m1, m2], {"r1": earlier})
    assert result.new == (m2,) and result.story_id == 3
    assert result.folded[0].earlier == earlier and result.folded[0].also_in == ("x", "other")
    assert dedup.fold("wire", [m1], {"r1": earlier}).folded[0].also_in is None
    assert dedup.fold("other", [m1], {}).new == (m1,)


# -- the router takes data ------------------------------------------------------------------


def _hit(hit_id: int, rule_id: str, severity: str, title: str = "Baku talks") -> Hit:
    return Hit(
        id=hit_id,
        rule_id=rule_id,
        rule_title=rule_id,
        severity=severity,
        source="wire",
        item_key="k",
        title=title,
        url=None,
        created_at=T0,
        item_id=1,
    )


def test_router_plans_from_data_one_alert_per_channel_at_the_highest_severity(tmp_path):
    config = make_config(
        tmp_path,
        CHANNELS,
        [{"channels": ["console"]}, {"min_severity": "high", "channels": ["email"]}],
    )
    plans = router.plan(
        config, [_hit(1, "low-rule", "low"), _hit(2, "high-rule", "high")], router.Context()
    )
    assert [(p.channel, p.hit_id, p.status) for p in plans] == [
        ("console", 2, "pending"),
        ("email", 2, "pending"),
    ]


def test_router_suppresses_only_when_every_hit_on_the_channel_is(tmp_path):
    config = make_config(tmp_path, CHANNELS, [{"channels": ["console"]}], cooldown=3600)
    silence = Silence(
        id=4, rule_id="high-rule", source=None, expires_at=T0 + timedelta(days=1), comment="known"
    )
    hits = [_hit(1, "low-rule", "low"), _hit(2, "high-rule", "high")]
    (plan,) = router.plan(config, hits, router.Context(silences=(silence,)))
    assert (plan.hit_id, plan.status) == (1, "pending")
    (both,) = router.plan(config, hits[1:], router.Context(silences=(silence,)))
    assert both.status == "suppressed" and "silence #4" in both.last_error
    recent = AlertedHit(hit_id=9, rule_id="low-rule", item_id=5, story_id=None, title="Baku talks!")
    (cooled,) = router.plan(
        config, hits[:1], router.Context(recent=(recent,), story_ids=frozenset({1}))
    )
    assert cooled.status == "suppressed" and cooled.last_error.startswith(
        "cooldown: same story as hit #9"
    )


# -- one alert per item, the hit log shows the item once --------------------------------------


@pytest.fixture
def two_rules_one_item(backend, tmp_path):
    config = make_config(backend, CHANNELS, [{"channels": ["console"]}])
    store = open_store(config)
    result = record(
        store,
        config,
        [
            Entry(
                item("x"),
                [
                    match("lease-rule", "medium", "Lease"),
                    match("release-rule", "critical", "Release"),
                    match("route-rule", "low", "Route"),
                ],
            )
        ],
        T0,
    )
    return config, store, result


def test_several_rules_on_one_item_make_one_alert_that_names_every_rule(two_rules_one_item):
    config, store, result = two_rules_one_item
    assert len(result.hits) == 3
    (delivery,) = store.query("SELECT hit_id, channel FROM outbox")
    primary = store.get_hit(delivery["hit_id"])
    assert primary.rule_id == "release-rule" and primary.severity == "critical"
    assert [r.rule_id for r in primary.rules] == ["release-rule", "lease-rule", "route-rule"]
    out = io.StringIO()
    report = Dispatcher(config, store, clock=lambda: T0, console=out).run_once()
    assert report.sent == 1
    text = out.getvalue()
    assert "[CRITICAL] Release (+2 rules) — wire:" in text
    assert (
        "Rules: Release (release-rule, critical); Lease (lease-rule, medium); Route (route-rule, low)"
        in text
    )


def test_the_hit_log_lists_the_item_once_with_its_rules(two_rules_one_item):
    config, store, result = two_rules_one_item
    config_file = config.base_dir / "config.yaml"
    config_file.write_text(
        json.dumps({"storage": config.storage.model_dump(mode="json", exclude_defaults=True)}),
        encoding="utf-8",
    )
    out = CliRunner().invoke(cli, ["--config", str(config_file), "hits", "--json"])
    assert out.exit_code == 0, out.output
    (listed,) = json.loads(out.output)
    assert listed["rule"] == "release-rule"
    assert listed["rules"] == ["release-rule", "lease-rule", "route-rule"]
    assert store.count_hits() == 1
    only_low = store.list_hits(rule=["route-rule"])
    assert [h.rule_id for h in only_low] == ["route-rule"] and len(only_low[0].rules) == 3
    low = next(h for h in result.hits if h.rule_id == "route-rule")
    assert [d.channel for d in store.deliveries_for_hit(low.id)] == ["console"]


# -- uniqueness in the schema -----------------------------------------------------------------


def test_one_delivery_per_hit_and_channel_is_a_constraint(two_rules_one_item):
    _, store, _ = two_rules_one_item
    (row,) = store.query("SELECT hit_id, channel, next_attempt_at, created_at FROM outbox")
    with pytest.raises(StoreError, match="(?i)unique"), store.transaction() as c:
        c.execute(
            "INSERT INTO outbox(hit_id, channel, next_attempt_at, created_at) VALUES (?, ?, ?, ?)",
            (row["hit_id"], row["channel"], row["next_attempt_at"], row["created_at"]),
        )
    with pytest.raises(StoreError, match="(?i)unique"), store.transaction() as c:
        c.execute(
            "INSERT INTO hits(item_id, rule_id, rule_title, severity, source, created_at) "
            "SELECT item_id, rule_id, rule_title, severity, source, created_at FROM hits LIMIT 1"
        )
    assert store.scalar("SELECT COUNT(*) FROM outbox") == 1  # the refused rows left nothing


def test_the_migration_indexes_recent_hits_so_a_copy_after_the_upgrade_still_folds(tmp_path):
    from sqlite_utils import Database

    from monitor.store.record import to_sql_int
    from monitor.store.schema import migrations

    path = tmp_path / "monitor.db"
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m005_arch")  # the schema before the band index
    now = datetime.now(timezone.utc)
    fp = 0xF0F0_1234_5678_9ABC
    db.execute(
        "INSERT INTO items(id, source, key, title, text, fingerprint, fetched_at) "
        "VALUES (1, 'wire', 'a', 'Baku agrees', 'text', ?, ?)",
        [to_sql_int(fp), now.isoformat()],
    )
    db.execute(
        "INSERT INTO hits(id, item_id, rule_id, rule_title, severity, source, created_at) "
        "VALUES (1, 1, 'r1', 'Rule r1', 'high', 'wire', ?)",
        [now.isoformat()],
    )
    db.conn.commit()
    db.conn.close()
    config = make_config(tmp_path, CHANNELS, [{"channels": ["console"]}])
    store = Store(path)  # opening applies m005_arch
    assert store.scalar("SELECT COUNT(*) FROM story_bands WHERE hit_id = 1") == len(dedup.bands(fp))
    later = record(
        store, config, [Entry(item("b", "other"), [match("r1", "high")], fp ^ 0b101)], now
    )
    assert later.folded == [(1, "other")] and later.hits == []
