"""Logging setup: plain lines for a terminal, JSON lines on request. Never a secret."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

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
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def setup_logging(level: str = "INFO", fmt: str = "plain") -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_monitor", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler._monitor = True  # type: ignore[attr-defined]
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(level)
    # libraries that are chatty at INFO
    for noisy in ("apscheduler.executors.default", "apscheduler.scheduler", "httpx", "httpcore", "trafilatura"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
