"""Sources: places turned into Items. One module per kind, an explicit registry.

make_source(SourceConfig, HttpConfig, base_dir) ──► FeedSource | PageSource | FolderSource
                                                      .fetch(SourceState) ──► FetchResult
"""

from __future__ import annotations

from pathlib import Path

from monitor.config import HttpConfig, SourceConfig
from monitor.sources.base import FetchResult, Source, SourceState
from monitor.sources.feed import FeedSource
from monitor.sources.folder import FolderSource
from monitor.sources.http import HttpClient
from monitor.sources.page import PageSource

SOURCE_KINDS: dict[str, type[FeedSource] | type[PageSource] | type[FolderSource]] = {
    "feed": FeedSource,
    "page": PageSource,
    "folder": FolderSource,
}


def make_source(
    cfg: SourceConfig,
    http: HttpConfig | None = None,
    base_dir: Path | str = ".",
    client: HttpClient | None = None,
) -> Source:
    """Build the source ``cfg`` describes. http sources share one client per HttpConfig
    unless ``client`` is given; a folder's relative path resolves against ``base_dir``."""
    try:
        kind = SOURCE_KINDS[cfg.kind]
    except KeyError:
        raise ValueError(f"unknown source kind {cfg.kind!r}") from None
    return kind(cfg, http or HttpConfig(), Path(base_dir), client=client)


__all__ = ["SOURCE_KINDS", "FetchResult", "Source", "SourceState", "make_source"]
