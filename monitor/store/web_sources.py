"""The web app's one write to ``sources``: re-enable a source the daemon disabled
(``disable_source``, e.g. after HTTP 410), so its next poll runs again."""

from __future__ import annotations

from datetime import datetime

from monitor.store.base import StoreBase, ts


class WebSourceQueries(StoreBase):
    def reenable_source(self, name: str, now: datetime) -> bool:
        """Clear the source's ``disabled_reason`` and failure count; True if it was disabled."""
        with self.transaction() as c:
            return (
                c.execute(
                    """UPDATE sources SET disabled_reason = NULL, consecutive_failures = 0, failing = 0,
                       next_poll_at = ?, updated_at = ? WHERE name = ? AND disabled_reason IS NOT NULL""",
                    (ts(now), ts(now), name),
                ).rowcount
                == 1
            )
