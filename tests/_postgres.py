"""A throwaway PostgreSQL server for the tests.

``postgres_server`` (session scope) finds the PostgreSQL binaries (``$APPRENTICE_PG_BINDIR``,
``/usr/lib/postgresql/*/bin``, ``/usr/local/pgsql/bin``, or ``pg_ctl`` on ``PATH``), installs
them with ``apt-get install postgresql`` when they are missing and we are root on Debian,
initialises a cluster in a temporary directory (trust authentication, no fsync: fast), starts
it on a free port of 127.0.0.1 with its socket in that directory, and stops it and removes
the directory at the end of the session. When PostgreSQL cannot be found, installed or
started, every test that uses it is skipped with the reason.

As root, PostgreSQL refuses to run; the server then runs as the ``postgres`` user (or
``nobody``) through ``runuser``, with the temporary directory owned by that user.

``postgres_url`` is the SQLAlchemy URL (``postgresql+psycopg://...``) of a fresh database,
and ``postgres_server.dsn`` the libpq connection string for psycopg.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL_TIMEOUT_S = 900
START_TIMEOUT_S = 60


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway server."""

    host: str
    port: int
    user: str
    database: str
    data_dir: Path

    @property
    def url(self) -> str:
        """SQLAlchemy URL (psycopg 3 driver)."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def dsn(self) -> str:
        """libpq connection string (``psycopg.connect(dsn)``)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", path.parent.name)) or (0,)


def find_bindir() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, newest version first."""
    needed = ("initdb", "pg_ctl", "postgres")
    candidates: list[Path] = []
    env = os.environ.get("APPRENTICE_PG_BINDIR")
    if env:
        candidates.append(Path(env))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    candidates.append(Path("/usr/local/pgsql/bin"))
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for directory in candidates:
        if all((directory / tool).is_file() for tool in needed):
            return directory
    return None


def _install() -> str | None:
    """Install PostgreSQL with apt-get; ``None`` on success, else the reason it failed."""
    if os.name != "posix" or os.geteuid() != 0:
        return "not root, so PostgreSQL cannot be installed with apt-get"
    apt = shutil.which("apt-get")
    if apt is None:
        return "apt-get is not available to install PostgreSQL"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in ([apt, "update", "-q"], [apt, "install", "-y", "-q", "postgresql"]):
        try:
            done = subprocess.run(
                args, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(args[1:3])} failed: {exc}"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return f"{' '.join(args[1:3])} failed: {' / '.join(tail)}"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that drops root (PostgreSQL refuses to run as root)."""
    if os.name != "posix" or os.geteuid() != 0:
        return [], None
    runuser = shutil.which("runuser")
    for name in ("postgres", "nobody"):
        try:
            account = pwd.getpwnam(name)
        except KeyError:
            continue
        if runuser:
            return [runuser, "-u", name, "--"], account
    raise RuntimeError("running as root, and there is no postgres user or runuser to drop root")


def _chown_tree(path: Path, account: pwd.struct_passwd) -> None:
    os.chown(path, account.pw_uid, account.pw_gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), account.pw_uid, account.pw_gid)


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


@contextlib.contextmanager
def running_postgres(bindir: Path) -> Iterator[PostgresServer]:
    """Initialise, start, yield, stop and remove a throwaway cluster."""
    prefix, account = _run_as()
    base = Path(tempfile.mkdtemp(prefix="apprentice-pg-"))
    data, sock, log = base / "data", base / "sock", base / "server.log"
    sock.mkdir()
    if account is not None:
        _chown_tree(base, account)
    user = "postgres"
    try:
        init = _run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                user,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            timeout=120,
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr.strip()[-500:]}")
        port = 0
        for _attempt in range(3):
            port = _free_port()
            options = (
                f"-h 127.0.0.1 -p {port} -k {sock} -F -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off -c max_connections=40 -c shared_buffers=16MB"
            )
            start = _run(
                [
                    *prefix,
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-w",
                    "-t",
                    str(START_TIMEOUT_S),
                    "-o",
                    options,
                    "start",
                ],
                timeout=START_TIMEOUT_S + 15,
            )
            if start.returncode == 0:
                break
        else:
            tail = log.read_text(errors="replace")[-500:] if log.exists() else start.stderr
            raise RuntimeError(f"the server did not start: {tail.strip()}")
        server = PostgresServer("127.0.0.1", port, user, "postgres", data)
        try:
            _wait_ready(server)
            yield server
        finally:
            stop = _run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                timeout=60,
            )
            if stop.returncode != 0:
                _run(
                    [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                    30,
                )
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _wait_ready(server: PostgresServer, timeout: float = 30) -> None:
    psycopg = pytest.importorskip("psycopg")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(server.dsn, connect_timeout=5):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running throwaway PostgreSQL server (skips the test when none can be had)."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install psycopg[binary])")
    bindir = find_bindir()
    if bindir is None:
        reason = _install()
        bindir = find_bindir()
        if bindir is None:
            pytest.skip(f"PostgreSQL is not installed and could not be installed: {reason}")
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(running_postgres(bindir))
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"PostgreSQL could not be started: {exc}")
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL (``postgresql+psycopg://``) of the throwaway server's database."""
    return postgres_server.url
