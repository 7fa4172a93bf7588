"""config.yaml: pydantic models, loading, ``${ENV}`` expansion in secret fields only.

Relative paths resolve against the config file's folder, so
``monitor --config /elsewhere/config.yaml run`` works from any working directory.
Unknown keys are errors; every error names ``file:line:col``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.errors import ConfigError, ConfigErrors
from monitor.urls import ENV_REF, redact_url
from monitor.models import SEVERITIES
from monitor.suggest import did_you_mean
from monitor.yamlfile import load_yaml_file

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d|w)?\s*$", re.IGNORECASE)
_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> float:
    """``"90s"``, ``"15m"``, ``"2h"``, ``"1d"``, ``"1w"`` or a number of seconds → seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like '15m', '2h', '1d'")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNITS[(m.group(2) or "s").lower()]
    else:
        raise ValueError(
            f"invalid duration {value!r}: use seconds or a string like '15m', '2h', '1d'"
        )
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


def env_names(text: str) -> set[str]:
    """The environment variables ``text`` refers to as ``${VAR}`` or ``${VAR:-default}``."""
    return {m.group(1) for m in ENV_REF.finditer(text)}


def expand_env(value: str, environ: dict[str, str] | None = None) -> str:
    """Expand ``${VAR}`` and ``${VAR:-default}``; an unset variable without default is an error."""
    env = os.environ if environ is None else environ

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env and env[name] != "":
            return env[name]
        if default is not None:
            return default
        raise ValueError(f"environment variable {name} is not set")

    return ENV_REF.sub(repl, value)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_PG_SCHEMES = ("postgresql", "postgres")


def check_storage_url(value: str) -> str:
    """A ``storage.url`` as written in the file (``${VAR}`` kept), or ValueError saying what
    to change. The password, if any, must come from the environment."""
    text = value.strip()
    probe = ENV_REF.sub("x", text)  # a ${VAR} stands for one ordinary character here
    try:
        parts = urlsplit(probe)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"cannot read {redact_url(text)!r} as a URL: {exc}") from None
    if parts.scheme.lower() not in _PG_SCHEMES:
        raise ValueError(
            "not a PostgreSQL URL: write postgresql://user@host/database "
            "(a SQLite file is given as storage.path)"
        )
    if not parts.path.strip("/"):
        raise ValueError(
            "the URL names no database: add it after the host, as in postgresql://monitor@db.example.org/monitor"
        )
    userinfo = text.partition("://")[2].split("/", 1)[0].rpartition("@")[0]
    password = userinfo.partition(":")[2] if ":" in userinfo else None
    if password and not ENV_REF.fullmatch(password):
        raise ValueError(
            "the password is written out in the file: take it from the environment, as "
            "postgresql://monitor:${MONITOR_DB_PASSWORD}@db.example.org/monitor, or leave it "
            "out and set PGPASSWORD (or a ~/.pgpass file)"
        )
    expand_env(text)  # an unset ${VAR} is an error now, not at the first connection
    return text


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


class Config(_Model):
    storage: StorageConfig = Field(default_factory=StorageConfig)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)
    scheduler: SchedulerConfig = Field(default_factory=SchedulerConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    routes: list[RouteConfig] = Field(default_factory=list)
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    # set by load_config: the file it came from, and the folder relative paths resolve against
    path: Path | None = None
    base_dir: Path = Path(".")

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> "Config":
        if info.context and info.context.get("references_checked"):
            return self  # load_config checked them already, each at its own line
        if self.lease_problem():
            raise ValueError(self.lease_problem())
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate source names: {', '.join(dupes)}")
        for i, route in enumerate(self.routes):
            for ch in route.channels:
                if ch not in self.channels:
                    raise ValueError(f"routes[{i}] names undefined channel {ch!r}")
        if self.notify.operations_channel and self.notify.operations_channel not in self.channels:
            raise ValueError(
                f"notify.operations_channel names undefined channel {self.notify.operations_channel!r}"
            )
        return self

    # -- resolved paths -------------------------------------------------------------
    def resolve(self, p: Path | str) -> Path:
        p = Path(p).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def db_path(self) -> Path:
        return self.resolve(self.storage.path)

    def lease_problem(self) -> str | None:
        lease = self.cluster.lease
        if lease is not None and lease < 2 * self.daemon.heartbeat:
            return (
                f"cluster.lease ({lease:g}s) must be at least twice daemon.heartbeat "
                f"({self.daemon.heartbeat:g}s), or a live daemon loses its sources between two heartbeats"
            )
        return None

    @property
    def lease_seconds(self) -> float:
        """How long a daemon's claims last without a heartbeat (``cluster.lease``)."""
        return self.cluster.lease or 4 * self.daemon.heartbeat

    def storage_url(self) -> str | None:
        """The PostgreSQL URL with ``${VAR}`` expanded (it may hold the password: never show
        or log it; ``storage_label`` is the form to show), or None for SQLite."""
        return expand_env(self.storage.url) if self.storage.url is not None else None

    @property
    def storage_label(self) -> str:
        """Where the database is, as it may be shown: the SQLite file, or the URL as the
        file writes it with any password or ``${VAR}`` part hidden."""
        if self.storage.url is not None:
            return redact_url(self.storage.url)
        return str(self.db_path)

    @property
    def rule_paths(self) -> list[Path]:
        return [self.resolve(p) for p in self.rules.paths]

    def source_fingerprints(self) -> dict[str, str]:
        """Per source, a digest of every setting its fetch depends on (its own, and the http
        section): when it changes, a source disabled under the old settings gets another try."""
        http = self.http.model_dump(mode="json")
        out = {}
        for s in self.sources:
            own = s.model_dump(
                mode="json", exclude={"name", "interval", "jitter", "enabled", "tags", "language"}
            )
            blob = json.dumps({"source": own, "http": http}, sort_keys=True, default=str)
            out[s.name] = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]
        return out

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)


def _expand_channel_urls(
    data: dict[str, Any], doc: Any, templates: dict[str, tuple[str, ...]]
) -> list[ConfigError]:
    errors: list[ConfigError] = []
    channels = data.get("channels")
    if not isinstance(channels, dict):
        return errors
    for name, ch in channels.items():
        if not isinstance(ch, dict) or not isinstance(ch.get("urls"), list):
            continue
        expanded = []
        templates[name] = tuple(str(u) for u in ch["urls"])
        for i, url in enumerate(ch["urls"]):
            if not isinstance(url, str):
                expanded.append(url)
                continue
            try:
                expanded.append(expand_env(url))
            except ValueError as exc:
                errors.append(
                    doc.error(f"channels.{name}.urls[{i}]: {exc}", ("channels", name, "urls", i))
                )
                expanded.append(url)
        ch["urls"] = expanded
    return errors


def _names(items: Any, key: str) -> list[tuple[int, Any]]:
    """``(index, item[key])`` of each mapping in a list from the raw file (anything else skipped)."""
    if not isinstance(items, list):
        return []
    return [
        (i, x.get(key))
        for i, x in enumerate(items)
        if isinstance(x, dict) and isinstance(x.get(key), str)
    ]


def _reference_errors(data: dict[str, Any], doc: Any) -> list[ConfigError]:
    """Names that must resolve — route channels and sources, the operations channel, unique
    source names — each reported at its own line, even when other parts are invalid."""
    errors: list[ConfigError] = []
    channels = data.get("channels")
    channel_names = [str(k) for k in channels] if isinstance(channels, dict) else []
    sources = _names(data.get("sources"), "name")
    source_names = [n for _, n in sources]
    first: dict[str, int] = {}
    for i, name in sources:
        if name in first:
            errors.append(
                doc.error(
                    f"sources[{i}].name: {name!r} is already the name of sources[{first[name]}]",
                    ("sources", i, "name"),
                )
            )
        first.setdefault(name, i)
    routes = data.get("routes")
    for i, route in enumerate(routes if isinstance(routes, list) else []):
        if not isinstance(route, dict):
            continue
        for key, known, what in (
            ("channels", channel_names, "channel"),
            ("sources", source_names, "source"),
        ):
            names = route.get(key)
            for j, name in enumerate(names if isinstance(names, list) else []):
                if isinstance(name, str) and name not in known:
                    errors.append(
                        doc.error(
                            f"routes[{i}].{key}[{j}]: no {what} named {name!r}{did_you_mean(name, known)}"
                            + ("" if known or what == "source" else " (define it under channels:)"),
                            ("routes", i, key, j),
                        )
                    )
    notify = data.get("notify")
    ops = notify.get("operations_channel") if isinstance(notify, dict) else None
    if isinstance(ops, str) and ops not in channel_names:
        errors.append(
            doc.error(
                f"notify.operations_channel: no channel named {ops!r}{did_you_mean(ops, channel_names)}",
                ("notify", "operations_channel"),
            )
        )
    return errors


def _position(e: ConfigError) -> tuple[int, int]:
    return (e.line or 0, e.column or 0)


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; raise ConfigError(s) naming file:line:col.

    Every problem is reported in one pass, in the file's order: invalid values, unknown keys
    (with "did you mean …?"), and names that do not resolve."""
    path = Path(path)
    doc = load_yaml_file(path)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise doc.error(
            "the config file must be a mapping of sections (storage, sources, channels, routes …)"
        )
    templates: dict[str, tuple[str, ...]] = {}
    errors = _expand_channel_urls(data, doc, templates)
    for reserved in ("path", "base_dir"):
        if reserved in data:
            errors.append(doc.error(f"unknown key {reserved!r}", (reserved,)))
            data.pop(reserved)
    errors.extend(_reference_errors(data, doc))
    try:
        cfg = Config.model_validate(
            {**data, "path": path.resolve(), "base_dir": path.resolve().parent},
            context={"references_checked": True},
        )
    except ValidationError as exc:
        errors.extend(doc.validation_errors(exc, model=Config))
        cfg = None
    if cfg is not None and cfg.lease_problem():
        errors.append(doc.error(str(cfg.lease_problem()), ("cluster", "lease")))
    if errors:
        errors.sort(key=_position)
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors)
    assert cfg is not None
    for name, channel in cfg.channels.items():
        channel._templates = templates.get(name)
    return cfg


def config_from_dict(data: dict[str, Any], base_dir: Path | str = ".") -> Config:
    """Build a Config in code (tests, embedding). Paths resolve against ``base_dir``."""
    return Config.model_validate({**data, "base_dir": Path(base_dir).resolve()})
