"""Fixtures of the fault-injection suite: a feed server and a webhook receiver per test."""

from __future__ import annotations

import sys

import pytest

from reliability.helpers import FeedServer, WebhookSink

if sys.platform != "linux":  # SIGKILL, /proc, prlimit
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def feeds():
    with FeedServer() as server:
        yield server


@pytest.fixture
def webhook():
    with WebhookSink() as sink:
        yield sink
