"""The project's exceptions.

    MonitorError
     ├── ConfigError      a config or rule file is wrong; carries path, line, column
     │    └── RuleError   a watch rule is wrong
     ├── FetchError       a source could not be read (network, HTTP status, size, parse)
     │    └── PermanentFetchError   retrying will not help (410 Gone, refused address)
     ├── StoreError       the database refused (locked too long, disk full)
     └── NotifyError      a channel could not deliver
          └── PermanentNotifyError  retrying will not help (SMTP 5xx, webhook 4xx)

Library code raises these; only the CLI turns them into messages and exit codes.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(MonitorError):
    """A configuration or rule file is wrong. ``str()`` is ``path:line:col: message``."""

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        super().__init__(self.__str__())

    def location(self) -> str:
        parts = [str(self.path)] if self.path else []
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        loc = self.location()
        return f"{loc}: {self.message}" if loc else self.message


class RuleError(ConfigError):
    """A watch rule is invalid."""


class ConfigErrors(ConfigError):
    """Several configuration problems found at once; ``errors`` holds each one."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = list(errors)
        ConfigError.__init__(self, "\n".join(str(e) for e in self.errors))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def error_lines(exc: ConfigError) -> list[str]:
    """Each error as ``file:line: message``, one a line (as ConfigError prints them)."""
    errors = exc.errors if isinstance(exc, ConfigErrors) else [exc]
    return [line for e in errors for line in str(e).splitlines() if line.strip()]


class FetchError(MonitorError):
    """A source could not be read this time; the scheduler retries with backoff.

    ``retry_after`` (seconds), when set, is the earliest sensible next attempt.
    """

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ):
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


class PermanentFetchError(FetchError):
    """Retrying will not help: the source should be disabled with this reason."""


class StoreError(MonitorError):
    """The database refused an operation."""


class NotifyError(MonitorError):
    """A channel could not deliver a message; retried with backoff."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        self.retry_after = retry_after
        super().__init__(message)


class PermanentNotifyError(NotifyError):
    """Retrying will not help (SMTP 5xx, webhook 4xx other than 429)."""
