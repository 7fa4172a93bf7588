"""Routing a new hit: routes and the default, one row per channel, silences, cooldown, digests."""

from __future__ import annotations

from datetime import timedelta

from helpers_notify import T0, make_config, record_hit
from monitor.store import open_store

CHANNELS = {
    "console": {"type": "console"},
    "email": {"type": "console"},
    "slack": {"type": "console"},
    "digest": {"type": "console"},
}


def rows(store, hit):
    return [(d.channel, d.status) for d in store.deliveries_for_hit(hit.id)]


def test_routes_filter_and_the_default_takes_everything(backend, tmp_path):
    config = make_config(
        backend,
        CHANNELS,
        [
            {"channels": ["console"]},  # no filters: every hit
            {
                "min_severity": "high",
                "channels": ["slack", "console"],
            },  # console again: once per hit
            {"tags": ["transit"], "channels": ["email"]},
            {"rules": ["lease-49-99"], "sources": ["civilnet"], "channels": ["email"]},
        ],
    )
    store = open_store(config)
    high = record_hit(store, config, severity="high")
    low_transit = record_hit(
        store, config, severity="low", tags=("transit",), title="Rail transit via Azerbaijan"
    )
    lease_elsewhere = record_hit(
        store, config, severity="medium", rule_id="lease-49-99", source="other", title="Lease"
    )
    lease = record_hit(
        store,
        config,
        severity="medium",
        rule_id="lease-49-99",
        source="civilnet",
        title="Lease again",
    )
    assert rows(store, high) == [("console", "pending"), ("slack", "pending")]
    assert rows(store, low_transit) == [("console", "pending"), ("email", "pending")]
    assert rows(store, lease_elsewhere) == [("console", "pending")]
    assert rows(store, lease) == [("console", "pending"), ("email", "pending")]


def test_immediate_route_wins_over_a_digest_for_the_same_channel(backend, tmp_path):
    config = make_config(
        backend,
        CHANNELS,
        [
            {"channels": ["email"], "digest": {"daily": "08:00"}},
            {"severity": ["critical"], "channels": ["email"]},
        ],
    )
    store = open_store(config)
    crit = record_hit(store, config, severity="critical")
    low = record_hit(store, config, severity="low", title="Something else")
    assert [(d.channel, d.digest_key) for d in store.deliveries_for_hit(crit.id)] == [
        ("email", None)
    ]
    (member,) = store.deliveries_for_hit(low.id)
    assert member.digest_key == "route-1@2026-11-21T08:00:00+00:00"
    assert member.next_attempt_at == T0.replace(day=21, hour=8)


def test_silence_suppresses_with_its_reason_until_it_expires(backend, tmp_path):
    config = make_config(backend, CHANNELS, [{"channels": ["console", "slack"]}])
    store = open_store(config)
    sid = store.add_silence(
        rule_id="detainees-release-return",
        source=None,
        expires_at=T0 + timedelta(days=2),
        comment="talks ongoing, we know",
        now=T0,
    )
    store.add_silence(
        rule_id="other-rule", source=None, expires_at=T0 + timedelta(days=9), comment="", now=T0
    )
    silenced = record_hit(store, config, when=T0 + timedelta(hours=1))
    deliveries = store.deliveries_for_hit(silenced.id)
    assert [d.status for d in deliveries] == ["suppressed", "suppressed"]
    assert (
        f"silence #{sid}" in deliveries[0].last_error
        and "talks ongoing, we know" in deliveries[0].last_error
    )
    after = record_hit(store, config, when=T0 + timedelta(days=2, seconds=1), title="A new story")
    assert [d.status for d in store.deliveries_for_hit(after.id)] == ["pending", "pending"]
    by_source = store.add_silence(
        rule_id=None, source="noisy", expires_at=T0 + timedelta(days=9), comment="", now=T0
    )
    noisy = record_hit(
        store, config, when=T0 + timedelta(days=3), source="noisy", title="Noisy item"
    )
    assert f"silence #{by_source}" in store.deliveries_for_hit(noisy.id)[0].last_error


def test_cooldown_per_rule_and_story(backend, tmp_path):
    config = make_config(backend, CHANNELS, [{"channels": ["console"]}], cooldown="6h")
    store = open_store(config)
    first = record_hit(store, config, when=T0, title="Baku frees the eleven Russians")
    again = record_hit(
        store,
        config,
        when=T0 + timedelta(hours=2),
        source="other-wire",
        title="Baku frees the eleven Russians!",
    )  # same story, other punctuation
    other_rule = record_hit(
        store,
        config,
        when=T0 + timedelta(hours=2),
        rule_id="other-rule",
        title="Baku frees the eleven Russians",
    )
    other_story = record_hit(
        store, config, when=T0 + timedelta(hours=3), title="Lease of the route signed"
    )
    later = record_hit(
        store, config, when=T0 + timedelta(hours=7), title="baku frees the eleven russians"
    )
    assert store.deliveries_for_hit(first.id)[0].status == "pending"
    cooled = store.deliveries_for_hit(again.id)[0]
    assert cooled.status == "suppressed" and f"same story as hit #{first.id}" in cooled.last_error
    assert store.deliveries_for_hit(other_rule.id)[0].status == "pending"
    assert store.deliveries_for_hit(other_story.id)[0].status == "pending"
    assert store.deliveries_for_hit(later.id)[0].status == "pending"  # the window has passed


def test_no_matching_route_means_no_rows(backend, tmp_path):
    config = make_config(backend, CHANNELS, [{"severity": ["critical"], "channels": ["console"]}])
    store = open_store(config)
    assert store.deliveries_for_hit(record_hit(store, config, severity="low").id) == []
