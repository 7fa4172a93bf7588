"""Time as people read it, in one place: how long ago, how long, how often.

ago(when, now)         "just now", "5m ago", "3h ago", "4d ago", a date; "in 5m" ahead
duration(seconds)      "90s", "5m", "2h 3m", "4d"            (status and health lines)
short_duration(secs)   "30m", "1.5h", "2d"                   (a configured length)
window_words(secs)     "hour", "2 hours", "90 seconds"       (a rate-limit window)
"""

from __future__ import annotations

from datetime import datetime, timezone


def ago(when: datetime | None, now: datetime) -> str:
    """``just now``, ``5m ago``, ``3h ago``, ``4d ago``; older than two weeks: the date; ``in 5m`` ahead."""
    if when is None:
        return "—"
    seconds = (now - when).total_seconds()
    if seconds < -60:
        ahead = -seconds
        if ahead < 3600:
            return f"in {int(ahead // 60)}m"
        if ahead < 86400:
            return f"in {int(ahead // 3600)}h"
        return f"in {int(ahead // 86400)}d"
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h ago"
    if seconds < 14 * 86400:
        return f"{int(seconds // 86400)}d ago"
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d"


def short_duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def window_words(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''}" if n != 1 else unit
    return f"{int(seconds)} seconds"
