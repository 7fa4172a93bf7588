"""HTTP senders that read the answer: Slack (and Slack-compatible hosts) and JSON webhooks.

    SlackTransport    incoming webhook (body ``ok``) or bot token (chat.postMessage, ``"ok": true``)
    WebhookTransport  json:// and jsons://: the alert as structured JSON (``Message.data``)
    both send the delivery's key (``Message.key``) as an ``Idempotency-Key`` header

    429 (+ Retry-After) and 5xx → retry later; other 4xx → permanent; no answer → retry.

One httpx client serves every send of the process (its connection pool is reused); a
channel URL that turns certificate checks off (``?verify=no``) gets a second one.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from monitor.errors import NotifyError, PermanentNotifyError
from monitor.httpheaders import parse_retry_after
from monitor.notify.dialects import escape_slack
from monitor.notify.render import Message
from monitor.notify.urls import SlackSettings, WebhookSettings
from monitor.textfmt import one_line

HTTP_TIMEOUT = 15.0
HEADERS = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "signal-monitor"}

_clients: dict[bool, httpx.Client] = {}
_clients_lock = threading.Lock()


def http_client(verify: bool = True) -> httpx.Client:
    """The process's client for notifications (thread-safe; never follows redirects)."""
    with _clients_lock:
        client = _clients.get(verify)
        if client is None:
            client = _clients[verify] = httpx.Client(
                timeout=HTTP_TIMEOUT, verify=verify, follow_redirects=False, trust_env=False
            )
        return client


def _post(
    label: str,
    what: str,
    url: str,
    payload: Any,
    headers: dict[str, str],
    verify: bool,
    auth: tuple[str, str] | None = None,
) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    try:
        client = http_client(verify)
        r = (
            client.post(url, content=body, headers=headers, auth=auth)
            if auth
            else client.post(url, content=body, headers=headers)
        )
    except httpx.HTTPError as exc:
        raise NotifyError(f"{label}: cannot reach {what}: {type(exc).__name__}") from None
    if r.status_code == 429:
        raise NotifyError(
            f"{label}: {what} rate limit (429)",
            retry_after=parse_retry_after(r.headers.get("Retry-After")),
        )
    if r.status_code >= 500:
        raise NotifyError(f"{label}: {what} answered {r.status_code}")
    if r.status_code >= 400:
        raise PermanentNotifyError(
            f"{label}: {what} answered {r.status_code} {one_line(r.text.strip()[:200])}"
        )
    return r


class SlackTransport:
    """Slack incoming webhooks and bot tokens, with status codes read."""

    dialect = "slack"

    def __init__(self, settings: SlackSettings, key: str, label: str) -> None:
        self.settings = settings
        self.key = key
        self.label = label

    def payloads(self, message: Message) -> list[tuple[str, dict[str, Any]]]:
        s = self.settings
        text = f"*{escape_slack(message.subject)}*\n{message.body.rstrip()}"
        base: dict[str, Any] = {
            "text": text,
            "mrkdwn": True,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if s.username:
            base["username"] = s.username
        return [(url, {**base, "channel": c} if c else base) for url, c in s.posts]

    def send(self, message: Message) -> None:
        s = self.settings
        headers = dict(HEADERS)
        if s.token:
            headers["Authorization"] = f"Bearer {s.token}"
        if message.key:
            headers["Idempotency-Key"] = message.key
        posts = self.payloads(message)
        if not posts:
            raise PermanentNotifyError(f"{self.label}: no Slack channel to post to")
        for url, payload in posts:
            self._check(_post(self.label, "Slack", url, payload, headers, s.verify))

    def _check(self, r: httpx.Response) -> None:
        if self.settings.mode == "bot":
            try:
                answer = r.json()
            except ValueError:
                answer = {}
            if answer.get("ok") is True:
                return
            error = str(answer.get("error", "no ok in the answer"))
            if error == "ratelimited":
                raise NotifyError(
                    f"{self.label}: Slack rate limit",
                    retry_after=parse_retry_after(r.headers.get("Retry-After")),
                )
            raise PermanentNotifyError(f"{self.label}: Slack refused: {one_line(error)}")
        if r.text.strip() != "ok":
            raise NotifyError(f"{self.label}: Slack answered {r.status_code} without 'ok'")


class WebhookTransport:
    """A JSON webhook: the structured alert, not a generic title and message."""

    dialect = "text"

    def __init__(self, settings: WebhookSettings, key: str, label: str) -> None:
        self.settings = settings
        self.key = key
        self.label = label

    def payload(self, message: Message) -> dict[str, Any]:
        if message.data is not None:
            return message.data
        return {"kind": message.kind, "title": message.subject, "message": message.body}

    def send(self, message: Message) -> None:
        s = self.settings
        headers = {**HEADERS, **dict(s.headers)}
        if message.key:
            headers["Idempotency-Key"] = message.key
        _post(
            self.label, "the webhook", s.endpoint, self.payload(message), headers, s.verify, s.auth
        )
