"""A real, throwaway PostgreSQL cluster for the tests: initdb into a temporary folder, a
server on a Unix socket in that folder (no TCP port), stopped and removed at the end.

The server binaries come from Debian's ``postgresql`` package (``.ci/run`` installs it);
where none is found the tests that need one are skipped with a message saying how to get
it. PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres``
system user the package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

MISSING = (
    "PostgreSQL's server binaries were not found (Debian: apt-get install postgresql); "
    "the PostgreSQL leg of these tests needs a real server"
)


def server_bindir() -> Path | None:
    found = os.environ.get("MONITOR_PG_BINDIR")
    if found and (Path(found) / "initdb").exists():
        return Path(found)
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(d) / "initdb").exists():
            return Path(d)
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


@dataclass
class Cluster:
    bindir: Path
    root: Path
    user: str | None  # the OS user the server runs as (None: the current one)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{self.db_user}@/{db}?host={self.socket_dir}"

    @property
    def db_user(self) -> str:
        return self.user or pwd.getpwuid(os.getuid()).pw_name

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> "Cluster":
        if self.user:
            shutil.chown(self.root, self.user)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            self.db_user,
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        opts = (
            f"-c listen_addresses='' -k {self.socket_dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            "-c autovacuum=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def createdb(self, name: str) -> str:
        self._run("createdb", "-h", str(self.socket_dir), "-U", self.db_user, name)
        return self.url(name)

    def sql(self, statement: str, db: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE / DROP DATABASE)."""
        import psycopg

        with psycopg.connect(self.url(db), autocommit=True) as conn:
            conn.execute(statement)

    def clone(self, template: str, name: str) -> str:
        """A new database copied from ``template`` (a file copy: cheap for a small one)."""
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return self.url(name)

    def empty(self, db: str, keep: tuple[str, ...] = ()) -> str:
        """Make ``db`` as good as new: every other session on it ended, every table but
        ``keep`` emptied, identities restarted (much cheaper than a new database)."""
        import psycopg

        with psycopg.connect(self.url(db), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                )
                if r[0] not in keep
            ]
            if tables:
                conn.execute(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
        return self.url(db)

    def postmaster_pid(self) -> int:
        """The server's main process (its backends are its children)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def drop(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster:
    bindir = server_bindir()
    if bindir is None:
        raise FileNotFoundError(MISSING)
    user = "postgres" if os.getuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
    os.chmod(root, 0o755)
    return Cluster(bindir, root, user).start()
