"""``folder`` sources: new or changed files under a directory, one item per file.

    walk(path, patterns, recursive) ──► file changed since last poll? ──► Item

The state maps each file's path (relative to the folder) to its content hash; a new file,
or a file whose content changed, becomes an item keyed ``relpath@hash`` (so an edited file
is a new item). ``.txt``/``.md``: the first non-empty line is the title, the rest the text;
``.html``/``.htm``: the ``<title>`` and the page text; ``.eml``: the subject and the body.
Hidden files and folders are skipped.

Anyone who can write to a drop folder must not be able to make the daemon read a file
outside it: symbolic links (to files or folders) are skipped and said so once in the log;
the walk holds each folder open (``os.fwalk``) and opens files relative to it with
``O_NOFOLLOW``, so a name swapped for a link mid-poll is refused too; only regular files
are read (never a FIFO or a device). A file name that is not UTF-8 is keyed by its bytes
written out (``caf\\xe9.txt``), so the store can hold it; one unreadable file never stops
the others.
"""

from __future__ import annotations

import re
import stat

import email
import email.policy
import email.utils
import fnmatch
import hashlib
import logging
import os
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Callable, Iterator

from monitor.config import HttpConfig, SourceConfig
from monitor.errors import FetchError
from monitor.models import Item, content_hash
from monitor.sources import docdate
from monitor.sources.base import FetchResult, SourceState
from monitor.sources.htmltext import (
    clean_text,
    decode_html,
    decode_unknown,
    html_to_text,
    page_text,
)
from monitor.textfmt import one_line

log = logging.getLogger(__name__)

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_said_once: set[tuple[str, str]] = set()  # (source, relative path) already logged as a link


def safe_name(name: str) -> str:
    """A file name as text the store can hold: a name that is not UTF-8 (decoded by the OS
    with surrogate escapes) has its undecodable bytes written out as ``\\xNN``."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _say_once(source: str, rel: str, message: str) -> None:
    if (source, rel) not in _said_once:
        _said_once.add((source, rel))
        log.warning("source %s: %s", source, message)


def decode_text(raw: bytes) -> str:
    """File bytes as text: UTF-8 (with or without BOM), else the detected charset."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return decode_unknown(raw)


def read_text_file(raw: bytes, markdown: bool = False) -> tuple[str, str]:
    """``(title, text)`` of a .txt/.md file.

    The first non-empty line is the title, the rest the text, except after a one-word
    kicker line ("Analysis", a site name): then a headline-like next line (4 to 30 words,
    no closing full stop) is the title, or, when the next line is a paragraph of 12 words
    or more, its first sentence (shortened to 120 characters) is.
    """
    lines = clean_text(decode_text(raw)).split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return "", ""

    def strip(line: str) -> str:
        line = line.strip()
        return line.lstrip("#").strip() if markdown else line

    title = strip(lines[0])
    nxt = next((i for i in range(1, min(len(lines), 4)) if lines[i].strip()), None)
    if len(title.split()) == 1 and nxt is not None:
        lead = strip(lines[nxt])
        words = len(lead.split())
        if 4 <= words <= 30 and not lead.endswith("."):
            return one_line(lead), clean_text("\n".join(lines[:nxt] + lines[nxt + 1 :]))
        if words >= 12:
            sentence = re.split(r"(?<=[.!?])\s", lead, maxsplit=1)[0]
            if len(sentence) > 120:
                sentence = sentence[:119].rsplit(" ", 1)[0] + "…"
            return one_line(sentence), clean_text("\n".join(lines))
    return one_line(title), clean_text("\n".join(lines[1:]))


def read_html_file(raw: bytes) -> tuple[str, str]:
    title, text, _ = page_text(decode_html(raw))
    return title, text


def read_email_file(raw: bytes) -> tuple[str, str, str | None, datetime | None]:
    """``(subject, body, from, date)`` of an .eml file; the plain part preferred to HTML."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    subject = one_line(str(msg.get("subject", "")))
    body = ""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is not None:
        try:
            content = part.get_content()
        except (LookupError, ValueError):
            payload = part.get_payload(decode=True) or b""
            content = (
                payload.decode("utf-8", errors="replace")
                if isinstance(payload, bytes)
                else str(payload)
            )
        body = (
            html_to_text(content) if part.get_content_subtype() == "html" else clean_text(content)
        )
    author = one_line(str(msg.get("from", ""))) or None
    published = None
    if msg.get("date"):
        try:
            published = email.utils.parsedate_to_datetime(str(msg["date"]))
            if published.tzinfo is None:
                published = published.replace(tzinfo=timezone.utc)
            published = published.astimezone(timezone.utc)
        except (TypeError, ValueError, IndexError):
            published = None
    return subject, body, author, published


class FolderSource:
    kind = "folder"

    def __init__(
        self,
        cfg: SourceConfig,
        http: HttpConfig | None = None,
        base_dir: Path | None = None,
        client: object | None = None,
    ) -> None:
        if cfg.path is None:
            raise ValueError("a folder source needs a path")
        path = Path(cfg.path).expanduser()
        self.root = path if path.is_absolute() else Path(base_dir or ".") / path
        self.cfg = cfg
        self.name = cfg.name
        self.max_bytes = cfg.max_bytes or (http or HttpConfig()).max_bytes

    def _wanted(self, name: str) -> bool:
        return not name.startswith(".") and any(
            fnmatch.fnmatch(name.lower(), p.lower()) for p in self.cfg.patterns
        )

    def files(self) -> list[tuple[str, Path]]:
        """``(relative path, path)`` of every matching regular file, sorted (links skipped)."""
        return sorted((rel, self.root / rel) for rel, _read in self.walk())

    def walk(self) -> Iterator[tuple[str, Callable[[int], tuple[bytes, float]]]]:
        """``(safe relative path, read)`` for each matching regular file; ``read(limit)``
        opens it relative to its folder without following a link, and returns
        ``(bytes, mtime)`` or raises OSError."""
        top = os.path.realpath(
            self.root
        )  # the configured folder itself may be a link: it is trusted
        for dirpath, dirnames, filenames, dirfd in os.fwalk(top, follow_symlinks=False):
            rel_dir = os.path.relpath(dirpath, top)
            keep = []
            for d in sorted(dirnames):
                if d.startswith(".") or not self.cfg.recursive:
                    continue
                try:
                    mode = os.lstat(d, dir_fd=dirfd).st_mode
                except OSError:
                    continue  # gone since the folder was listed
                if stat.S_ISLNK(mode):
                    rel = safe_name(os.path.normpath(os.path.join(rel_dir, d)))
                    _say_once(self.name, rel, f"{rel} is a symbolic link to a folder: not followed")
                    continue
                keep.append(d)
            dirnames[:] = keep
            for fn in sorted(filenames):
                if not self._wanted(fn):
                    continue
                rel = safe_name(Path(os.path.normpath(os.path.join(rel_dir, fn))).as_posix())
                try:
                    st = os.lstat(fn, dir_fd=dirfd)
                except OSError:
                    continue  # gone since the folder was listed
                if stat.S_ISLNK(st.st_mode):
                    _say_once(
                        self.name,
                        rel,
                        f"{rel} is a symbolic link: skipped (a folder source reads "
                        "only the files inside its folder)",
                    )
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                yield rel, self._reader(fn, dirfd)

    def _reader(self, name: str, dirfd: int) -> Callable[[int], tuple[bytes, float]]:
        def read(limit: int) -> tuple[bytes, float]:
            fd = os.open(name, _OPEN_FLAGS, dir_fd=dirfd)  # ELOOP if it became a link
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode):
                    raise OSError(f"not a regular file: {safe_name(name)}")
                return fh.read(limit), st.st_mtime

        return read

    def fetch(self, state: SourceState) -> FetchResult:
        if not self.root.is_dir():
            raise FetchError(f"folder not found: {self.root}")
        old: dict[str, str] = dict(state.data.get("files", {}))
        current: dict[str, str] = {}
        items: list[Item] = []
        warnings: list[str] = []
        for rel, read in self.walk():
            if rel in current:
                continue  # two undecodable names written out alike: the first one wins
            try:
                raw, mtime = read(self.max_bytes + 1)
            except OSError as exc:
                if exc.errno == getattr(os, "ELOOP", None) or exc.errno == getattr(
                    os, "EMLINK", None
                ):
                    _say_once(self.name, rel, f"{rel} is a symbolic link: skipped")
                else:
                    warnings.append(f"cannot read {rel}: {exc.strerror or exc}")
                continue
            if len(raw) > self.max_bytes:
                warnings.append(
                    f"{rel} is larger than {self.max_bytes} bytes: only the start is read"
                )
                raw = raw[: self.max_bytes]
            digest = hashlib.sha256(raw).hexdigest()[:32]
            current[rel] = digest
            if old.get(rel) == digest:
                continue
            try:
                item = self._item(rel, raw, digest, mtime)
            except Exception as exc:  # one unreadable file must not stop the folder
                warnings.append(f"cannot parse {rel}: {type(exc).__name__}: {exc}")
                continue
            if item is not None:
                items.append(item)
        items.sort(key=lambda i: i.key)
        return FetchResult(
            items=items, state=SourceState(data={"files": current}), warnings=warnings
        )

    def _item(self, rel: str, raw: bytes, digest: str, mtime: float) -> Item | None:
        suffix = Path(rel).suffix.lower()
        author = None
        modified = datetime.fromtimestamp(mtime, tz=timezone.utc)
        published: datetime | None = modified
        if suffix in (".html", ".htm", ".xhtml"):
            title, text = read_html_file(raw)
            published = docdate.prefer(docdate.html_date(decode_html(raw)), modified)
        elif suffix == ".eml":
            title, text, author, dated = read_email_file(raw)
            published = dated or published
        else:
            title, text = read_text_file(raw, markdown=suffix in (".md", ".markdown"))
            published = docdate.prefer(docdate.text_date(decode_text(raw)), modified)
        if not title and not text:
            return None
        return Item(
            source=self.name,
            key=f"{rel}@{digest}",
            title=title or Path(rel).stem,
            text=text,
            url=Path(
                os.path.abspath(self.root / rel)
            ).as_uri(),  # the file itself, for hits show, alerts, exports
            published=published,
            language=self.cfg.language,
            author=author,
            content_hash=content_hash(title, text),
        )
