"""Channel URLs the project sends to itself, read into frozen settings (apprise's syntax,
our own parsing): the senders take their settings from here, never from apprise's plugins.

    mailto://[user[:password]@]domain[:port][/to…][?to=&from=&name=&cc=&bcc=&reply=&smtp=&mode=&verify=&cto=]
        mailto: no TLS, port 25 · mailtos: STARTTLS on 587, or mode=ssl (port 465) ·
        mode=insecure|starttls|ssl overrides · a few providers' SMTP hosts are known
    slack://TokenA/TokenB/TokenC[/#channel…]     an incoming webhook (any base URL: a
    slack://[botname@]xoxb-…/#channel[/#channel…] Slack-compatible host), or a bot token
    json://host[:port]/path, jsons://…         a JSON webhook; ?+Header=value adds a header

Every parser raises ValueError with a plain message (never echoing a secret).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

SLACK_WEBHOOK_BASE = "https://hooks.slack.com/services"
SLACK_API_BASE = "https://slack.com/api"

# SMTP host and mode of providers whose domain is not their SMTP host (mailtos:// only)
PROVIDERS: dict[str, tuple[str, str, int]] = {
    "gmail.com": ("smtp.gmail.com", "starttls", 587),
    "googlemail.com": ("smtp.gmail.com", "starttls", 587),
    "fastmail.com": ("smtp.fastmail.com", "ssl", 465),
    "outlook.com": ("smtp.outlook.com", "starttls", 587),
    "hotmail.com": ("smtp.outlook.com", "starttls", 587),
    "live.com": ("smtp.outlook.com", "starttls", 587),
    "yahoo.com": ("smtp.mail.yahoo.com", "ssl", 465),
    "icloud.com": ("smtp.mail.me.com", "starttls", 587),
    "zoho.com": ("smtp.zoho.com", "ssl", 465),
}
_PORTS = {"insecure": 25, "starttls": 587, "ssl": 465}


def _query(query: str) -> dict[str, str]:
    return {k.lower(): v for k, v in parse_qsl(query, keep_blank_values=True)}


def _addresses(*values: str) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        for part in value.replace(";", ",").replace(" ", ",").split(","):
            if part and part not in out:
                out.append(part)
    return tuple(out)


def _yes(value: str | None, default: bool = True) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() not in ("no", "false", "0", "off")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    mode: str  # insecure | starttls | ssl
    user: str | None
    password: str | None
    from_addr: str
    from_name: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    reply_to: tuple[str, ...] = ()
    verify: bool = True
    timeout: float = 15.0


def parse_mailto(url: str) -> SmtpSettings:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("mailto", "mailtos"):
        raise ValueError(f"not an email URL ({scheme or 'no'} scheme)")
    domain = (parts.hostname or "").lower()
    if not domain:
        raise ValueError("an email URL needs a domain or SMTP host")
    q = _query(parts.query)
    user = unquote(parts.username) if parts.username else q.get("user")
    password = unquote(parts.password) if parts.password else q.get("pass")
    provider = PROVIDERS.get(domain) if scheme == "mailtos" else None
    mode = "starttls" if scheme == "mailtos" else "insecure"
    if provider:
        mode = provider[1]
    if q.get("mode", "").lower() in _PORTS:
        mode = q["mode"].lower()
    host = q.get("smtp") or (provider[0] if provider else domain)
    if scheme == "mailtos" and parts.port == 465 and "mode" not in q:
        mode = "ssl"  # 465 is implicit TLS (submissions); STARTTLS there never answers
    port = parts.port or (provider[2] if provider and "mode" not in q else _PORTS[mode])
    if provider and user and "@" not in user:
        user = f"{user}@{domain}"  # providers log in with the whole address
    from_raw = q.get("from", "")
    from_name: str | None = q.get("name") or None
    if from_raw and "@" not in from_raw:  # from=Name: a display name only
        from_name, from_raw = from_name or from_raw, ""
    login = user or ""
    from_addr = from_raw or (login if "@" in login else f"{login or 'monitor'}@{domain}")
    path_to = [unquote(p) for p in parts.path.split("/") if p]
    to = _addresses(*path_to, q.get("to", "")) or (from_addr,)
    cto = q.get("cto")
    return SmtpSettings(
        host=host,
        port=port,
        mode=mode,
        user=user,
        password=password,
        from_addr=from_addr,
        from_name=from_name,
        to=to,
        cc=_addresses(q.get("cc", "")),
        bcc=_addresses(q.get("bcc", "")),
        reply_to=_addresses(q.get("reply", "")),
        verify=_yes(q.get("verify")),
        timeout=float(cto) if cto else 15.0,
    )


@dataclass(frozen=True)
class SlackSettings:
    """Where and how to post: a webhook URL per channel (None: the hook's own), or a bot."""

    mode: str  # webhook | bot
    posts: tuple[tuple[str, str | None], ...]  # (endpoint URL, channel or None)
    token: str | None = None  # the bot token (Authorization: Bearer)
    username: str | None = None
    verify: bool = True


def parse_slack(url: str, base_url: str | None = None) -> SlackSettings:
    """``base_url`` replaces Slack's webhook root (or, for a bot, its API root)."""
    scheme, sep, rest = url.partition("://")
    if scheme.lower() != "slack" or not sep:
        raise ValueError("not a slack:// URL")
    rest, _, query = rest.partition("?")  # not urlsplit: '#channel' is no fragment here
    q = _query(query)
    head, _, path = rest.partition("/")
    user, at, host = head.rpartition("@")
    segments = [unquote(s) for s in [host, *path.split("/")] if s]
    username = unquote(user) if at and user else None
    channels = [s for s in segments if s[:1] in "#@"] + list(_addresses(q.get("to", "")))
    tokens = [s for s in segments if s[:1] not in "#@"]
    verify = _yes(q.get("verify"))
    if tokens and tokens[0].startswith(("xoxb-", "xoxp-")):
        endpoint = f"{(base_url or SLACK_API_BASE).rstrip('/')}/chat.postMessage"
        if not channels:
            raise ValueError("a Slack bot URL needs a #channel to post to")
        return SlackSettings(
            "bot",
            tuple((endpoint, c) for c in channels),
            token=tokens[0],
            username=username,
            verify=verify,
        )
    if not tokens or (base_url is None and len(tokens) != 3):
        raise ValueError(
            "a Slack webhook URL is slack://TokenA/TokenB/TokenC (the path of its hooks URL)"
        )
    hook = f"{(base_url or SLACK_WEBHOOK_BASE).rstrip('/')}/{'/'.join(tokens)}"
    targets: list[str | None] = list(channels) or [None]
    return SlackSettings(
        "webhook", tuple((hook, c) for c in targets), username=username, verify=verify
    )


@dataclass(frozen=True)
class WebhookSettings:
    endpoint: str
    headers: tuple[tuple[str, str], ...] = ()
    auth: tuple[str, str] | None = None
    verify: bool = True


def parse_json_url(url: str) -> WebhookSettings:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("json", "jsons") or not parts.hostname:
        raise ValueError("a JSON webhook URL is json://host[:port]/path or jsons://…")
    # not parse_qsl: its '+' is a space, and here '+Name=value' is a header
    q = [
        (unquote(k), unquote(v))
        for k, _, v in (p.partition("=") for p in parts.query.split("&") if p)
    ]
    headers = tuple((k[1:], v) for k, v in q if k.startswith("+") and len(k) > 1)
    params = [(k[1:], v) for k, v in q if k.startswith("-") and len(k) > 1]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    endpoint = f"{'https' if scheme == 'jsons' else 'http'}://{netloc}{parts.path or '/'}"
    if params:
        endpoint += "?" + "&".join(f"{k}={v}" for k, v in params)
    auth = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
    verify = _yes({k.lower(): v for k, v in q}.get("verify"))
    return WebhookSettings(endpoint, headers, auth, verify)
