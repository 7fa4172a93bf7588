"""Several daemons on one database, at the store: source leases (each due source claimed by
exactly one daemon, a dead daemon's leases expire), the daemon registry, and deliveries
claimed by a daemon that only a dead daemon's successor recovers.

Each "daemon" is a Store of its own on the same database (its own connection, or pool),
on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest

from helpers_notify import T0
from monitor.config import config_from_dict
from monitor.store import Store

LEASE = 30.0


@pytest.fixture
def open_store(backend):
    """Opens another store ("another daemon") on one database, on each backend; all closed
    at the end."""
    opened: list[Store] = []

    def make() -> Store:
        store = backend.open()
        opened.append(store)
        return store

    yield make
    for s in opened:
        s.close()


def _sources(store: Store, n: int, **extra) -> list[str]:
    cfg = config_from_dict(
        {
            "sources": [
                {
                    "name": f"s{i:03d}",
                    "kind": "feed",
                    "url": f"https://example.org/{i}.xml",
                    **extra,
                }
                for i in range(n)
            ]
        }
    )
    store.sync_sources(cfg.sources)
    return [s.name for s in cfg.sources]


def _register(store: Store, daemon_id: str, now=T0, rules_hash: str = "r1", lease: float = LEASE):
    store.register_daemon(
        daemon_id=daemon_id,
        host="box",
        pid=1,
        version="0.1.0",
        role="daemon",
        rules_hash=rules_hash,
        rule_count=3,
        now=now,
        lease=lease,
    )


def test_each_due_source_is_claimed_by_exactly_one_of_three_daemons(open_store):
    stores = [open_store() for _ in range(3)]
    names = _sources(stores[0], 120)
    claims: dict[str, list[str]] = {}
    barrier = threading.Barrier(3)

    def daemon(i: int) -> None:  # rounds of claims, all three at once (a poll between them)
        mine: list[str] = []
        for _ in range(len(names) // 8 + 1):
            barrier.wait()
            mine += stores[i].claim_sources(f"d{i}", names, T0, LEASE, limit=8)
        claims[f"d{i}"] = mine

    threads = [threading.Thread(target=daemon, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    everything = [n for mine in claims.values() for n in mine]
    assert Counter(everything) == Counter(names)  # every source once, none twice
    assert all(claims[d] for d in claims), claims  # each daemon took a share
    held = stores[0].source_leases(T0)
    assert {n: held[n] for n in names} == {n: d for d, mine in claims.items() for n in mine}


def test_a_claimed_source_is_nobody_elses_until_released_or_expired(open_store):
    a, b = open_store(), open_store()
    names = _sources(a, 3)
    assert a.claim_sources("a", names, T0, LEASE, limit=1) == ["s000"]  # longest due first
    assert b.claim_sources("b", names, T0, LEASE, limit=5) == ["s001", "s002"]
    assert b.claim_sources("b", names, T0, LEASE, limit=5) == []
    # a polls s000, records it (next poll in an hour), and lets go: not due, so not claimed
    a.record_poll_success("s000", a.source_state("s000"), T0, T0 + timedelta(hours=1))
    a.release_source("a", "s000")
    assert b.claim_sources("b", names, T0 + timedelta(seconds=1), LEASE, limit=5) == []
    # b dies holding s001 and s002: after the lease they are due again, for a
    later = T0 + timedelta(seconds=LEASE - 1)
    assert a.claim_sources("a", names, later, LEASE, limit=5) == []
    after = T0 + timedelta(seconds=LEASE + 0.5)
    assert a.claim_sources("a", names, after, LEASE, limit=5) == ["s001", "s002"]
    assert a.source_leases(after) == {"s001": "a", "s002": "a"}
    # a release by someone who no longer holds the lease changes nothing
    b.release_source("b", "s001")
    assert a.source_leases(after) == {"s001": "a", "s002": "a"}


def test_disabled_sources_and_sources_not_configured_here_are_not_claimed(open_store):
    store = open_store()
    names = _sources(store, 4)
    store.disable_source("s001", "HTTP 410 Gone", T0)
    got = store.claim_sources("a", ["s000", "s001", "s003"], T0, LEASE, limit=10)
    assert got == ["s000", "s003"]
    assert "s002" in names and "s002" not in store.source_leases(T0)


def test_the_heartbeat_renews_a_live_daemons_leases_and_a_dead_ones_expire(open_store):
    store = open_store()
    names = _sources(store, 4)
    _register(store, "live")
    _register(store, "dead")
    assert store.claim_sources("live", names, T0, LEASE, limit=2) == ["s000", "s001"]
    assert store.claim_sources("dead", names, T0, LEASE, limit=2) == ["s002", "s003"]
    beat = T0 + timedelta(seconds=20)
    assert store.beat_daemon("live", beat, LEASE)  # "dead" never beats again
    then = T0 + timedelta(seconds=LEASE + 1)
    assert store.source_leases(then) == {"s000": "live", "s001": "live"}
    assert [d.id for d in store.live_daemons(then)] == ["live"]
    # the dead one's sources are anyone's now
    assert store.claim_sources("live", names, then, LEASE, limit=5) == ["s002", "s003"]
    # a daemon whose lease ran out is told so by its next beat
    assert not store.beat_daemon("dead", then, LEASE)


def test_the_registry_lists_live_daemons_with_the_leases_they_hold(open_store):
    store = open_store()
    names = _sources(store, 5)
    _register(store, "d1", rules_hash="aaa")
    _register(store, "d2", now=T0 + timedelta(seconds=1), rules_hash="bbb")
    store.claim_sources("d1", names, T0 + timedelta(seconds=2), LEASE, limit=3)
    live = store.live_daemons(T0 + timedelta(seconds=2))
    assert [(d.id, d.leases, d.rules_hash, d.host, d.version) for d in live] == [
        ("d1", 3, "aaa", "box", "0.1.0"),
        ("d2", 0, "bbb", "box", "0.1.0"),
    ]
    store.daemon_stopped("d1", T0 + timedelta(seconds=3))
    assert [d.id for d in store.live_daemons(T0 + timedelta(seconds=3))] == ["d2"]
    assert store.source_leases(T0 + timedelta(seconds=3)) == {}  # a clean stop lets go


def _pending_row(store: Store) -> int:
    return store.enqueue("hook", "ops", {"title": "T", "text": "x"}, T0)


def test_a_delivery_is_claimed_once_and_names_its_claimant(open_store):
    a, b = open_store(), open_store()
    rows = [_pending_row(a) for _ in range(4)]
    assert a.claim(rows[:2], T0, "a") == rows[:2]
    assert b.claim(rows, T0, "b") == rows[2:]  # only what was still pending
    live = {d.id: d.in_flight for d in a.live_daemons(T0)}
    assert live == {}  # neither is registered: claims alone make no daemon
    _register(a, "a")
    assert {d.id: d.in_flight for d in a.live_daemons(T0)} == {"a": 2}


def test_start_up_recovery_never_takes_a_live_daemons_deliveries(open_store):
    store = open_store()
    _register(store, "alive")
    _register(store, "gone")
    mine, theirs, anonymous = _pending_row(store), _pending_row(store), _pending_row(store)
    store.claim([mine], T0, "alive")
    store.claim([theirs], T0, "gone")
    store.claim([anonymous], T0, None)
    now = T0 + timedelta(seconds=20)
    assert store.beat_daemon("alive", now, LEASE)
    later = T0 + timedelta(seconds=LEASE + 1)  # "gone" has not beaten since T0
    # a heartbeat's recovery: the gone daemon's row only (a row with no claimant may be
    # someone's send that the registry cannot vouch for)
    assert store.recover_inflight(later, unregistered=False) == 1
    assert store.outbox_row(theirs).status == "pending"
    assert store.outbox_row(mine).status == "inflight"
    assert store.outbox_row(anonymous).status == "inflight"
    # a start-up's recovery: the row with no claimant too; the live daemon's stays
    assert store.recover_inflight(later) == 1
    assert store.outbox_row(anonymous).status == "pending"
    assert store.outbox_row(mine).status == "inflight"
    assert store.outbox_row(mine).delivered == {}


def test_a_rate_limited_row_is_folded_into_the_summary_once(open_store):
    a, b = open_store(), open_store()
    row = _pending_row(a)
    assert a.fold_into_summary(row, "hook", 1, T0, T0 + timedelta(hours=1)) is not None
    assert b.fold_into_summary(row, "hook", 1, T0, T0 + timedelta(hours=1)) is None
    summaries = [r["id"] for r in a.query("SELECT id FROM outbox WHERE kind = 'summary'")]
    assert len(summaries) == 1 and a.outbox_row(summaries[0]).payload == {"hits": [1]}
