"""A throwaway PostgreSQL cluster started from the installed server binaries.

`initdb` refuses to run as root, so when the tests run as root the server runs as the
`postgres` user (through `runuser`). The cluster lives in a temporary directory with
fsync off, listens on a free loopback port and is stopped and deleted at the end.
Nothing is mocked: the tests talk to a real PostgreSQL server.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def server_bin_dir() -> Path:
    """The newest `/usr/lib/postgresql/*/bin` holding `initdb` and `pg_ctl`."""
    candidates = sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin") if Path(p, "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise RuntimeError(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin; "
            "install the postgresql package (the suite needs a real server)"
        )
    return candidates[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Cluster:
    port: int
    superuser: str = "postgres"

    def url(self, database: str = "postgres", user: str | None = None) -> str:
        return f"postgresql+psycopg://{user or self.superuser}@127.0.0.1:{self.port}/{database}"


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextlib.contextmanager
def running_cluster() -> Iterator[Cluster]:
    bin_dir = server_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="pathwise-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        for path in (root, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = _free_port()

    def run(command: list[str]) -> None:
        subprocess.run(
            _as_server_user(command),
            check=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=root,
        )

    try:
        run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )
        options = (
            f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100 "
            "-c max_parallel_workers_per_gather=0"
        )
        log = str(root / "server.log")
        run([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", log, "-w", "start"])
        yield Cluster(port)
    finally:
        log_file = root / "server.log"
        if log_file.exists() and "terminated by signal" in log_file.read_text(errors="replace"):
            # Keep the evidence where a CI log shows it: a backend killed from outside
            # (the OOM killer, a stray pkill) is otherwise invisible once the cluster is gone.
            tail = log_file.read_text(errors="replace").splitlines()[-40:]
            sys.stderr.write("PostgreSQL test cluster log (tail):\n" + "\n".join(tail) + "\n")
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_server_user(
                    [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
                ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=root,
            )
        shutil.rmtree(root, ignore_errors=True)
