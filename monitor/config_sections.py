"""The sections of config.yaml as pydantic models: unknown keys are errors, invariants are
validators with plain messages. ``monitor.config.Config`` holds one of each."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from monitor.dburl import check_storage_url
from monitor.durations import Duration
from monitor.models import SEVERITIES


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageConfig(_Model):
    path: Path = Path("data/monitor.db")
    url: str | None = Field(
        default=None,
        description="a PostgreSQL database instead of the SQLite file: postgresql://user@host/db "
        "(the password from ${VAR} or PGPASSWORD)",
    )
    pool_size: int = Field(
        default=10, ge=1, le=200, description="PostgreSQL connections this process may open"
    )
    busy_timeout: Duration = 30.0
    retention: Duration | None = Field(
        default=90 * 86400,
        description="prune items older than this (hits and their items are kept)",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_storage_url(value)

    @model_validator(mode="after")
    def _one_database(self) -> "StorageConfig":
        if self.url is not None and "path" in self.model_fields_set:
            raise ValueError(
                "give storage.path (a SQLite file) or storage.url (PostgreSQL), not both"
            )
        return self


class RulesConfig(_Model):
    paths: list[Path] = Field(default_factory=lambda: [Path("rules")])
    watch: bool = True


class HttpConfig(_Model):
    timeout: Duration = 20.0
    connect_timeout: Duration = 10.0
    max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    allow_private_networks: bool = False
    user_agent: str | None = None


SourceKind = Literal["feed", "page", "folder"]


class SourceConfig(_Model):
    name: str = Field(min_length=1)
    kind: SourceKind
    url: str | None = None
    path: Path | None = None
    interval: Duration = 1800.0
    jitter: Duration | None = None
    enabled: bool = True
    tags: list[str] = Field(default_factory=list)
    language: str | None = None
    # http sources
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration | None = None
    max_bytes: int | None = Field(default=None, gt=0)
    full_text: bool = False
    # page sources
    selector: str | None = None
    # folder sources
    patterns: list[str] = Field(
        default_factory=lambda: ["*.txt", "*.md", "*.html", "*.htm", "*.eml"]
    )
    recursive: bool = True

    @field_validator("interval")
    @classmethod
    def _positive_interval(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("interval must be positive")
        return v

    @model_validator(mode="after")
    def _kind_fields(self) -> "SourceConfig":
        if self.kind in ("feed", "page") and not self.url:
            raise ValueError(f"a {self.kind} source needs a url")
        if self.kind == "folder" and not self.path:
            raise ValueError("a folder source needs a path")
        if self.url and not re.match(r"^https?://", self.url, re.IGNORECASE):
            raise ValueError("url must start with http:// or https://")
        return self


ChannelFormat = Literal["text", "markdown", "html"]


class ChannelConfig(_Model):
    type: Literal["apprise", "console", "slack"] = (
        "apprise"  # slack: urls may be any host's https webhook
    )
    urls: list[str] = Field(default_factory=list)
    enabled: bool = Field(
        default=True, description="false: no alert is routed to it (its queued ones are given up)"
    )
    format: ChannelFormat = "text"
    template: str | None = None
    subject_template: str | None = None
    rate_limit: int | None = Field(
        default=None,
        gt=0,
        description="messages per rate_window; the overflow is folded into one summary",
    )
    rate_window: Duration = 3600.0
    # the URLs as the config file spells them, before ${VAR} expansion (set by load_config)
    _templates: tuple[str, ...] | None = PrivateAttr(default=None)

    @property
    def templates(self) -> list[str]:
        """Each URL as written in the file, ``${VAR}`` unexpanded: what its label (for storing,
        showing and logging, ``monitor.urls.redact_url``) is made from."""
        if self._templates and len(self._templates) == len(self.urls):
            return list(self._templates)
        return list(self.urls)

    base_url: str | None = Field(
        default=None,
        description="for slack:// URLs: the webhook (or bot API) root of a "
        "Slack-compatible host instead of Slack's own",
    )

    @model_validator(mode="after")
    def _urls(self) -> "ChannelConfig":
        if self.type != "console" and not self.urls:
            raise ValueError(
                f"{'an' if self.type == 'apprise' else 'a'} {self.type} channel needs at least one url"
            )
        if self.base_url is not None and not re.match(r"^https?://", self.base_url, re.IGNORECASE):
            raise ValueError("base_url must start with http:// or https://")
        return self


class DigestConfig(_Model):
    every: Duration | None = None
    daily: str | None = Field(default=None, description="HH:MM")
    timezone: str = "UTC"

    @model_validator(mode="after")
    def _one(self) -> "DigestConfig":
        if (self.every is None) == (self.daily is None):
            raise ValueError("a digest needs exactly one of 'every' or 'daily'")
        if self.daily is not None and not re.match(r"^([01]?\d|2[0-3]):[0-5]\d$", self.daily):
            raise ValueError("daily must be HH:MM")
        return self


class RouteConfig(_Model):
    name: str | None = None
    rules: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    severity: list[Literal["info", "low", "medium", "high", "critical"]] = Field(
        default_factory=list
    )
    min_severity: Literal["info", "low", "medium", "high", "critical"] | None = None
    sources: list[str] = Field(default_factory=list)
    channels: list[str] = Field(min_length=1)
    digest: DigestConfig | None = None

    def matches(
        self, rule_id: str, tags: tuple[str, ...] | list[str], severity: str, source: str
    ) -> bool:
        if self.rules and rule_id not in self.rules:
            return False
        if self.tags and not set(self.tags) & set(tags):
            return False
        if self.severity and severity not in self.severity:
            return False
        if self.min_severity and SEVERITIES.index(severity) < SEVERITIES.index(self.min_severity):
            return False
        if self.sources and source not in self.sources:
            return False
        return True


class NotifyConfig(_Model):
    backoff_base: Duration = 30.0
    backoff_max: Duration = 3600.0
    max_age: Duration = 2 * 86400.0
    batch: int = Field(default=50, gt=0)
    interval: Duration = 15.0
    operations_channel: str | None = None
    cooldown: Duration = 6 * 3600.0


class SchedulerConfig(_Model):
    failure_threshold: int = Field(
        default=5, gt=0, description="consecutive failures before a source is marked failing"
    )
    backoff_max: Duration = 6 * 3600.0
    dedup_window: Duration = 3 * 86400.0


class DaemonConfig(_Model):
    watch_interval: Duration = Field(
        default=2.0, gt=0, description="how often rules/ and the config are checked for changes"
    )
    heartbeat: Duration = Field(
        default=15.0, gt=0, description="how often the daemon records that it is alive"
    )
    stop_timeout: Duration = Field(
        default=30.0, ge=0, description="how long a stop waits for running polls"
    )


class ClusterConfig(_Model):
    """Several daemons on one database (PostgreSQL): how they divide the work."""

    lease: Duration | None = Field(
        default=None,
        gt=0,
        description="how long a claim (a daemon's own, its sources') lasts without a heartbeat "
        "renewing it: a daemon that dies loses its sources after this (default: four heartbeats)",
    )
    claim_interval: Duration = Field(
        default=1.0, gt=0, description="how often an idle daemon looks for due sources to claim"
    )


class MetricsConfig(_Model):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=9464, ge=0, le=65535)


class WebConfig(_Model):
    """The review page (``monitor web``): the names it answers to, its server's limits."""

    hosts: list[str] = Field(
        default_factory=list, description="public host names it answers to, besides loopback"
    )
    base_url: str | None = Field(
        default=None, description="its public address, for links in alerts and feeds"
    )
    workers: int = Field(
        default=8, gt=0, le=256, description="threads that run requests (a bounded pool)"
    )
    timeout: Duration = Field(
        default=10.0,
        gt=0,
        description="how long a connection may take to send a request's headers, or idle between requests",
    )
    read_timeout: Duration = Field(
        default=30.0, gt=0, description="how long one read from a client may take"
    )
    backlog: int = Field(default=1024, gt=0, description="connections waiting to be accepted")
    login_attempts: int = Field(
        default=5, gt=0, description="failed sign-ins from one address per login_window"
    )
    login_window: Duration = Field(
        default=300.0, gt=0, description="the window failed sign-ins are counted over"
    )
    session_days: float = Field(default=14.0, gt=0, description="how long a sign-in lasts")
    live_interval: Duration = Field(
        default=10.0, ge=1, description="how often the hit list looks for new hits"
    )
