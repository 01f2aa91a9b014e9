"""A Redis server of our own (bench/faults.py, tests): `redis-server` on a free port of 127.0.0.1 with its data in one
folder, which can be killed and started again on the same port with the same data, as a restart of a shared Redis
would look to the bot. The machine's own Redis (the system service on 6379) is never touched.

Append-only persistence (fsync every second) so a kill loses at most about a second of writes, as a production Redis
set up for Rasa's lock store would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tools.launch import free_port

START_TIMEOUT_S = 20.0


class RedisMissing(RuntimeError):
    """redis-server is not installed: nothing falls back to the shared Redis."""


def ping(port: int, password: str | None = None, timeout: float = 0.5) -> bool:
    """True when a Redis on 127.0.0.1:`port` answers PING (after AUTH when a password is given)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            if password:
                s.sendall(f"AUTH {password}\r\n".encode())
                if not s.recv(64).startswith(b"+OK"):
                    return False
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server process: `start()`, `stop(sig)`, `start()` again on the same port and folder."""

    def __init__(self, folder: Path, port: int | None = None, password: str | None = None) -> None:
        binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin:/usr/local/bin")
        if not binary:
            raise RedisMissing("redis-server is not installed (apt-get install -y redis-server)")
        self.binary, self.folder, self.password = binary, folder, password
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> float:
        """Start it and wait until it answers PING; the seconds that took."""
        started = time.monotonic()
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder),
                "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
                "--logfile", str(self.folder / "redis.log")]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        while time.monotonic() - started < START_TIMEOUT_S:
            if self.proc.poll() is not None:
                log = self.folder / "redis.log"
                raise RuntimeError(f"redis-server exited: {log.read_text()[-2000:] if log.exists() else ''}")
            if ping(self.port, self.password):
                return time.monotonic() - started
            time.sleep(0.05)
        self.stop(signal.SIGKILL)
        raise RuntimeError(f"redis-server on port {self.port} did not answer within {START_TIMEOUT_S} s")

    def stop(self, sig: int = signal.SIGTERM, wait: float = 10.0) -> None:
        """Send `sig` (SIGTERM: a clean shutdown; SIGKILL: a crash) and wait for the process to end."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, sig)
        try:
            self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None
