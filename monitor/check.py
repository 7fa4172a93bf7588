"""Everything that can be known to be wrong before the daemon starts, found in one pass.

    check_config(path, online=False) ──► CheckReport(problems, notes)
        the config file       every invalid value, unknown key, unresolved name (config.py)
        channel URLs          each apprise channel URL must be one apprise understands
        routes                the rule ids a route names must be loaded rules
        rules                 every rule file's problems, and each rule's examples
        --online              each enabled source fetched once (nothing stored)

Each problem is a ConfigError naming ``file:line:col`` where there is one. Secrets in URLs
are never part of a message (apprise's privacy form is shown).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.config import Config, RulesConfig, SourceConfig, load_config
from monitor.errors import ConfigError, ConfigErrors, FetchError
from monitor.suggest import did_you_mean
from monitor.yamlfile import load_yaml_file


@dataclass
class CheckReport:
    problems: list[ConfigError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was checked, for people
    config: Config | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _each(exc: ConfigError) -> list[ConfigError]:
    return list(exc.errors) if isinstance(exc, ConfigErrors) else [exc]


def _private(url: str) -> str:
    from monitor.logs import private_url

    return private_url(url)


def channel_url_problems(path: Path) -> list[ConfigError]:
    """Every apprise channel URL in the file that apprise does not understand, each at its
    line; read from the file itself, so they are found even when another part is invalid."""
    import apprise

    from monitor.config import expand_env

    try:
        doc = load_yaml_file(path)
    except ConfigError:
        return []  # a file that cannot be read is reported by load_config
    channels = doc.data.get("channels") if isinstance(doc.data, dict) else None
    problems = []
    quiet = logging.getLogger("apprise")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # apprise logs its own complaint; ours names the line
    try:
        for name, channel in channels.items() if isinstance(channels, dict) else []:
            if not isinstance(channel, dict) or channel.get("type", "apprise") != "apprise":
                continue
            urls = channel.get("urls")
            for i, raw in enumerate(urls if isinstance(urls, list) else []):
                if not isinstance(raw, str):
                    continue
                try:
                    url = expand_env(raw)
                except ValueError:
                    continue  # an unset variable is reported by load_config
                if apprise.Apprise.instantiate(url) is not None:
                    continue
                scheme = url.split("://", 1)[0] if "://" in url else ""
                why = (
                    f"apprise has no {scheme}:// service"
                    if scheme and not _known_scheme(scheme)
                    else "apprise cannot read this URL (a part is missing or malformed)"
                )
                problems.append(
                    doc.error(
                        f"channels.{name}.urls[{i}]: {why}: {_private(url)}",
                        ("channels", name, "urls", i),
                    )
                )
    finally:
        quiet.setLevel(level)
    return problems


def _known_scheme(scheme: str) -> bool:
    import apprise

    details = apprise.Apprise().details()
    for service in details.get("schemas", []):
        protocols = list(service.get("protocols") or []) + list(
            service.get("secure_protocols") or []
        )
        if scheme.lower() in (p.lower() for p in protocols):
            return True
    return False


def route_rule_problems(cfg: Config, rule_ids: list[str]) -> list[ConfigError]:
    doc = load_yaml_file(cfg.path) if cfg.path else None
    problems = []
    for i, route in enumerate(cfg.routes):
        for j, rule_id in enumerate(route.rules):
            if rule_id in rule_ids:
                continue
            message = (
                f"routes[{i}].rules[{j}]: no rule {rule_id!r}{did_you_mean(rule_id, rule_ids)}"
            )
            problems.append(
                doc.error(message, ("routes", i, "rules", j)) if doc else ConfigError(message)
            )
    return problems


def _rule_paths_of_broken_config(path: Path) -> list[Path]:
    """Where the rules are when the config itself does not load: its rules.paths if that
    section is readable, else the default ``rules`` beside the file."""
    base = path.resolve().parent
    try:
        data = load_yaml_file(path).data
        section = data.get("rules", {}) if isinstance(data, dict) else {}
        paths = RulesConfig.model_validate(section or {}).paths
    except Exception:
        paths = RulesConfig().paths
    return [p if p.is_absolute() else base / p for p in (Path(x).expanduser() for x in paths)]


def fetch_problems(cfg: Config) -> tuple[list[ConfigError], list[str]]:
    """Fetch every enabled source once (concurrently); a source that cannot be read is a problem."""
    from concurrent.futures import ThreadPoolExecutor

    from monitor.sources import make_source
    from monitor.sources.base import SourceState

    doc = load_yaml_file(cfg.path) if cfg.path else None
    index = {s.name: i for i, s in enumerate(cfg.sources)}

    def one(source: SourceConfig) -> tuple[Any, str | None, int, float]:
        started = time.monotonic()
        try:
            result = make_source(source, cfg.http, cfg.base_dir).fetch(SourceState())
        except FetchError as exc:
            return source, str(exc), 0, time.monotonic() - started
        except Exception as exc:  # a source's fault, whatever it is, is reported, not raised
            return source, f"{type(exc).__name__}: {exc}", 0, time.monotonic() - started
        return source, None, len(result.items), time.monotonic() - started

    sources = [s for s in cfg.sources if s.enabled]
    problems, notes = [], []
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(sources)))) as pool:
        for source, error, items, seconds in pool.map(one, sources):
            if error is None:
                notes.append(f"source {source.name}: read, {items} item(s) in {seconds:.1f}s")
                continue
            message = f"sources[{index[source.name]}] ({source.name}): cannot be read: {error}"
            loc = ("sources", index[source.name])
            problems.append(doc.error(message, loc) if doc else ConfigError(message))
    return problems, notes


def check_config(path: str | Path, online: bool = False) -> CheckReport:
    """Every problem of the config at ``path`` and of the rules it names (see the module doc)."""
    from monitor.rules import check_examples, load_rule_set

    path = Path(path)
    report = CheckReport()
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        report.problems.extend(_each(exc))
        cfg = None
    report.config = cfg
    rule_paths = cfg.rule_paths if cfg else _rule_paths_of_broken_config(path)
    if not path.exists():
        return report
    report.problems.extend(channel_url_problems(path))
    rule_set, rule_errors = load_rule_set(rule_paths)
    report.problems.extend(rule_errors)
    report.problems.extend(check_examples(rule_set.rules))
    rule_ids = [r.id for r in rule_set.rules]
    report.notes.append(f"{len(rule_ids)} rule(s) in {len(rule_set.files)} file(s)")
    report.problems.sort(key=lambda e: (str(e.path or ""), e.line or 0, e.column or 0))
    if cfg is not None:
        report.problems.extend(route_rule_problems(cfg, rule_ids))
        urls = sum(len(c.urls) for c in cfg.channels.values())
        report.notes.insert(
            0,
            f"{len(cfg.sources)} source(s), {len(cfg.channels)} channel(s) with {urls} URL(s), "
            f"{len(cfg.routes)} route(s)",
        )
        if online:
            problems, notes = fetch_problems(cfg)
            report.problems.extend(problems)
            report.notes.extend(notes)
    return report
