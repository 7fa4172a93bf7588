"""The console channel: each message as a block on stdout.

On a terminal the message is rendered from markdown by rich (bold matched words, links);
elsewhere (the journal under systemd, a pipe, a file) it is plain text, the matched words
marked ``**like this**``.
"""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console
from rich.markdown import Markdown
from rich.rule import Rule
from rich.text import Text

from monitor.notify.render import Message

RULE = "─" * 72


class ConsoleTransport:
    key = "console"
    label = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stdout

    @property
    def dialect(self) -> str:
        return "markdown" if self.stream.isatty() else "text"

    def send(self, message: Message) -> None:
        out = self.stream
        if message.dialect == "markdown":
            console = Console(file=out, force_terminal=True, highlight=False, soft_wrap=False)
            console.print(Rule(style="dim"))
            console.print(Text(message.subject, style="bold"))
            console.print()
            console.print(Markdown(message.body.rstrip(), hyperlinks=True))
            console.print(Rule(style="dim"))
        else:
            out.write(f"{RULE}\n{message.subject}\n\n{message.body.rstrip()}\n{RULE}\n")
        out.flush()
