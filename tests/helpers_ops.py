"""A real `monitor run` subprocess whose JSON log lines a test can wait for, and small
builders for the operations tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable

from conftest import monitor_cmd
from reliability.helpers import ZEBRA_RULE  # one test rule for the daemon tests
from yaml_helpers import write_config


def daemon_config(folder: Path, **sections: Any) -> Path:
    """A config with one folder source (``inbox/``, polled every second), console alerts,
    a fast file watch and heartbeat, and a rules/ folder holding one rule (zebra crossings)."""
    (folder / "inbox").mkdir(exist_ok=True)
    rules = folder / "rules"
    if not rules.exists():
        rules.mkdir()
        (rules / "zebra.yaml").write_text(ZEBRA_RULE, encoding="utf-8")
    base: dict[str, Any] = {
        "sources": [{"name": "inbox", "kind": "folder", "path": "inbox", "interval": "1s"}],
        "channels": {"console": {"type": "console"}},
        "routes": [{"channels": ["console"]}],
        "notify": {"interval": "1s", "operations_channel": "console"},
        "daemon": {"watch_interval": "0.2s", "heartbeat": "1s", "stop_timeout": "10s"},
    }
    base.update(sections)
    return write_config(folder, **base)


class MonitorProcess:
    """``monitor --log-format json run`` in a subprocess; every stderr line is kept, parsed
    as JSON when it is JSON, and a test waits for the one it expects (bounded)."""

    def __init__(
        self,
        cwd: Path,
        config: Path,
        *,
        env: dict[str, str] | None = None,
        global_args: tuple[str, ...] = (),
    ) -> None:
        full_env = {**os.environ, **(env or {})}
        self.proc = subprocess.Popen(
            monitor_cmd("--config", str(config), "--log-format", "json", *global_args, "run"),
            cwd=cwd,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.records: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.stdout: list[str] = []
        self._cond = threading.Condition()
        self._eof = False
        threading.Thread(target=self._read_stderr, daemon=True).start()
        threading.Thread(target=self._read_stdout, daemon=True).start()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            try:
                record = json.loads(line)
            except ValueError:
                record = {"message": line.rstrip("\n"), "level": "raw"}
            with self._cond:
                self.raw.append(line)
                self.records.append(record)
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.stdout.append(line)

    def mark(self) -> int:
        with self._cond:
            return len(self.records)

    def wait_for(
        self,
        predicate: Callable[[dict[str, Any]], bool] | str,
        *,
        since: int = 0,
        timeout: float = 20.0,
    ) -> dict[str, Any]:
        """The first log record from index ``since`` that satisfies ``predicate`` (or whose
        message contains the string); waits at most ``timeout`` seconds for it."""
        if isinstance(predicate, str):
            text = predicate
            predicate = lambda r: text in str(r.get("message", ""))  # noqa: E731
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for record in self.records[since:]:
                    if predicate(record):
                        return record
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    raise AssertionError(
                        f"log line not seen within {timeout}s; log:\n" + "".join(self.raw[-40:])
                    )
                self._cond.wait(min(left, 0.5))

    def messages(self, since: int = 0) -> list[str]:
        with self._cond:
            return [str(r.get("message", "")) for r in self.records[since:]]

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def __enter__(self) -> "MonitorProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
