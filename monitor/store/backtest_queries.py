"""Read-only queries for ``monitor rules backtest``: what was recorded for some items.

Kept apart from the store's own query modules (they belong to the store's owner); these only
read. An item folded into an earlier item's story has its hits on that story's item.
"""

from __future__ import annotations

from typing import Any, Iterable


def recorded_hits(store: Any, item_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """``{item_id: {rule_id: status}}`` of the hits recorded on these items."""
    ids = sorted(set(item_ids))
    out: dict[int, dict[str, str]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        rows = store.query(
            f"SELECT item_id, rule_id, status FROM hits WHERE item_id IN ({marks})", chunk)
        for r in rows:
            out.setdefault(r["item_id"], {})[r["rule_id"]] = r["status"]
    return out
