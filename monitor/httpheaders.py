"""Reading the HTTP headers that tell a client when to come back. Imports nothing of ours.

Used by the sources' HTTP client (429/503 from a feed) and by the notifier (429 from a
webhook): one reading of ``Retry-After`` for both.
"""

from __future__ import annotations

import email.utils
import re
from datetime import datetime, timezone

RETRY_AFTER_MAX = 7 * 86400.0  # a server asking for longer is capped (callers cap further)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now: a number of seconds or an HTTP date. Capped."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return min(float(value), RETRY_AFTER_MAX)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    delta = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return min(max(delta, 0.0), RETRY_AFTER_MAX)
