"""What the feed and page sources share: a URL, the one HTTP client, the conditional GET."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monitor.config import HttpConfig, SourceConfig
from monitor.sources.base import FetchResult, SourceState, validators_for
from monitor.sources.http import HttpClient, HttpResponse, shared_client


class HttpSource:
    """Base of the sources that GET one URL. Subclasses set ``kind`` and ``accept``."""

    kind = "http"
    accept = "*/*"

    def __init__(
        self,
        cfg: SourceConfig,
        http: HttpConfig | None = None,
        base_dir: Path | None = None,
        client: HttpClient | None = None,
    ) -> None:
        if not cfg.url:
            raise ValueError(f"a {self.kind} source needs a url")
        self.cfg = cfg
        self.name = cfg.name
        self.url: str = cfg.url
        self.client = client or shared_client(http)

    def get(self, state: SourceState) -> tuple[HttpResponse, dict[str, Any], FetchResult | None]:
        """GET with the stored validators: ``(response, state data, result)``, where
        ``result`` is the finished not-modified answer on a 304 (no body to parse), else None."""
        cfg = self.cfg
        etag, last_modified, data = validators_for(state, self.url)
        resp = self.client.get(
            self.url,
            etag=etag,
            last_modified=last_modified,
            headers=dict(cfg.headers),
            timeout=cfg.timeout,
            max_bytes=cfg.max_bytes,
            accept=self.accept,
        )
        if resp.not_modified:
            kept = SourceState(
                etag=resp.etag or etag, last_modified=resp.last_modified or last_modified, data=data
            )
            return resp, data, FetchResult([], kept, not_modified=True, min_next_poll=resp.max_age)
        return resp, data, None
