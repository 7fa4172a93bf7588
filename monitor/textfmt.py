"""Untrusted text made safe to show on one line: the one ``one_line`` of the project.

clean(text)            control and bidi-override characters dropped (they disguise
                       text); newlines and tabs kept
one_line(text, limit)  clean, every run of white space (zero-width ones included) one
                       space, stripped; cut to ``limit`` characters when given
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_WS = re.compile(r"[\s\u200b\ufeff]+")


def clean(text: str | None) -> str:
    return _CONTROL.sub("", text or "")


def one_line(text: object, limit: int | None = None) -> str:
    line = _WS.sub(" ", clean(str(text) if text is not None else "")).strip()
    return line[:limit] if limit is not None else line
