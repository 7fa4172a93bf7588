"""Logging setup: plain lines for a terminal, JSON lines on request. Never a secret."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

from monitor.config import Config, env_names

_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                out[key] = (
                    value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
                )
        if record.exc_info or record.exc_text:
            out["exc"] = record.exc_text or (
                self.formatException(record.exc_info) if record.exc_info else ""
            )
        return json.dumps(out, ensure_ascii=False)


class SecretFilter(logging.Filter):
    """Masks known secret values (passwords and tokens from the environment) in every record
    that reaches our handler: the message, string extras, and exception text."""

    MASK = "***"

    def __init__(self) -> None:
        super().__init__()
        self.secrets: tuple[str, ...] = ()

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, self.MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        for key, value in list(record.__dict__.items()):
            if key not in _RESERVED and isinstance(value, str):
                setattr(record, key, self.redact(value))
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


_SECRETS = SecretFilter()


def hide_secrets(values: Iterable[str]) -> None:
    """Never print these strings (values shorter than 4 characters are ignored)."""
    _SECRETS.secrets = tuple(
        sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)
    )


_SECRET_PARAMS = re.compile(r"(pass|pwd|secret|token|key|auth)", re.IGNORECASE)


def config_secrets(config: Config) -> set[str]:
    """What must never be printed for this config: the values of environment variables the
    config file refers to (``${SMTP_PASSWORD}``), and passwords or token parameters written
    into channel URLs."""
    found: set[str] = set()
    if config.path:
        try:
            text = Path(config.path).read_text(encoding="utf-8")
        except OSError:
            text = ""
        for name in env_names(text):
            if os.environ.get(name):
                found.add(os.environ[name])
    for channel in config.channels.values():
        for url in channel.urls:
            try:
                parts = urlsplit(url)
                if parts.password:
                    found.update({parts.password, unquote(parts.password)})
                for key, value in parse_qsl(parts.query):
                    if _SECRET_PARAMS.search(key) and value:
                        found.add(value)
            except ValueError:
                continue
    return found


def private_url(url: str) -> str:
    """A channel URL's label, as stored and shown everywhere (``monitor.urls.redact_url``,
    through the notifier's ``label_for``: passwords, tokens and keys masked)."""
    import apprise

    from monitor.notify.channels import label_for

    try:
        plugin = apprise.Apprise.instantiate(url)
    except Exception:  # noqa: BLE001 - an unreadable URL is still labelled, never echoed
        plugin = None
    if plugin is None:
        return url.split(":", 1)[0] + "://(unparsable URL hidden)"
    return label_for(plugin, url)


class _MonitorHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler setup_logging installs (replaced, not added to, on a second call)."""


def channel_labels(config: Config) -> list[tuple[str, str]]:
    """(channel, what it is) for the start-up log: each URL by its transport's label."""
    from monitor.notify.channels import transports_for

    out: list[tuple[str, str]] = []
    for name, channel in config.channels.items():
        if channel.type == "console":
            out.append((name, "prints alerts to the terminal"))
        else:
            out.extend((name, t.label) for t in transports_for(name, channel))
    return out


def setup_logging(level: str = "INFO", fmt: str = "plain") -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if isinstance(h, _MonitorHandler):
            root.removeHandler(h)
    handler = _MonitorHandler(sys.stderr)
    handler.addFilter(_SECRETS)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"
            )
        )
    root.addHandler(handler)
    root.setLevel(level)
    # libraries that are chatty at INFO
    for noisy in (
        "apscheduler.executors.default",
        "apscheduler.executors.ops",
        "apscheduler.scheduler",
        "httpx",
        "httpcore",
        "trafilatura",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
