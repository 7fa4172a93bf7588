"""Digest periods: when a route's digest closes, and the key that groups its hits.

A digest route does not send a hit at once: the router writes one ``digest-member`` outbox
row per hit and channel, due at the end of the hit's period, with a ``digest_key`` naming
the route and that period end. When the period ends, the dispatcher claims every member
with the same channel and key together and sends them as one message (see dispatch.py).

    every: 6h                       periods aligned on the Unix epoch: 00:00, 06:00, … UTC
    daily: "08:00", timezone: X     each period ends at the next 08:00 wall-clock time in X
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.config import DigestConfig
from monitor.errors import ConfigError

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"digest timezone {name!r} is not a known time zone") from exc


def period_end(digest: DigestConfig, when: datetime) -> datetime:
    """The end (exclusive, UTC) of the digest period that ``when`` falls in."""
    when = when.astimezone(timezone.utc)
    if digest.every is not None:
        step = timedelta(seconds=digest.every)
        n = (when - _EPOCH) // step + 1
        return _EPOCH + n * step
    assert digest.daily is not None
    tz = _zone(digest.timezone)
    hh, mm = (int(x) for x in digest.daily.split(":"))
    local = when.astimezone(tz)
    candidate = datetime.combine(local.date(), time(hh, mm), tzinfo=tz)
    if candidate.astimezone(timezone.utc) <= when:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hh, mm), tzinfo=tz)
    return candidate.astimezone(timezone.utc)


def period_start(digest: DigestConfig, end: datetime) -> datetime:
    """The start of the period that ends at ``end`` (for the message's heading)."""
    if digest.every is not None:
        return end - timedelta(seconds=digest.every)
    tz = _zone(digest.timezone)
    local_end = end.astimezone(tz)
    start = datetime.combine(
        local_end.date() - timedelta(days=1), local_end.timetz().replace(tzinfo=None), tzinfo=tz
    )
    return start.astimezone(timezone.utc)


def digest_key(route: str, end: datetime) -> str:
    """``route@2026-11-22T05:00:00+00:00``: the route and the period end it belongs to."""
    return f"{route}@{end.astimezone(timezone.utc).isoformat(timespec='seconds')}"


def parse_digest_key(key: str) -> tuple[str, datetime]:
    route, _, end = key.rpartition("@")
    return route, datetime.fromisoformat(end)
