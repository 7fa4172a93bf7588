"""``storage.url``: the check of a PostgreSQL URL as config.yaml writes it (``${VAR}`` kept).

The password, if any, must come from the environment (``${VAR}``, or libpq's ``PGPASSWORD``
/ ``~/.pgpass``); the URL is only ever shown through ``monitor.urls.redact_url``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from monitor.envvars import expand_env
from monitor.urls import ENV_REF, redact_url

_PG_SCHEMES = ("postgresql", "postgres")


def check_storage_url(value: str) -> str:
    """A ``storage.url`` as written in the file (``${VAR}`` kept), or ValueError saying what
    to change. The password, if any, must come from the environment."""
    text = value.strip()
    probe = ENV_REF.sub("x", text)  # a ${VAR} stands for one ordinary character here
    try:
        parts = urlsplit(probe)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"cannot read {redact_url(text)!r} as a URL: {exc}") from None
    if parts.scheme.lower() not in _PG_SCHEMES:
        raise ValueError(
            "not a PostgreSQL URL: write postgresql://user@host/database "
            "(a SQLite file is given as storage.path)"
        )
    if not parts.path.strip("/"):
        raise ValueError(
            "the URL names no database: add it after the host, as in postgresql://monitor@db.example.org/monitor"
        )
    userinfo = text.partition("://")[2].split("/", 1)[0].rpartition("@")[0]
    password = userinfo.partition(":")[2] if ":" in userinfo else None
    if password and not ENV_REF.fullmatch(password):
        raise ValueError(
            "the password is written out in the file: take it from the environment, as "
            "postgresql://monitor:${MONITOR_DB_PASSWORD}@db.example.org/monitor, or leave it "
            "out and set PGPASSWORD (or a ~/.pgpass file)"
        )
    expand_env(text)  # an unset ${VAR} is an error now, not at the first connection
    return text
