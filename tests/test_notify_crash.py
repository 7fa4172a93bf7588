"""Crash safety: `monitor run --once` killed with SIGKILL after its hits are recorded and
before they are sent; after a restart each hit is delivered exactly once.

The kill is timed without sleeping: the channel's SMTP port is a plain listening socket
that accepts the dispatcher's connection and never greets it, so the process is caught
in its first send (that row in flight, the others pending, nothing delivered) exactly when
``accept()`` returns.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import monitor_cmd
from helpers_notify import ScriptedSmtp, free_port
from yaml_helpers import write_config

# the test's own rules, so edits to the shipped rules cannot change what it exercises
RULES = """rules:
  - id: detainees
    title: Russians held in Baku
    severity: high
    match: {all: [{any: [Baku]}, {any: [handed over, hands over]}]}
  - id: lease
    title: The route leased to the US
    severity: critical
    match: {all: [{any: [lease]}, {any: [99 years]}]}
  - id: extradition
    title: Tatulyan extradition
    severity: medium
    match: {all: [{any: [Tatulyan]}, {any: [extradite]}]}
"""

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

TITLES = [
    "Baku hands over detained Russians to Moscow",
    "Armenia to lease the Trump route to the United States for 99 years",
    "Armenia refuses to extradite Ruben Tatulyan",
]
RSS = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Caucasus wire</title><link>https://wire.example.org/</link><description>t</description>
<item><guid>w1</guid><title>{TITLES[0]}</title><link>https://wire.example.org/1</link>
<description>Azerbaijan handed over the eleven Russian citizens convicted in Baku to the Russian side on Tuesday.</description></item>
<item><guid>w2</guid><title>{TITLES[1]}</title><link>https://wire.example.org/2</link>
<description>Yerevan agreed to lease the transit route through Syunik to the United States for 99 years, officials said.</description></item>
<item><guid>w3</guid><title>{TITLES[2]}</title><link>https://wire.example.org/3</link>
<description>Armenia refused to extradite Ruben Tatulyan to Russia, the prosecutor's office said.</description></item>
</channel></rss>"""


def test_sigkill_before_sending_then_restart_delivers_each_hit_exactly_once(
    backend, tmp_path: Path, httpserver
):
    httpserver.expect_request("/feed.xml").respond_with_data(
        RSS, content_type="application/rss+xml"
    )
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "test.yaml").write_text(RULES, encoding="utf-8")
    port = free_port()
    stall = socket.socket()
    stall.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    stall.bind(("127.0.0.1", port))
    stall.listen(8)
    url = f"mailto://127.0.0.1:{port}?from=monitor@example.org&to=analyst@example.org&mode=insecure"
    cfg = write_config(
        tmp_path,
        sources=[
            {
                "name": "wire",
                "kind": "feed",
                "url": httpserver.url_for("/feed.xml"),
                "interval": "5m",
            }
        ],
        channels={"email": {"urls": [url], "format": "text"}},
        routes=[{"channels": ["email"]}],
        http={"allow_private_networks": True},
        notify={"cooldown": 0},
        storage=backend.storage,
    )
    args = monitor_cmd("--config", str(cfg), "run", "--once")
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stall.settimeout(0.5)
    conn = None
    while conn is None:  # wait for the connection, or fail at once if the run ended without one
        try:
            conn, _ = stall.accept()  # the dispatcher is connecting for its first send
        except socket.timeout:
            if proc.poll() is not None:
                pytest.fail(
                    f"the run ended without sending: {proc.communicate()[1].decode()[-3000:]}"
                )
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    conn.close()
    stall.close()

    with backend.open() as store:
        assert store.count_hits() == 3
        assert sorted(r["status"] for r in store.query("SELECT status FROM outbox")) == [
            "inflight",
            "pending",
            "pending",
        ]

    smtp = ScriptedSmtp(port=port).start()
    try:
        again = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        third = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert third.returncode == 0, third.stderr
        subjects = sorted(m["Subject"] for m in smtp.messages)
        assert len(subjects) == 3
        for title in TITLES:
            assert sum(title in s for s in subjects) == 1, (title, subjects)
        with backend.open() as store:
            assert store.count_hits() == 3
            assert [r["status"] for r in store.query("SELECT status FROM outbox")] == ["sent"] * 3
    finally:
        smtp.stop()
