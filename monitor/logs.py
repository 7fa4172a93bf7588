"""Logging setup: plain lines for a terminal, JSON lines on request. Never a secret."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                out[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info or record.exc_text:
            out["exc"] = record.exc_text or self.formatException(record.exc_info)
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


def hide_secrets(values) -> None:
    """Never print these strings (values shorter than 4 characters are ignored)."""
    _SECRETS.secrets = tuple(sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True))


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}")
_SECRET_PARAMS = re.compile(r"(pass|pwd|secret|token|key|auth)", re.IGNORECASE)


def config_secrets(config) -> set[str]:
    """What must never be printed for this config: the values of environment variables the
    config file refers to (``${SMTP_PASSWORD}``), and passwords or token parameters written
    into channel URLs."""
    found: set[str] = set()
    path = getattr(config, "path", None)
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError:
            text = ""
        for name in set(_ENV_REF.findall(text)):
            if os.environ.get(name):
                found.add(os.environ[name])
    for channel in getattr(config, "channels", {}).values():
        for url in getattr(channel, "urls", []):
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


def setup_logging(level: str = "INFO", fmt: str = "plain") -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_monitor", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler._monitor = True  # type: ignore[attr-defined]
    handler.addFilter(_SECRETS)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(level)
    # libraries that are chatty at INFO
    for noisy in ("apscheduler.executors.default", "apscheduler.executors.ops", "apscheduler.scheduler", "httpx", "httpcore", "trafilatura"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
