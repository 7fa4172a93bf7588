"""When to poll a source next: pure arithmetic, no clock and no I/O.

success:  interval ± jitter
failure:  interval · 2^(failures−1), capped at backoff_max, ± jitter
always:   never earlier than the server asked (Retry-After, Cache-Control max-age,
          a feed's <ttl>); such requests are honoured up to max(backoff_max, interval),
          so a server cannot silence a source for a year.
"""

from __future__ import annotations

import random

from monitor.backoff import exponential

DEFAULT_JITTER_FRACTION = 0.1  # when a source sets no jitter: ±10 % of its interval
DEFAULT_BACKOFF_MAX = 6 * 3600.0


def default_jitter(interval: float) -> float:
    return interval * DEFAULT_JITTER_FRACTION


def next_delay(
    interval: float,
    jitter: float | None,
    consecutive_failures: int,
    retry_after: float | None = None,
    min_next_poll: float | None = None,
    backoff_max: float = DEFAULT_BACKOFF_MAX,
    rng: random.Random | None = None,
) -> float:
    """Seconds until the next poll of a source.

    ``consecutive_failures`` counts the failures so far, including the one just seen
    (0 after a success). ``jitter`` None means ±10 % of ``interval``. ``rng`` makes the
    jitter reproducible in tests.
    """
    if interval <= 0:
        raise ValueError("interval must be positive")
    rand = rng or random
    spread = default_jitter(interval) if jitter is None else max(0.0, jitter)
    if consecutive_failures <= 0:
        base = interval
    else:
        base = exponential(interval, consecutive_failures, max(backoff_max, interval))
        spread = min(spread, base / 2)
    delay = base + rand.uniform(-spread, spread) if spread else base
    if consecutive_failures > 0:
        delay = min(delay, max(backoff_max, interval))
    delay = max(delay, 0.0)
    floor = max((v for v in (retry_after, min_next_poll) if v is not None and v > 0), default=0.0)
    floor = min(floor, max(backoff_max, interval))
    return max(delay, floor)


def health_change(failures_before: int, failures_now: int, threshold: int) -> str | None:
    """``"failing"`` when a source just reached ``threshold`` consecutive failures,
    ``"recovered"`` when a failing source just succeeded, else None. One alert each way."""
    if failures_before < threshold <= failures_now:
        return "failing"
    if failures_before >= threshold and failures_now == 0:
        return "recovered"
    return None
