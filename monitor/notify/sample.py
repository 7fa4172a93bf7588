"""A sample alert sent straight to a channel's URLs, to see that the channel delivers
(``monitor notify test CHANNEL`` and the review page's "Send a test"). Nothing is written
to the outbox: the message goes out once per URL, and each URL's outcome is returned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from monitor.config import ChannelConfig
from monitor.errors import NotifyError
from monitor.models import Hit, utcnow
from monitor.notify.channels import transports_for
from monitor.notify.render import Renderer


def sample_hit() -> Hit:
    now = utcnow()
    return Hit(
        id=0,
        rule_id="sample-rule",
        rule_title="Sample alert from signal monitor",
        severity="high",
        source="notify-test",
        item_key="sample",
        title="This is a test alert: the channel works",
        url="https://example.org/signal-monitor/test",
        created_at=now,
        published=now - timedelta(minutes=5),
        terms=("test", "alert"),
        spans=(),
        tags=("test",),
        snippet="If you can read this **test** **alert**, the channel delivers messages.",
        why="sent by `monitor notify test`",
        also_in=(),
    )


@dataclass(frozen=True)
class Outcome:
    label: str  # the URL's label (``monitor.urls.redact_url``): safe to show and log
    error: str | None  # None: delivered


def send_sample(
    name: str, channel: ChannelConfig, base_dir: Path | None, console: TextIO | None = None
) -> list[Outcome]:
    """Send the sample alert to every URL of the channel; one outcome per URL."""
    renderer = Renderer(channel, base_dir, name)
    hit = sample_hit()
    outcomes = []
    for transport in transports_for(name, channel, console):
        try:
            transport.send(renderer.render_alert(hit, transport.dialect))
        except NotifyError as exc:
            outcomes.append(Outcome(transport.label, str(exc)))
        else:
            outcomes.append(Outcome(transport.label, None))
    return outcomes
