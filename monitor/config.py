"""config.yaml: the whole file's model, loading, ``${ENV}`` expansion in secret fields only.

Relative paths resolve against the config file's folder, so
``monitor --config /elsewhere/config.yaml run`` works from any working directory.
Unknown keys are errors; every error names ``file:line:col``.

The sections are in ``monitor.config_sections``, durations in ``monitor.durations``,
``${VAR}`` expansion in ``monitor.envvars``, the names that must resolve in
``monitor.config_refs``; each is importable from here as well.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, model_validator

from monitor.config_refs import reference_errors
from monitor.config_sections import (
    ChannelConfig,
    ChannelFormat,
    ClusterConfig,
    DaemonConfig,
    DigestConfig,
    HttpConfig,
    MetricsConfig,
    NotifyConfig,
    RouteConfig,
    RulesConfig,
    SchedulerConfig,
    SourceConfig,
    SourceKind,
    StorageConfig,
    WebConfig,
    _Model,
)
from monitor.durations import Duration, parse_duration
from monitor.envvars import env_names, expand_env
from monitor.errors import ConfigError, ConfigErrors
from monitor.urls import redact_url
from monitor.yamlfile import load_yaml_file

__all__ = [
    "ChannelConfig",
    "ChannelFormat",
    "ClusterConfig",
    "Config",
    "DaemonConfig",
    "DigestConfig",
    "Duration",
    "HttpConfig",
    "MetricsConfig",
    "NotifyConfig",
    "RouteConfig",
    "RulesConfig",
    "SchedulerConfig",
    "SourceConfig",
    "SourceKind",
    "StorageConfig",
    "WebConfig",
    "config_from_dict",
    "env_names",
    "expand_env",
    "load_config",
    "parse_duration",
]


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
    errors.extend(reference_errors(data, doc))
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
