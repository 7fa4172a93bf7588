"""Shared fixtures: a project folder laid out like the repository, a real local SMTP server."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from helpers_notify import ScriptedSmtp, free_port  # noqa: F401  (free_port: for the tests)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A temporary copy of the shipped rules and seeds, with the default config beside them."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    return tmp_path


class SmtpSink(ScriptedSmtp):
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that accepts and keeps every message."""

    def mailto(self, to: str = "analyst@example.org") -> str:
        return self.url(to)

    @staticmethod
    def body(msg) -> str:
        parts = [p.get_content() for p in msg.walk() if p.get_content_maintype() == "text"]
        return "\n".join(parts)


@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def monitor_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", *args]


@pytest.fixture(scope="session")
def pg_cluster():
    """A real throwaway PostgreSQL cluster (tests/pgcluster.py), one per test session."""
    from pgcluster import MISSING, server_bindir, start_cluster

    if server_bindir() is None:
        pytest.skip(MISSING)
    cluster = start_cluster()
    yield cluster
    cluster.stop()
