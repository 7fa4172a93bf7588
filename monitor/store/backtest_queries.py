"""Read-only queries for ``monitor rules backtest``: what was recorded for some items.

These only read. An item folded into an earlier item's story has its hits on that story's item.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Iterator

from monitor.models import Item
from monitor.store.items import ItemQueries


def recorded_hits(store: Any, item_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """``{item_id: {rule_id: status}}`` of the hits recorded on these items."""
    ids = sorted(set(item_ids))
    out: dict[int, dict[str, str]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        rows = store.query(
            f"SELECT item_id, rule_id, status FROM hits WHERE item_id IN ({marks})", chunk
        )
        for r in rows:
            out.setdefault(r["item_id"], {})[r["rule_id"]] = r["status"]
    return out


class BacktestQueries(ItemQueries):
    def backtest_items(
        self, since: datetime | None = None
    ) -> Iterator[tuple[Item, dict[str, str]]]:
        """(item, {rule: status}) for every stored item, oldest first, with its story's hits
        when it was folded into an earlier item's story."""
        batch: list[dict[str, Any]] = []

        def flush() -> Iterator[tuple[Item, dict[str, str]]]:
            ids = {r["id"] for r in batch} | {r["story_id"] for r in batch if r.get("story_id")}
            recorded = recorded_hits(self, ids)
            for r in batch:
                hits = dict(recorded.get(r["id"], {}))
                story = r.get("story_id")
                if story and story != r["id"]:
                    for rid, st in recorded.get(story, {}).items():
                        hits.setdefault(rid, st)
                yield self.item_from_row(r), hits

        for row in self.iter_items(since=since):
            batch.append(row)
            if len(batch) >= 500:
                yield from flush()
                batch = []
        if batch:
            yield from flush()
