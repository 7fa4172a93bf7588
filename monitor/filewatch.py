"""Watching the config and rule files for a reload: which files, and when a change has settled.

watched_files(config)      {path: (mtime_ns, size)} of the config and every rule file
FileWatch.settled(now)     the changed paths once a change has stayed the same for one
                           round (an editor may still be writing), else None
"""

from __future__ import annotations

from pathlib import Path

from monitor.config import Config

RULE_SUFFIXES = (".yaml", ".yml")
Snapshot = dict[str, tuple[int, int]]


def watched_files(config: Config) -> Snapshot:
    """The files a reload would read, with (mtime_ns, size): the config and every rule file."""
    out: Snapshot = {}
    paths: list[Path] = [config.path] if config.path else []
    for root in config.rule_paths:
        if root.is_dir():
            paths.extend(p for p in sorted(root.rglob("*")) if p.suffix in RULE_SUFFIXES)
        else:
            paths.append(root)
    for p in paths:
        try:
            st = p.stat()
        except OSError:
            continue  # a deleted file is simply absent from the snapshot
        out[str(p)] = (st.st_mtime_ns, st.st_size)
    return out


class FileWatch:
    def __init__(self) -> None:
        self.snapshot: Snapshot = {}
        self._pending: Snapshot | None = None

    def reset(self, snapshot: Snapshot) -> None:
        """What is on disk now counts as seen (after a start or a reload, good or refused)."""
        self.snapshot = snapshot
        self._pending = None

    def settled(self, now: Snapshot) -> list[str] | None:
        if now == self.snapshot:
            self._pending = None
            return None
        if now != self._pending:
            self._pending = now  # changed: wait one round for it to settle
            return None
        return sorted(
            set(now) ^ set(self.snapshot) | {k for k in now if self.snapshot.get(k) != now[k]}
        )
