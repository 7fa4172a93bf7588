"""The Source protocol: a place (feed URL, web page, folder) turned into Items.

A source knows nothing of rules or the database. The pipeline hands it the state it
returned last time (validators, hashes, file list …) and stores what it returns:

    state_in ──► Source.fetch(state_in) ──► FetchResult(items, state, warnings, …)
                        │
                        └── raises FetchError (retry with backoff) or
                            PermanentFetchError (disable the source with the reason)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from monitor.models import Item, SourceState

__all__ = ["FetchResult", "Source", "SourceState", "validators_for"]


@dataclass(frozen=True)
class FetchResult:
    items: list[Item]
    state: SourceState
    warnings: list[str] = field(default_factory=list)
    not_modified: bool = False
    # the earliest sensible next poll, in seconds from now (Cache-Control max-age, <ttl>)
    min_next_poll: float | None = None


class Source(Protocol):
    kind: str
    name: str

    def fetch(self, state: SourceState) -> FetchResult:
        """Read the place once. Must not write anywhere; may raise FetchError."""
        ...


def validators_for(state: SourceState, url: str) -> tuple[str | None, str | None, dict[str, Any]]:
    """The stored validators and data of an http source, unless they belong to another URL
    (the source's url was changed in the config: start afresh)."""
    if state.data.get("url") not in (None, url):
        return None, None, {}
    return state.etag, state.last_modified, dict(state.data)
