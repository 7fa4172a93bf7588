"""systemd notify messages: the protocol function, and a real `monitor run` talking to a
unix datagram socket the test binds, as systemd would."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from helpers_ops import MonitorProcess, daemon_config
from monitor import sdnotify


def _bind(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(20)
    return sock


def test_notify_sends_one_datagram_with_every_field(tmp_path: Path):
    sock = _bind(str(tmp_path / "notify.sock"))
    with sock:
        assert sdnotify.notify(
            "READY=1",
            "STATUS=all good\nreally",
            environ={"NOTIFY_SOCKET": str(tmp_path / "notify.sock")},
        )
        assert sock.recv(4096).decode() == "READY=1\nSTATUS=all good really"


def test_notify_reaches_an_abstract_socket():
    name = f"monitor-test-{os.getpid()}-{time.monotonic_ns()}"
    sock = _bind("\0" + name)
    with sock:
        assert sdnotify.notify("WATCHDOG=1", environ={"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(4096) == b"WATCHDOG=1"


def test_without_notify_socket_or_with_nobody_listening_nothing_breaks(tmp_path: Path):
    assert sdnotify.notify("READY=1", environ={}) is False
    assert (
        sdnotify.notify("READY=1", environ={"NOTIFY_SOCKET": str(tmp_path / "nobody.sock")})
        is False
    )
    assert sdnotify.notify("READY=1", environ={"NOTIFY_SOCKET": "vsock:2:1234"}) is False


def test_watchdog_interval_is_half_of_watchdog_usec_for_this_process_only():
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "60000000"}) == 30.0
    assert (
        sdnotify.watchdog_interval({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid())})
        == 30.0
    )
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"}) is None
    assert sdnotify.watchdog_interval({}) is None
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "junk"}) is None


def _messages_until(sock: socket.socket, wanted: set[str], timeout: float = 20) -> list[str]:
    """Datagrams until every field in ``wanted`` (prefixes like 'STATUS=') has arrived."""
    got: list[str] = []
    deadline = time.monotonic() + timeout
    while not all(any(f.startswith(w) for m in got for f in m.split("\n")) for w in wanted):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"only received {got!r}")
        sock.settimeout(left)
        got.append(sock.recv(4096).decode())
    return got


@pytest.mark.slow
def test_monitor_run_sends_ready_status_watchdog_then_stops_cleanly_on_sigterm(tmp_path: Path):
    cfg = daemon_config(tmp_path)
    (tmp_path / "inbox" / "note.txt").write_text(
        "Town news\nA zebra crossing opens on Main Street.\n"
    )
    sock_path = str(tmp_path / "notify.sock")
    sock = _bind(sock_path)
    with (
        sock,
        MonitorProcess(
            tmp_path, cfg, env={"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "1000000"}
        ) as mon,
    ):
        got = _messages_until(sock, {"READY=1", "STATUS=", "WATCHDOG=1"})
        fields = [f for m in got for f in m.split("\n")]
        assert any(f.startswith("STATUS=watching 1 source(s) with 1 rule(s)") for f in fields), (
            fields
        )
        # the watchdog keeps coming, at half of WATCHDOG_USEC (0.5 s here)
        _messages_until(sock, {"WATCHDOG=1"}, timeout=3)
        # the hit shows up in STATUS= once polled
        assert any(
            "1 hit(s) since start" in f
            for m in _messages_until(sock, {"STATUS=watching 1 source(s) with 1 rule(s); 1 hit"})
            for f in m.split("\n")
        )
        mon.signal(15)
        stopping = _messages_until(sock, {"STOPPING=1"}, timeout=10)
        assert any("STOPPING=1" in m for m in stopping)
        assert mon.proc.wait(timeout=20) == 0
        mon.wait_for("stopped")
