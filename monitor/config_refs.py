"""Names in a config file that must resolve (route channels and sources, the operations
channel, unique source names), each checked on the raw file so it is reported at its own line."""

from __future__ import annotations

from typing import Any

from monitor.errors import ConfigError
from monitor.suggest import did_you_mean


def _names(items: Any, key: str) -> list[tuple[int, Any]]:
    """``(index, item[key])`` of each mapping in a list from the raw file (anything else skipped)."""
    if not isinstance(items, list):
        return []
    return [
        (i, x.get(key))
        for i, x in enumerate(items)
        if isinstance(x, dict) and isinstance(x.get(key), str)
    ]


def reference_errors(data: dict[str, Any], doc: Any) -> list[ConfigError]:
    """Names that must resolve — route channels and sources, the operations channel, unique
    source names — each reported at its own line, even when other parts are invalid."""
    errors: list[ConfigError] = []
    channels = data.get("channels")
    channel_names = [str(k) for k in channels] if isinstance(channels, dict) else []
    sources = _names(data.get("sources"), "name")
    source_names = [n for _, n in sources]
    first: dict[str, int] = {}
    for i, name in sources:
        if name in first:
            errors.append(
                doc.error(
                    f"sources[{i}].name: {name!r} is already the name of sources[{first[name]}]",
                    ("sources", i, "name"),
                )
            )
        first.setdefault(name, i)
    routes = data.get("routes")
    for i, route in enumerate(routes if isinstance(routes, list) else []):
        if not isinstance(route, dict):
            continue
        for key, known, what in (
            ("channels", channel_names, "channel"),
            ("sources", source_names, "source"),
        ):
            names = route.get(key)
            for j, name in enumerate(names if isinstance(names, list) else []):
                if isinstance(name, str) and name not in known:
                    errors.append(
                        doc.error(
                            f"routes[{i}].{key}[{j}]: no {what} named {name!r}{did_you_mean(name, known)}"
                            + ("" if known or what == "source" else " (define it under channels:)"),
                            ("routes", i, key, j),
                        )
                    )
    notify = data.get("notify")
    ops = notify.get("operations_channel") if isinstance(notify, dict) else None
    if isinstance(ops, str) and ops not in channel_names:
        errors.append(
            doc.error(
                f"notify.operations_channel: no channel named {ops!r}{did_you_mean(ops, channel_names)}",
                ("notify", "operations_channel"),
            )
        )
    return errors
