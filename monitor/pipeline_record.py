"""The pipeline's unit of work: one poll's new items, their hits and the hits' deliveries,
read, decided by the pure stages (``dedup.fold``, ``router.plan``) and written in one
transaction. ``monitor.pipeline.run_source`` calls it; it is importable from there too."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor import dedup
from monitor.config import Config
from monitor.models import Entry, Hit, RecordResult
from monitor.notify import router
from monitor.store import Store


def record(store: Store, config: Config, entries: list[Entry], now: datetime) -> RecordResult:
    """Store new items, their hits and the hits' outbox rows in one unit of work.

    Per item: the store reads what the pure stages need (earlier hits sharing a fingerprint
    band, silences, recent alerts), ``dedup.fold`` decides which matches are copies of a
    story already alerted, ``router.plan`` decides the deliveries; then the store writes.
    Reads see the writes of earlier items of the same poll (one transaction).
    """
    window_start = now - timedelta(seconds=config.scheduler.dedup_window)
    cooldown = config.notify.cooldown
    hits: list[Hit] = []
    folded: list[tuple[int, str]] = []
    new_items = 0
    with store.unit_of_work() as uow:
        # every rule this poll may record a hit for, locked before the first story read
        uow.serialize(m.rule_id for e in entries for m in e.matches)
        silences = tuple(uow.active_silences(now))
        uow.prune_bands(window_start)
        for entry in entries:
            it = entry.item
            item_id = uow.insert_item(it, entry.fingerprint, now)
            if item_id is None:
                continue
            new_items += 1
            if not entry.matches:
                continue
            keys = dedup.bands(entry.fingerprint)
            rule_ids = sorted({m.rule_id for m in entry.matches})
            candidates = uow.story_candidates(
                rule_ids, dedup.probe_keys(entry.fingerprint), window_start
            )
            copies = dedup.earlier_copies(entry.fingerprint, entry.matches, candidates)
            earlier = uow.story_hits(copies.values())
            decision = dedup.fold(
                it.source,
                entry.matches,
                {rule: earlier[hit_id] for rule, hit_id in copies.items() if hit_id in earlier},
            )
            for f in decision.folded:
                if f.also_in is not None:
                    uow.set_also_in(f.earlier.hit_id, f.also_in)
                folded.append((f.earlier.hit_id, it.source))
            mine: list[Hit] = []
            for m in decision.new:
                hit_id = uow.insert_hit(item_id, it, m, now)
                if hit_id is None:
                    continue
                uow.insert_bands(hit_id, m.rule_id, entry.fingerprint, keys, now)
                mine.append(
                    Hit(
                        id=hit_id,
                        rule_id=m.rule_id,
                        rule_title=m.rule_title,
                        severity=m.severity,
                        source=it.source,
                        item_key=it.key,
                        title=it.title,
                        url=it.url,
                        created_at=now,
                        published=it.published,
                        terms=m.terms,
                        spans=m.spans,
                        snippet=m.snippet,
                        why=m.why,
                        tags=m.tags,
                        item_id=item_id,
                    )
                )
            if decision.story_id is not None and decision.story_id != item_id:
                uow.set_item_story(item_id, decision.story_id)
            if mine and config.routes:
                recent = (
                    uow.recent_alerts([h.rule_id for h in mine], now - timedelta(seconds=cooldown))
                    if cooldown > 0
                    else []
                )
                story_ids = frozenset(
                    {item_id} | ({decision.story_id} if decision.story_id else set())
                )
                context = router.Context(
                    silences=silences, recent=tuple(recent), story_ids=story_ids
                )
                uow.insert_deliveries(router.plan(config, mine, context), now)
            hits.extend(mine)
    return RecordResult(new_items=new_items, hits=hits, folded=folded)
