"""Exponential backoff, the one formula: ``base · 2^(attempts−1)``, capped.

Sources (sources/schedule.py: the next poll after failures) and the dispatcher (the next
delivery attempt) each add their own jitter on top. Pure arithmetic; imports nothing.
"""

from __future__ import annotations


def exponential(base: float, attempts: int, cap: float) -> float:
    """``base · 2^(attempts−1)`` for the ``attempts``-th try in a row (≥ 1), never above ``cap``."""
    exponent = min(max(0, attempts - 1), 62)  # 2^62 already passes any cap: no overflow
    return min(base * (2.0**exponent), cap)
