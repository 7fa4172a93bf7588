"""Channels: where a rendered message goes. One transport per channel URL, so each URL's
outcome is known on its own (an ``apprise.Apprise`` holding several URLs only says
"partial").

    Transport.send(message)  returns on success, raises NotifyError (retry later, maybe
                             with ``retry_after``) or PermanentNotifyError (do not retry)

    mailto:// mailtos://   SmtpTransport    apprise parses the URL (host, port, TLS mode,
                                            credentials, from, to, cc, bcc); we talk SMTP
                                            with smtplib so the reply code is known:
                                            4xx → retry, 5xx → permanent
    slack:// (webhook, bot) SlackTransport  apprise parses the URL (tokens, channels, and
                                            its ``NotifySlack.webhook_url`` / ``api_url``
                                            bases); we POST with httpx so 429 + Retry-After,
                                            5xx (retry) and other 4xx (permanent) are known
    any other apprise URL   AppriseTransport  one ``apprise.Apprise`` per URL; its bool is
                                            all we learn, so a failure is retried until
                                            notify.max_age
    type: console           ConsoleTransport  prints a readable block to stdout; never fails

apprise's own email and Slack plugins return only True/False and log the reason; deciding
by log text is brittle, so for these two we keep apprise for what it is good at (URL
syntax, provider defaults such as Gmail's or Fastmail's SMTP host and TLS mode) and do the
one network exchange ourselves.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import smtplib
import ssl
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from urllib.parse import quote, unquote
from typing import Protocol, TextIO

import apprise
import httpx
from apprise.plugins.email.base import NotifyEmail
from apprise.plugins.slack import NotifySlack, SlackMode

from monitor.config import ChannelConfig
from monitor.errors import NotifyError, PermanentNotifyError
from monitor.notify.render import Message, escape_slack
from monitor.httpheaders import parse_retry_after
from monitor.urls import redact_url

log = logging.getLogger(__name__)

FROM_NAME = "Signal monitor"
HTTP_TIMEOUT = 15.0


class Transport(Protocol):
    key: str     # stable id of the URL (a hash: the URL itself may hold a secret)
    label: str   # monitor.urls.redact_url of the URL as written: what is stored, shown, logged
    dialect: str  # how messages for it are rendered: text | markdown | slack | html

    def send(self, message: Message) -> None: ...


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]


def plugin_secrets(plugin) -> set[str]:
    """What apprise's plugin for a URL masks in privacy mode (tokens, passwords, keys): the
    pieces of its plain URL that its private URL does not show."""
    def pieces(url: str) -> set[str]:
        return {unquote(p) for p in re.split(r"[/?&=:@#,]+", url) if p}

    try:
        return pieces(plugin.url(privacy=False)) - pieces(plugin.url(privacy=True))
    except Exception:  # noqa: BLE001 - a plugin that cannot print itself: nothing extra to mask
        return set()


def label_for(plugin, url: str, template: str | None = None) -> str:
    """The URL's label: ``redact_url`` of the URL as written (``${…}`` parts masked), also
    masking whatever the plugin itself calls secret."""
    return redact_url(template or url, plugin_secrets(plugin) if plugin is not None else ())


# -- console ----------------------------------------------------------------------------

class ConsoleTransport:
    """Prints each message as a block on stdout (the terminal, or the journal under systemd)."""

    dialect = "text"
    key = "console"
    label = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, message: Message) -> None:
        out = self._stream or sys.stdout
        rule = "─" * 72
        out.write(f"{rule}\n{message.subject}\n\n{message.body.rstrip()}\n{rule}\n")
        out.flush()


# -- email ------------------------------------------------------------------------------

class SmtpTransport:
    """SMTP with apprise's URL parsing and smtplib's reply codes."""

    def __init__(self, plugin: NotifyEmail, url: str, fmt: str, template: str | None = None) -> None:
        self.plugin = plugin
        self.key = url_key(url)
        self.label = label_for(plugin, url, template)
        self.dialect = "html" if fmt == "html" else "text"

    def build(self, message: Message) -> tuple[EmailMessage, str, list[str]]:
        p = self.plugin
        name, addr = p.from_addr[0], p.from_addr[1]
        if not name or name == p.app_id:
            name = FROM_NAME
        em = EmailMessage()
        em["Subject"] = message.subject
        em["From"] = formataddr((name, addr))
        em["To"] = ", ".join(formataddr((n or "", a)) for n, a in p.targets)
        if p.cc:
            em["Cc"] = ", ".join(sorted(p.cc))
        if p.reply_to:
            em["Reply-To"] = ", ".join(sorted(p.reply_to))
        em["Date"] = formatdate(localtime=False)
        domain = addr.rpartition("@")[2] or "signal-monitor.invalid"
        # the delivery's key: every retry of one alert carries the same id (mail systems fold them)
        em["Message-ID"] = f"<{message.key}@{domain}>" if message.key else make_msgid(domain=domain)
        em["X-Mailer"] = "signal-monitor"
        em.set_content(message.body)
        if message.html:
            em.add_alternative(message.html, subtype="html")
        recipients = [a for _, a in p.targets] + sorted(p.cc) + sorted(p.bcc)
        return em, addr, recipients

    def send(self, message: Message) -> None:
        p = self.plugin
        if not p.targets:
            raise PermanentNotifyError(f"{self.label}: no recipient")
        em, sender, recipients = self.build(message)
        context = ssl.create_default_context()
        if not p.verify_certificate:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        timeout = p.socket_connect_timeout or 15
        try:
            if p.secure_mode == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(p.smtp_host, p.port, timeout=timeout, context=context)
            else:
                smtp = smtplib.SMTP(p.smtp_host, p.port, timeout=timeout)
            with smtp:
                if p.secure_mode == "starttls":
                    smtp.starttls(context=context)
                if p.user and p.password:
                    smtp.login(p.user, p.password)
                refused = smtp.send_message(em, from_addr=sender, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _refused_error(self.label, exc.recipients) from None
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            error = f"{self.label}: SMTP {exc.smtp_code} {one_line(text)}"
            if 500 <= exc.smtp_code < 600:
                raise PermanentNotifyError(error) from None
            raise NotifyError(error) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentNotifyError(f"{self.label}: {exc}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifyError(f"{self.label}: cannot reach the SMTP server: {type(exc).__name__}: {exc}") from None
        if refused:
            # accepted for some recipients: a retry would send them a second copy
            raise PermanentNotifyError(f"{self.label}: delivered, but refused for {_refusals(refused)}")


def _refused_error(label: str, refused: dict) -> NotifyError:
    codes = [code for code, _ in refused.values()]
    error = f"{label}: every recipient refused: {_refusals(refused)}"
    if codes and all(500 <= c < 600 for c in codes):
        return PermanentNotifyError(error)
    return NotifyError(error)


def _refusals(refused: dict) -> str:
    parts = []
    for addr, (code, msg) in refused.items():
        text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
        parts.append(f"{addr} ({code} {one_line(text)})")
    return ", ".join(parts)


def one_line(text: str) -> str:
    return " ".join(str(text).split())[:300]


# -- Slack ------------------------------------------------------------------------------

class SlackTransport:
    """Slack incoming webhooks and bot tokens (chat.postMessage), with status codes read."""

    dialect = "slack"

    def __init__(self, plugin: NotifySlack, url: str, fmt: str, template: str | None = None) -> None:
        self.plugin = plugin
        self.key = url_key(url)
        self.label = label_for(plugin, url, template)

    def payloads(self, message: Message) -> list[tuple[str, dict]]:
        p = self.plugin
        text = f"*{escape_slack(message.subject)}*\n{message.body.rstrip()}"
        base = {"text": text, "mrkdwn": True, "unfurl_links": False, "unfurl_media": False}
        if p.user:
            base["username"] = p.user
        if p.mode in (SlackMode.WEBHOOK, SlackMode.WEBHOOK_GOV):
            root = p.webhook_url if p.mode == SlackMode.WEBHOOK else p.webhook_gov_url
            url = f"{root}/{p.token_a}/{p.token_b}/{p.token_c}"
            channels = [c for c in p.channels if c] or [None]
            return [(url, {**base, "channel": c} if c else base) for c in channels]
        url = p.api_url.format("chat.postMessage")
        return [(url, {**base, "channel": c}) for c in p.channels if c]

    def send(self, message: Message) -> None:
        p = self.plugin
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "signal-monitor"}
        if p.mode == SlackMode.BOT:
            headers["Authorization"] = f"Bearer {p.access_token}"
        if message.key:
            headers["Idempotency-Key"] = message.key
        posts = self.payloads(message)
        if not posts:
            raise PermanentNotifyError(f"{self.label}: no Slack channel to post to")
        with httpx.Client(timeout=HTTP_TIMEOUT, verify=p.verify_certificate, follow_redirects=False) as client:
            for url, payload in posts:
                try:
                    r = client.post(url, content=json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers=headers)
                except httpx.HTTPError as exc:
                    raise NotifyError(f"{self.label}: cannot reach Slack: {type(exc).__name__}") from None
                self._check(r)

    def _check(self, r: httpx.Response) -> None:
        body = r.text.strip()
        if r.status_code == 429:
            raise NotifyError(f"{self.label}: Slack rate limit (429)",
                              retry_after=parse_retry_after(r.headers.get("Retry-After")))
        if r.status_code >= 500:
            raise NotifyError(f"{self.label}: Slack answered {r.status_code}")
        if r.status_code >= 400:
            raise PermanentNotifyError(f"{self.label}: Slack answered {r.status_code} {one_line(body[:200])}")
        if self.plugin.mode == SlackMode.BOT:
            try:
                answer = r.json()
            except ValueError:
                answer = {}
            if answer.get("ok") is True:
                return
            error = str(answer.get("error", "no ok in the answer"))
            if error == "ratelimited":
                raise NotifyError(f"{self.label}: Slack rate limit",
                                  retry_after=parse_retry_after(r.headers.get("Retry-After")))
            raise PermanentNotifyError(f"{self.label}: Slack refused: {one_line(error)}")
        if body != "ok":
            raise NotifyError(f"{self.label}: Slack answered {r.status_code} without 'ok'")


# -- any other apprise URL ----------------------------------------------------------------

_FORMATS = {"text": apprise.NotifyFormat.TEXT, "markdown": apprise.NotifyFormat.MARKDOWN,
            "html": apprise.NotifyFormat.HTML}


_HEADER_SCHEMES = ("json", "jsons", "form", "forms", "xml", "xmls")  # apprise's +Header=value URLs


def with_header(url: str, name: str, value: str) -> str:
    """``url`` with apprise's ``+Name=value`` header parameter added (before any fragment)."""
    base, hash_, frag = url.partition("#")
    return f"{base}{'&' if '?' in base else '?'}+{name}={quote(value, safe='')}{hash_}{frag}"


class AppriseTransport:
    """One ``apprise.Apprise`` holding one URL: its result is this URL's outcome. For the
    generic webhooks (json://, form://, xml://) each message is sent with an
    ``Idempotency-Key`` header carrying its delivery key."""

    def __init__(self, plugin, url: str, fmt: str, template: str | None = None) -> None:
        self.key = url_key(url)
        self.label = label_for(plugin, url, template)
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
        body = message.html if (self.format == "html" and message.html) else message.body
        fmt = _FORMATS["html" if (self.format == "html" and message.html) else
                       ("markdown" if message.dialect == "markdown" else "text")]
        ok = self._sender(message).notify(body=body, title=message.subject, body_format=fmt)
        if not ok:
            raise NotifyError(f"{self.label}: apprise reported a failed delivery")


# -- building transports for a channel --------------------------------------------------------

@dataclass(frozen=True)
class BadUrl:
    """A channel URL apprise does not understand: every send fails permanently."""

    key: str
    label: str
    dialect: str = "text"

    def send(self, message: Message) -> None:
        raise PermanentNotifyError(f"{self.label} is not a URL apprise understands")


def open_transport(url: str, fmt: str, index: int = 0, channel: str = "", template: str | None = None) -> Transport:
    """The transport for one URL; ``template`` is the URL as written in the config file
    (``ChannelConfig.templates``), which its label is made from."""
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:  # never echo the URL: it may carry a secret
        return BadUrl(url_key(url), f"channels.{channel}.urls[{index}]")
    if type(plugin) is NotifyEmail:  # plain mailto/mailtos (subclasses speak other protocols)
        return SmtpTransport(plugin, url, fmt, template)
    if isinstance(plugin, NotifySlack) and plugin.mode in (SlackMode.WEBHOOK, SlackMode.WEBHOOK_GOV, SlackMode.BOT):
        return SlackTransport(plugin, url, fmt, template)
    return AppriseTransport(plugin, url, fmt, template)


def transports_for(name: str, channel: ChannelConfig, console: TextIO | None = None) -> list[Transport]:
    """One transport per URL of the channel (the console channel has one, printing)."""
    if channel.type == "console":
        return [ConsoleTransport(console)]
    templates = channel.templates
    return [open_transport(url, channel.format, i, name, templates[i]) for i, url in enumerate(channel.urls)]
