"""Channels: where a rendered message goes. One transport per channel URL, so each URL's
outcome is known on its own (an ``apprise.Apprise`` holding several URLs only says
"partial").

    Transport.send(message)  returns on success, raises NotifyError (retry later, maybe
                             with ``retry_after``) or PermanentNotifyError (do not retry)

    mailto:// mailtos://   SmtpTransport     (smtp.py)      smtplib: 4xx → retry, 5xx → permanent
    slack://, or any https  SlackTransport    (webhooks.py)  429 + Retry-After, 5xx retry, 4xx permanent;
      URL of a slack channel                                 the channel's base_url for other hosts
    json:// jsons://       WebhookTransport  (webhooks.py)  the alert as structured JSON
    any other apprise URL   AppriseTransport  one ``apprise.Apprise`` per URL; its bool is
                                              all we learn, so a failure is retried until
                                              notify.max_age
    type: console           ConsoleTransport  prints the message; never fails

apprise validates every URL; a URL's label (what is stored, shown and logged) is
``monitor.urls.redact_url`` of the URL as the config file spells it, also masking what the
URL's plugin itself calls secret (``label_for``). The senders this project owns read their
settings from our own parsing of the URL (urls.py), never from apprise's plugin objects.
Every message carries its delivery's key (``Message.key``): the email Message-ID, an
``Idempotency-Key`` header on Slack and JSON webhooks, and on apprise's form:// and xml://
through their ``+Header`` URL syntax.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from collections.abc import Iterable
from typing import Protocol, TextIO
from urllib.parse import quote, unquote, urlsplit

import apprise

from monitor.config import ChannelConfig
from monitor.errors import NotifyError, PermanentNotifyError
from monitor.notify.console import ConsoleTransport
from monitor.notify.render import Message
from monitor.notify.smtp import SmtpTransport
from monitor.notify.urls import SlackSettings, parse_json_url, parse_mailto, parse_slack
from monitor.notify.webhooks import SlackTransport, WebhookTransport
from monitor.urls import redact_url

log = logging.getLogger(__name__)

__all__ = [
    "Transport",
    "transports_for",
    "open_transport",
    "url_key",
    "label_for",
    "shown_url",
    "with_header",
    "ConsoleTransport",
    "SmtpTransport",
    "SlackTransport",
    "WebhookTransport",
    "AppriseTransport",
    "BadUrl",
]


class Transport(Protocol):
    @property
    def key(self) -> str: ...  # stable id of the URL (a hash: the URL itself may hold a secret)

    @property
    def label(
        self,
    ) -> str: ...  # monitor.urls.redact_url of the URL as written: what is stored, shown, logged

    @property
    def dialect(
        self,
    ) -> str: ...  # how messages for it are rendered: text | markdown | slack | html

    def send(self, message: Message) -> None: ...


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]


def plugin_secrets(plugin: apprise.plugins.NotifyBase) -> set[str]:
    """What apprise's plugin for a URL masks in privacy mode (tokens, passwords, keys): the
    pieces of its plain URL that its private URL does not show."""

    def pieces(url: str) -> set[str]:
        return {unquote(p) for p in re.split(r"[/?&=:@#,]+", url) if p}

    try:
        plain = str(plugin.url(privacy=False))  # type: ignore[no-untyped-call]  # apprise's public API, untyped
        private = str(plugin.url(privacy=True))  # type: ignore[no-untyped-call]
        return pieces(plain) - pieces(private)
    except Exception:  # noqa: BLE001 - a plugin that cannot print itself: nothing extra to mask
        return set()


def label_for(
    plugin: apprise.plugins.NotifyBase | None, url: str, template: str | None = None
) -> str:
    """The URL's label: ``redact_url`` of the URL as written (``${…}`` parts masked), also
    masking whatever the plugin itself calls secret."""
    return redact_url(template or url, plugin_secrets(plugin) if plugin is not None else ())


_HEADER_SCHEMES = (
    "form",
    "forms",
    "xml",
    "xmls",
)  # apprise's +Header=value URLs we do not send ourselves


def with_header(url: str, name: str, value: str) -> str:
    """``url`` with apprise's ``+Name=value`` header parameter added (before any fragment)."""
    base, hash_, frag = url.partition("#")
    return f"{base}{'&' if '?' in base else '?'}+{name}={quote(value, safe='')}{hash_}{frag}"


_FORMATS = {
    "text": apprise.NotifyFormat.TEXT,
    "markdown": apprise.NotifyFormat.MARKDOWN,
    "html": apprise.NotifyFormat.HTML,
}


class AppriseTransport:
    """One ``apprise.Apprise`` holding one URL: its result is this URL's outcome. For
    form:// and xml:// each message is sent with an ``Idempotency-Key`` header."""

    def __init__(self, plugin: apprise.plugins.NotifyBase, url: str, label: str, fmt: str) -> None:
        self.key = url_key(url)
        self.label = label
        self.dialect = fmt
        self.format = fmt
        self.url = url
        self.takes_headers = url.split(":", 1)[0].lower() in _HEADER_SCHEMES
        self.apprise = apprise.Apprise()
        self.apprise.add(plugin)

    def _sender(self, message: Message) -> apprise.Apprise:
        if not (message.key and self.takes_headers):
            return self.apprise
        plugin = apprise.Apprise.instantiate(with_header(self.url, "Idempotency-Key", message.key))
        if plugin is None:
            return self.apprise
        sender = apprise.Apprise()
        sender.add(plugin)
        return sender

    def send(self, message: Message) -> None:
        html = self.format == "html" and message.html
        body = message.html if html and message.html else message.body
        fmt = _FORMATS[
            "html" if html else ("markdown" if message.dialect == "markdown" else "text")
        ]
        if not self._sender(message).notify(body=body, title=message.subject, body_format=fmt):
            raise NotifyError(f"{self.label}: apprise reported a failed delivery")


@dataclass(frozen=True)
class BadUrl:
    """A channel URL that cannot be used: every send fails permanently, saying why."""

    key: str
    label: str
    reason: str = "is not a URL apprise understands"
    dialect: str = "text"

    def send(self, message: Message) -> None:
        raise PermanentNotifyError(f"{self.label} {self.reason}")


def _hook_secrets(url: str) -> list[str]:
    """The secrets of a webhook URL no apprise plugin reads: its path (the hook's key, or a
    slack:// URL's tokens)."""
    scheme, _, rest = url.partition("://")
    rest = rest.split("?", 1)[0].split("#", 1)[0]
    head, _, path = rest.partition("/")
    parts = [unquote(p) for p in path.split("/") if p and p[:1] not in "#@"]
    if scheme.lower() == "slack":
        parts.append(unquote(head.rpartition("@")[2]))
    return parts


def _hook_label(url: str, template: str | None) -> str:
    return redact_url(template or url, _hook_secrets(url))


def _is_hook(url: str, config: ChannelConfig | None) -> bool:
    """Whether ``open_transport`` sends to ``url`` as a webhook of our own, not by a plugin."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    slack_channel = config is not None and config.type == "slack"
    if scheme in ("http", "https") and (slack_channel or parts.hostname == "hooks.slack.com"):
        return True
    return scheme == "slack" and bool(config and config.base_url)


def shown_url(url: str, template: str, config: ChannelConfig | None = None) -> str:
    """A channel URL as an editor shows it: as the config file spells it, each ``${VAR}``
    reference kept as written, anything else secret (a password, a token, what the URL's
    plugin masks) as ``****``. ``url`` is the expanded URL, ``template`` the file's text."""
    if _is_hook(url, config):
        secrets: Iterable[str] = _hook_secrets(url)
    else:
        plugin = apprise.Apprise.instantiate(url)
        # a URL no plugin reads: every piece but its scheme and host may be its secret
        secrets = (
            plugin_secrets(plugin)
            if plugin is not None
            else [p for p in re.split(r"[/?&=:@#,]+", url.partition("://")[2])[1:] if p]
        )
    return redact_url(template, secrets, keep_refs=True)


def open_transport(
    url: str,
    fmt: str,
    index: int = 0,
    channel: str = "",
    config: ChannelConfig | None = None,
    template: str | None = None,
) -> Transport:
    """The transport for one URL; ``template`` is the URL as written in the config file
    (``ChannelConfig.templates``), which its label is made from."""
    key, where = url_key(url), f"channels.{channel}.urls[{index}]"
    scheme = urlsplit(url).scheme.lower()
    if _is_hook(url, config) and scheme in ("http", "https"):
        # a Slack webhook's own https URL, on Slack or a Slack-compatible host
        return SlackTransport(
            SlackSettings("webhook", ((url, None),)), key, _hook_label(url, template)
        )
    if _is_hook(url, config):  # slack:// to a Slack-compatible host: any tokens will do
        try:
            base_url = config.base_url if config else None
            return SlackTransport(parse_slack(url, base_url), key, _hook_label(url, template))
        except ValueError as exc:
            return BadUrl(key, where, f"is not usable: {exc}")
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:  # never echo the URL: it may carry a secret
        return BadUrl(key, where)
    label = label_for(plugin, url, template)
    try:
        if scheme in ("mailto", "mailtos"):
            return SmtpTransport(parse_mailto(url), key, label, fmt)
        if scheme == "slack":
            return SlackTransport(parse_slack(url), key, label)
        if scheme in ("json", "jsons"):
            return WebhookTransport(parse_json_url(url), key, label)
    except ValueError as exc:
        return BadUrl(key, label, f"is not usable: {exc}")
    return AppriseTransport(plugin, url, label, fmt)


def transports_for(
    name: str, channel: ChannelConfig, console: TextIO | None = None
) -> list[Transport]:
    """One transport per URL of the channel (the console channel has one, printing)."""
    if channel.type == "console":
        return [ConsoleTransport(console)]
    templates = channel.templates
    return [
        open_transport(url, channel.format, i, name, channel, templates[i])
        for i, url in enumerate(channel.urls)
    ]
