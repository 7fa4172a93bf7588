"""Queries on ``items``: which keys are new, iteration for back-tests, retention.

Recording a poll (items, hits, outbox rows in one transaction) is ``record.py``'s unit of work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Iterator

from monitor.models import Item
from monitor.store.base import StoreBase, loads, parse_ts, ts

ITEM_COLUMNS = ", ".join(
    f"i.{c}"
    for c in (
        "id source key url title text published language author content_hash fingerprint "
        "story_id fetched_at"
    ).split()
)


class ItemQueries(StoreBase):
    def unseen_keys(self, source: str, keys: Iterable[str]) -> set[str]:
        """The keys among ``keys`` that this source has never stored."""
        keys = list(dict.fromkeys(keys))
        seen: set[str] = set()
        for i in range(0, len(keys), 500):
            among, params = self.dialect.any_of("key", keys[i : i + 500])
            rows = self.query(
                f"SELECT key FROM items WHERE source = ? AND {among}", [source, *params]
            )
            seen.update(r["key"] for r in rows)
        return {k for k in keys if k not in seen}

    def iter_items(
        self, since: datetime | None = None, batch: int = 500
    ) -> Iterator[dict[str, Any]]:
        """Stored items, oldest first, with the rule ids that fired on each (``hit_rules``)."""
        last_id = 0
        since_sql, since_params = ("AND i.fetched_at >= ?", [ts(since)]) if since else ("", [])
        while True:
            rows = self.query(
                f"""SELECT {ITEM_COLUMNS},
                       (SELECT {self.dialect.json_list("rule_id")} FROM hits h WHERE h.item_id = i.id) AS hit_rules
                   FROM items i WHERE i.id > ? {since_sql} ORDER BY i.id LIMIT ?""",
                (last_id, *since_params, batch),
            )
            if not rows:
                return
            for r in rows:
                r["hit_rules"] = loads(r["hit_rules"], [])
                r["published"] = parse_ts(r["published"])
                r["fetched_at"] = parse_ts(r["fetched_at"])
                yield r
            last_id = rows[-1]["id"]

    def item_from_row(self, row: dict[str, Any]) -> Item:
        return Item(
            source=row["source"],
            key=row["key"],
            title=row["title"] or "",
            text=row["text"] or "",
            url=row["url"],
            published=row["published"]
            if isinstance(row["published"], datetime)
            else parse_ts(row["published"]),
            language=row["language"],
            author=row["author"],
            content_hash=row["content_hash"] or "",
        )

    def count_items(self) -> int:
        return int(self.scalar("SELECT COUNT(*) FROM items") or 0)

    def prune_items(self, older_than: datetime) -> int:
        """Delete items fetched before ``older_than`` that no hit refers to. Returns the count."""
        with self.transaction() as c:
            cur = c.execute(
                "DELETE FROM items WHERE fetched_at < ? AND NOT EXISTS (SELECT 1 FROM hits h WHERE h.item_id = items.id)",
                (ts(older_than),),
            )
            return cur.rowcount
