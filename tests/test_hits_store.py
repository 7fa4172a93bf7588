"""Hit queries and triage on a real database of a few hundred recorded hits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from helpers_hits import QUILLWORT_KEY, RULES, HitsDB
from monitor.store.base import ts
from monitor.store.hits import HitFilter, parse_when


@pytest.fixture
def hits_db(hits_db_both: HitsDB) -> HitsDB:
    """The hit log on each backend: these tests run on SQLite and on PostgreSQL."""
    return hits_db_both


def newest_first(rows):
    return [h["id"] for h in sorted(rows, key=lambda h: (h["created_at"], h["id"]), reverse=True)]


def test_list_is_newest_first_and_complete(hits_db: HitsDB):
    with hits_db.open() as store:
        assert store.count_hits() == len(hits_db.hits) >= 300
        assert [h.id for h in store.list_hits(limit=None)] == newest_first(hits_db.hits)
        page2 = store.list_hits(limit=50, offset=50)
        assert [h.id for h in page2] == newest_first(hits_db.hits)[50:100]


def test_filters_combine_rule_severity_source_tag_and_time(hits_db: HitsDB):
    since = hits_db.now - timedelta(days=2)
    until = hits_db.now - timedelta(hours=6)
    f = HitFilter(
        severity=["high", "critical"],
        source=["seeds", "yerevan-daily"],
        tag=["armenia", "detainees"],
        since=since,
        until=until,
    )
    expected = [
        h
        for h in hits_db.hits
        if h["severity"] in ("high", "critical")
        and h["source"] in ("seeds", "yerevan-daily")
        and {"armenia", "detainees"} & set(h["tags"])
        and since <= h["created_at"] < until
    ]
    assert expected, "the fixture should have hits for this filter"
    with hits_db.open() as store:
        assert [h.id for h in store.list_hits(limit=None, **f.kwargs())] == newest_first(expected)
        assert store.count_hits(**f.kwargs()) == len(expected)
        by_rule = store.list_hits(limit=None, rule=["rail-transit"])
        assert {h.rule_id for h in by_rule} == {"rail-transit"}
        assert len(by_rule) == len(hits_db.where(rule="rail-transit"))


def test_search_finds_a_word_that_is_only_in_the_body(hits_db: HitsDB):
    (target,) = [h for h in hits_db.hits if h["key"] == QUILLWORT_KEY]
    assert "quillwort" not in target["title"].lower() and "quillwort" in target["body"]
    with hits_db.open() as store:
        found = store.list_hits(limit=None, search="quillwort")
        assert [h.id for h in found] == [target["id"]]
        # prefix, case and a second word narrowing it down
        assert [h.id for h in store.list_hits(search="QUILLW embankment")] == [target["id"]]
        assert store.list_hits(search='quillwort "nonexistentword') == []


@pytest.mark.parametrize(
    "text,expected",
    [
        ("6h", timedelta(hours=6)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("90m", timedelta(minutes=90)),
        ("3d ago", timedelta(days=3)),
    ],
)
def test_parse_when_relative(text, expected):
    now = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    assert parse_when(text, now) == now - expected


def test_parse_when_absolute_and_words():
    now = datetime(2026, 11, 22, 12, 30, tzinfo=timezone.utc)
    assert parse_when("2026-11-20", now) == datetime(2026, 11, 20, tzinfo=timezone.utc)
    assert parse_when("2026-11-20T08:15+03:00", now) == datetime(
        2026, 11, 20, 5, 15, tzinfo=timezone.utc
    )
    assert parse_when("today", now) == datetime(2026, 11, 22, tzinfo=timezone.utc)
    assert parse_when("yesterday", now) == datetime(2026, 11, 21, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="cannot read 'last tuesday'"):
        parse_when("last tuesday", now)


def test_ack_dismiss_reopen_record_who_when_and_history(hits_db: HitsDB):
    a, b, c = (h["id"] for h in hits_db.where(status="new")[:3])
    t1 = hits_db.now + timedelta(minutes=1)
    with hits_db.open() as store:
        r = store.ack_hits([a, b, 999999], by="anna", now=t1, note="briefed")
        assert (r.changed, r.unchanged, r.missing) == ([a, b], [], [999999])
        assert store.ack_hits([a], by="boris", now=t1).unchanged == [a]
        row = store.get_hit_row(a)
        assert (row.hit.status, row.status_by, ts(row.status_at)) == (
            "acked",
            "anna",
            t1.isoformat(timespec="microseconds"),
        )

        with pytest.raises(ValueError, match="false-positive"):
            store.dismiss_hits([c], "boring", by="anna", now=t1)
        assert store.dismiss_hits([c], "duplicate", by="boris", now=t1).changed == [c]
        # a different reason is a change; the same one is not
        assert store.dismiss_hits([c], "false-positive", by="boris", now=t1).changed == [c]
        assert store.dismiss_hits([c], "false-positive", by="boris", now=t1).unchanged == [c]
        assert store.get_hit(c).status == "dismissed"
        assert store.get_hit_row(c).status_reason == "false-positive"

        assert store.reopen_hits([c], by="anna", now=t1).changed == [c]
        row = store.get_hit_row(c)
        assert (row.hit.status, row.status_reason) == ("new", None)
        history = [(n.action, n.by, n.text) for n in store.hit_notes(c)]
        assert history == [
            ("dismiss", "boris", "duplicate"),
            ("dismiss", "boris", "false-positive"),
            ("reopen", "anna", None),
        ]
        assert [(n.action, n.text) for n in store.hit_notes(a)] == [("ack", "briefed")]


def test_notes(hits_db: HitsDB):
    hit_id = hits_db.hits[0]["id"]
    with hits_db.open() as store:
        assert store.add_note(hit_id, "  called the desk  ", by="anna", now=hits_db.now) is not None
        assert store.add_note(999999, "x", by="anna", now=hits_db.now) is None
        with pytest.raises(ValueError):
            store.add_note(hit_id, "   ", by="anna", now=hits_db.now)
        (note,) = store.hit_notes(hit_id)
        assert (note.action, note.text, note.by) == ("note", "called the desk", "anna")
        assert store.get_hit(hit_id).status == "new", "a note does not change the status"


def test_rule_stats_match_the_recorded_hits(hits_db: HitsDB):
    now = hits_db.now
    with hits_db.open() as store:
        stats = {
            s.rule_id: s
            for s in store.rule_stats(now, rules=[("quiet-rule", "Never fires", "low")])
        }
    for rule_id, *_ in RULES:
        mine = hits_db.where(rule=rule_id)
        s = stats[rule_id]
        assert s.total == len(mine)
        assert s.last_7d == sum(h["created_at"] >= now - timedelta(days=7) for h in mine)
        assert s.last_30d == sum(h["created_at"] >= now - timedelta(days=30) for h in mine)
        assert s.last_fired == max(h["created_at"] for h in mine)
    noise = stats["stock-noise"]
    dismissed = len([h for h in hits_db.where(rule="stock-noise") if h["status"] == "dismissed"])
    assert noise.false_positives == dismissed > 0
    assert noise.false_positive_share == pytest.approx(dismissed / noise.total)
    assert stats["rail-transit"].false_positive_share == 0
    quiet = stats["quiet-rule"]
    assert (quiet.total, quiet.last_fired, quiet.false_positive_share) == (0, None, None)


def test_export_iterator_pages_without_repeats(hits_db: HitsDB):
    since = hits_db.now - timedelta(days=10)
    with hits_db.open() as store:
        rows = list(store.iter_hit_rows(batch=7, since=since))
    expected = newest_first([h for h in hits_db.hits if h["created_at"] >= since])
    assert [r["id"] for r in rows] == expected
    assert all(r["text"] for r in rows)


def test_facets_count_what_the_filters_offer(hits_db: HitsDB):
    with hits_db.open() as store:
        facets = store.hit_facets()
    assert {r["value"]: r["n"] for r in facets["rules"]} == {
        rule_id: len(hits_db.where(rule=rule_id)) for rule_id, *_ in RULES
    }
    assert facets["statuses"] == {
        "new": len(hits_db.where(status="new")),
        "dismissed": len(hits_db.where(status="dismissed")),
    }
    tag_counts = {r["value"]: r["n"] for r in facets["tags"]}
    assert tag_counts["armenia"] == sum("armenia" in h["tags"] for h in hits_db.hits)
