"""The notifier: route new hits to channels, render, send through apprise, exactly once
where the network allows it (at least once, a duplicate only inside the in-flight window).

    router.py    plan(config, hits, context) -> outbox rows: pure, on data the pipeline read
    digest.py    digest periods and keys
    render.py    messages per dialect (text, markdown, slack, html); sandboxed Jinja2; escaping
    channels.py  one transport per channel URL: SMTP, Slack, any apprise URL, the console
    dispatch.py  Dispatcher(config, store).run_once(): drain the outbox; announce()
"""

from __future__ import annotations

from monitor.notify.dispatch import Dispatcher, DispatchReport, announce
from monitor.notify.render import Message, Renderer
from monitor.notify import router

__all__ = ["router", "Dispatcher", "DispatchReport", "announce", "Renderer", "Message"]
