"""Channels as the review page and the API show and edit them (admins only).

A secret never reaches a page: each URL is shown as the config file spells it, with its
``${VAR}`` references as written (a name, never the value) and anything else secret — a
password, a token, a webhook's key — as ``****`` (``notify.channels.shown_url``). A URL
sent to be saved must keep its secrets in ``${VAR}`` references too: one that writes a
secret out is refused, so the page never writes a secret into the config file. A URL sent
back exactly as it was shown keeps what the file has (its hidden parts included).
"""

from __future__ import annotations

from typing import Any

from monitor.config import ChannelConfig, Config, env_names, expand_env
from monitor.notify.channels import shown_url
from monitor.notify.router import route_name
from monitor.notify.sample import send_sample
from monitor.urls import MASK


def shown_urls(channel: ChannelConfig) -> list[str]:
    return [shown_url(u, t, channel) for u, t in zip(channel.urls, channel.templates, strict=True)]


def record(config: Config, name: str) -> dict[str, Any]:
    """One channel as the API returns it; KeyError when there is no such channel."""
    ch = config.channels[name]
    return {
        "name": name,
        "type": ch.type,
        "enabled": ch.enabled,
        "format": ch.format,
        "urls": shown_urls(ch),
        "env": sorted(set().union(*(env_names(t) for t in ch.templates))),
        "rate_limit": ch.rate_limit,
        "rate_window": ch.rate_window,
        "base_url": ch.base_url,
        "template": ch.template,
        "subject_template": ch.subject_template,
        "routes": [route_name(r, i) for i, r in enumerate(config.routes) if name in r.channels],
        "operations": config.notify.operations_channel == name,
    }


def records(config: Config) -> list[dict[str, Any]]:
    return [record(config, name) for name in config.channels]


def checked_urls(
    given: list[str],
    *,
    kind: str,
    base_url: str | None,
    existing: ChannelConfig | None = None,
    templates: list[str] | None = None,
) -> tuple[list[str], list[str]]:
    """The URLs to write (as templates) and the problems that refuse them. ``templates``:
    the existing URLs as the file spells them, so one sent back as shown is kept."""
    shown = dict(zip(shown_urls(existing), templates or [], strict=False)) if existing else {}
    probe = ChannelConfig.model_construct(type=kind, base_url=base_url)
    urls, problems = [], []
    for i, text in enumerate(u.strip() for u in given):
        if not text:
            continue
        if text in shown:  # unchanged: the file's own text, hidden parts and all
            urls.append(shown[text])
            continue
        where = f"urls[{i}]"
        if MASK in text:
            problems.append(
                f"{where}: {MASK} stands for a secret this page does not show; write the "
                "secret as a ${VAR} reference, or send the URL back exactly as it was shown"
            )
            continue
        try:
            expanded = expand_env(text)
        except ValueError as exc:
            problems.append(f"{where}: {exc} (where the daemon and this page run)")
            continue
        safe = shown_url(expanded, text, probe)
        if safe != text:
            problems.append(
                f"{where}: a secret is written out in it (it would show as {safe}); put the "
                "secret in an environment variable and write it as ${NAME}"
            )
            continue
        urls.append(text)
    if kind != "console" and not urls and not problems:
        problems.append("urls: a channel needs at least one URL")
    return urls, problems


def test_send(config: Config, name: str) -> list[dict[str, Any]]:
    """Send the sample alert to each URL of the channel (KeyError: no such channel)."""
    outcomes = send_sample(name, config.channels[name], config.base_dir)
    return [{"url": o.label, "ok": o.error is None, "error": o.error} for o in outcomes]
