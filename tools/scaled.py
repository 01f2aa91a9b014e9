"""The scaled set-up on one machine (issue 13, part 3): HAProxy in front of two Rasa servers and two action servers.

Both Rasa servers use endpoints.scaled.yml: Rasa's SQL tracker store on PostgreSQL and its Redis lock store, and the
action servers behind HAProxy's second front door (either Rasa reaches either action server, so one action server
down costs nothing but capacity). Both action servers share the knowledge store on PostgreSQL (BOT_STORE_URL), the
index folder, the embedding cache and the audio folder (one machine), and Redis for limits (REDIS_HOST). HAProxy
runs as a foreground child (`haproxy -db`) with deploy/haproxy.cfg, never as Debian's system service.

Used by scripts/run_scaled.sh (`make run-scaled`, `python -m tools.scaled`) and tests/test_scaled_e2e.py; what
runs where and what was measured: docs/scaling.md. Each process runs in its own process group, so stopping one
stops the worker processes Sanic spawned for it and nothing else.
"""

from __future__ import annotations

import contextlib
import csv
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from bot.core.settings import ROOT, redis_key_prefix
from tools.launch import ACTIONS_PY, RASA, free_port, latest_model, relay_secret, wait_until
from tools.warmup import warm_up

HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"
ENDPOINTS = ROOT / "endpoints.scaled.yml"
CHECK_TIMEOUT_S = 3


class EnginesMissing(RuntimeError):
    """PostgreSQL, Redis or HAProxy is not there: the scaled set-up cannot start (nothing falls back)."""


@dataclass(frozen=True)
class Ports:
    """Where everything listens, all on 127.0.0.1."""

    front: int  # HAProxy's door for residents (REST, web chat, webhooks)
    actions_front: int  # HAProxy's door for the Rasa servers to the action servers
    rasa: tuple[int, int]
    actions: tuple[int, int]

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Ports:
        """SCALED_*_PORT from the environment; defaults beside `make run`'s (front on RASA_PORT, 5005)."""
        def port(name: str, default: int) -> int:
            return int(env.get(name, "").strip() or default)
        return cls(port("SCALED_FRONT_PORT", port("RASA_PORT", 5005)), port("SCALED_ACTIONS_FRONT_PORT", 5055),
                   (port("SCALED_RASA1_PORT", 5011), port("SCALED_RASA2_PORT", 5012)),
                   (port("SCALED_ACTIONS1_PORT", 5061), port("SCALED_ACTIONS2_PORT", 5062)))

    @classmethod
    def free(cls) -> Ports:
        """Ports nobody listens on now (tests)."""
        return cls(free_port(), free_port(), (free_port(), free_port()), (free_port(), free_port()))


@dataclass(frozen=True)
class Engines:
    """PostgreSQL (trust auth on this machine) and Redis, from the variables endpoints.scaled.yml reads."""

    pg_host: str
    pg_port: int
    pg_user: str
    pg_password: str
    redis_host: str
    redis_port: int

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Engines:
        return cls(env.get("TRACKER_DB_HOST", "").strip() or "127.0.0.1", int(env.get("TRACKER_DB_PORT") or 5432),
                   env.get("TRACKER_DB_USER", "").strip() or "postgres", env.get("TRACKER_DB_PASSWORD", ""),
                   env.get("REDIS_HOST", "").strip() or "127.0.0.1", int(env.get("REDIS_PORT") or 6379))

    def url(self, db: str) -> str:
        """postgresql://user[:password]@host:port/db (bot/store/schema.py picks the driver of each environment)."""
        auth = self.pg_user + (f":{self.pg_password}" if self.pg_password else "")
        return f"postgresql://{auth}@{self.pg_host}:{self.pg_port}/{db}"

    def psql(self, sql: str, db: str = "postgres") -> str:
        env = {**os.environ, "PGPASSWORD": self.pg_password, "PGCONNECT_TIMEOUT": str(CHECK_TIMEOUT_S)}
        done = subprocess.run(["psql", "-h", self.pg_host, "-p", str(self.pg_port), "-U", self.pg_user, "-d", db,
                               "-v", "ON_ERROR_STOP=1", "-Atc", sql], env=env, capture_output=True, text=True,
                              timeout=30)
        if done.returncode:
            raise EnginesMissing(f"psql on {self.pg_host}:{self.pg_port} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def check(self) -> str:
        """Raise EnginesMissing unless PostgreSQL, Redis and haproxy answer; the path of haproxy."""
        haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
        if not haproxy:
            raise EnginesMissing("haproxy is not installed (scripts/setup.sh: apt-get install -y haproxy)")
        if not shutil.which("psql"):
            raise EnginesMissing("psql is not installed (apt-get install -y postgresql-client)")
        self.psql("SELECT 1")
        try:
            with socket.create_connection((self.redis_host, self.redis_port), timeout=CHECK_TIMEOUT_S) as s:
                s.sendall(b"PING\r\n")
                pong = s.recv(64)
        except OSError as err:
            raise EnginesMissing(f"Redis at {self.redis_host}:{self.redis_port}: {err}") from err
        # -NOAUTH when a password is set: it answers, and the servers send REDIS_PASSWORD
        if not pong.startswith((b"+PONG", b"-NOAUTH")):
            raise EnginesMissing(f"Redis at {self.redis_host}:{self.redis_port} answered {pong!r}")
        return haproxy

    def database(self, name: str, fresh: bool = False) -> None:
        """Create database `name` when missing (dropped first when `fresh`)."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name {name!r}: letters, digits and _ only")
        if fresh:
            self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") != "1":
            self.psql(f"CREATE DATABASE {name}")


class Scaled:
    """The processes of the scaled set-up; `start()` them one after another, `stop()` them all."""

    def __init__(self, workdir: Path, ports: Ports | None = None, tracker_db: str = "bot_tracker",
                 store_db: str = "bot_knowledge", api_token: str | None = None, fresh: bool = False,
                 env: dict[str, str] | None = None) -> None:
        """Logs, the index and HAProxy's socket go to `workdir`; `fresh` drops both databases first (tests).
        `api_token` turns on Rasa's HTTP API with it (it can read every conversation)."""
        base = {**os.environ, **(env or {})}
        self.workdir, self.fresh, self.api_token = workdir, fresh, api_token
        self.ports = ports or Ports.from_env(base)
        self.engines = Engines.from_env(base)
        self.tracker_db, self.store_db = tracker_db, store_db
        self.token = base.get("ACTION_SERVER_TOKEN", "").strip() or secrets.token_urlsafe(32)
        self.env = {
            **base,
            "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "RELAY_SECRET": relay_secret(),
            "ACTION_SERVER_TOKEN": self.token,
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.ports.actions_front}/webhook",
            "TRACKER_DB_HOST": self.engines.pg_host, "TRACKER_DB_PORT": str(self.engines.pg_port),
            "TRACKER_DB": tracker_db, "TRACKER_DB_USER": self.engines.pg_user,
            "TRACKER_DB_PASSWORD": self.engines.pg_password,
            "REDIS_HOST": self.engines.redis_host, "REDIS_PORT": str(self.engines.redis_port),
            # endpoints.scaled.yml reads both (empty: no password, no prefix); checked in prepare()
            "REDIS_PASSWORD": base.get("REDIS_PASSWORD", "").strip(),
            "BOT_REDIS_PREFIX": base.get("BOT_REDIS_PREFIX", "").strip(),
            "BOT_STORE_URL": self.engines.url(store_db),
            "BOT_INDEX_DIR": base.get("BOT_INDEX_DIR") or str(workdir / "index"),
            # the same tag of a client address on both Rasa servers (bot/rasa_side/channels/rest.py)
            "CLIENT_ADDRESS_KEY": base.get("CLIENT_ADDRESS_KEY", "").strip() or secrets.token_hex(32),
            # Rasa's lock lifetime: how long a conversation waits for a ticket its server died holding (Rasa's
            # default 60 s); waiting tickets are kept alive (bot/rasa_side/lock_store.py), a turn takes under 20 s
            "TICKET_LOCK_LIFETIME": base.get("TICKET_LOCK_LIFETIME", "").strip() or "20",
            "SANIC_PROXIES_COUNT": "1",  # HAProxy adds X-Forwarded-For: the resident's address, for the limits
            "SCALED_DIR": str(workdir),
            "SCALED_FRONT_PORT": str(self.ports.front), "SCALED_ACTIONS_FRONT_PORT": str(self.ports.actions_front),
            "SCALED_RASA1_PORT": str(self.ports.rasa[0]), "SCALED_RASA2_PORT": str(self.ports.rasa[1]),
            "SCALED_ACTIONS1_PORT": str(self.ports.actions[0]), "SCALED_ACTIONS2_PORT": str(self.ports.actions[1]),
        }
        self.procs: dict[str, subprocess.Popen] = {}
        self.timings: dict[str, float] = {}

    @property
    def url(self) -> str:
        """HAProxy's door for residents."""
        return f"http://127.0.0.1:{self.ports.front}"

    def out(self, name: str) -> Path:
        return self.workdir / f"{name}.out"

    # -- processes ------------------------------------------------------------------------------------------------

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen:
        log_dir = self.workdir / "logs" / name  # bot/core/logs.py: one masked, rotated log per process
        log_dir.mkdir(parents=True, exist_ok=True)
        with self.out(name).open("ab") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, env={**self.env, "BOT_LOG_DIR": str(log_dir)}, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def stop_process(self, name: str, sig: int = signal.SIGTERM, wait: float = 20) -> None:
        """Send `sig` to the process group of `name` (its Sanic workers too) and wait; SIGKILL after `wait` s."""
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        except ProcessLookupError:
            pass
        with contextlib.suppress(ProcessLookupError):  # workers left behind by a parent that died first
            os.killpg(proc.pid, signal.SIGKILL)

    def _timed(self, name: str, started: float) -> None:
        self.timings[name] = round(time.monotonic() - started, 1)

    def start_actions(self, i: int) -> None:
        """Action server i (1 or 2) behind its token, healthy and warmed up (e5 and the index loaded)."""
        name, port, started = f"actions{i}", self.ports.actions[i - 1], time.monotonic()
        proc = self._spawn(name, [str(ACTIONS_PY), "-m", "bot.action_server", "--actions", "actions",
                                  "--port", str(port)])
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok, name, proc, self.out(name))
        if not warm_up(f"http://127.0.0.1:{port}/webhook", timeout=120, token=self.token):
            raise RuntimeError(f"{name} did not answer its warm-up question; see {self.out(name)}")
        self._timed(name, started)

    def start_rasa(self, i: int) -> None:
        """Rasa server i (1 or 2) on endpoints.scaled.yml; up once GET / answers (Rasa listens after loading)."""
        name, port, started = f"rasa{i}", self.ports.rasa[i - 1], time.monotonic()
        api = ["--enable-api", f"--auth-token={self.api_token}"] if self.api_token else []  # may start with "-"
        proc = self._spawn(name, [str(RASA), "run", "--model", str(latest_model()), "--endpoints", str(ENDPOINTS),
                                  "--credentials", str(ROOT / "credentials.yml"), "--logging-config-file",
                                  str(ROOT / "logging.yml"), "--interface", "127.0.0.1", "--port", str(port), *api])
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/", timeout=2).ok, name, proc, self.out(name))
        self._timed(name, started)

    def start_haproxy(self, haproxy: str) -> None:
        """HAProxy in the foreground (-db) with deploy/haproxy.cfg, checked first (-c)."""
        checked = subprocess.run([haproxy, "-c", "-q", "-f", str(HAPROXY_CFG)], env=self.env, capture_output=True,
                                 text=True, timeout=30)
        if checked.returncode:
            raise RuntimeError(f"deploy/haproxy.cfg: {checked.stdout}{checked.stderr}")
        proc = self._spawn("haproxy", [haproxy, "-db", "-f", str(HAPROXY_CFG)])
        wait_until(lambda: bool(self.stats()), "haproxy", proc, self.out("haproxy"), timeout=20)

    def prepare(self) -> str:
        """Check the engines, create the databases, migrate and publish the knowledge store; haproxy's path."""
        started = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        redis_key_prefix(self.env)  # Rasa's lock store would ignore a bad prefix silently: refuse it here
        haproxy = self.engines.check()
        self.engines.database(self.tracker_db, self.fresh)
        self.engines.database(self.store_db, self.fresh)
        for step in (["-m", "bot.store.migrate", "upgrade"], ["-m", "bot.indexing.build"]):
            done = subprocess.run([str(ACTIONS_PY), *step], cwd=ROOT, env=self.env, capture_output=True, text=True,
                                  timeout=600)
            if done.returncode:
                raise RuntimeError(f"{' '.join(step[1:])} failed:\n{done.stdout[-2000:]}{done.stderr[-4000:]}")
        self._timed("prepare", started)
        return haproxy

    def start(self) -> Scaled:
        """Everything, one process after another (each action server holds e5: ~1.3 GB), then wait until HAProxy
        sees all four servers UP. Stops what started if anything fails."""
        started = time.monotonic()
        try:
            haproxy = self.prepare()
            self.start_actions(1)
            self.start_actions(2)
            self.start_haproxy(haproxy)
            self.start_rasa(1)
            self.start_rasa(2)
            self.wait_status({"rasa1", "rasa2", "actions1", "actions2"}, "UP")
        except BaseException:
            self.stop()
            raise
        self._timed("total", started)
        return self

    def stop(self) -> None:
        """Stop every process, front door first: SIGTERM to all, then wait (Sanic's graceful stop takes seconds)."""
        names = ["haproxy", "rasa1", "rasa2", "actions1", "actions2"]
        for name in names:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for name in names:
            self.stop_process(name)

    # -- HAProxy's view ---------------------------------------------------------------------------------------------

    def stats(self) -> dict[str, dict[str, str]]:
        """`show stat` on HAProxy's socket: one row per server (rasa1, rasa2, actions1, actions2) and backend."""
        path = self.workdir / "haproxy.sock"
        if not path.exists():
            return {}
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(CHECK_TIMEOUT_S)
            try:
                s.connect(str(path))
            except OSError:
                return {}
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        rows = csv.DictReader(data.decode().lstrip("# ").splitlines())
        return {r["svname"] if r["svname"] not in ("BACKEND", "FRONTEND") else f"{r['pxname']}:{r['svname']}": r
                for r in rows if r.get("svname")}

    def served(self) -> dict[str, int]:
        """How many requests each server answered with 2xx, by HAProxy's counters."""
        return {name: int(row.get("hrsp_2xx") or 0) for name, row in self.stats().items() if ":" not in name}

    def wait_status(self, names: set[str], status: str, timeout: float = 30) -> float:
        """Wait until HAProxy reports `status` (UP, DOWN) for every server in `names`; the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            stats = self.stats()
            if all(stats.get(n, {}).get("status", "").startswith(status) for n in names):
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"HAProxy does not see {sorted(names)} {status}: "
                           f"{ {n: r.get('status') for n, r in self.stats().items()} }")

    # -- talking through the front door ----------------------------------------------------------------------------

    def say(self, text: str, sender: str, timeout: float = 60) -> requests.Response:
        """POST one message to the REST channel through HAProxy (conversation web-<sender>)."""
        return requests.post(f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                             timeout=timeout)

    def tracker(self, conversation_id: str) -> dict:
        """A conversation's tracker through HAProxy from Rasa's HTTP API (needs `api_token`)."""
        r = requests.get(f"{self.url}/conversations/{conversation_id}/tracker", params={"token": self.api_token},
                         timeout=30)
        r.raise_for_status()
        return r.json()


def main() -> int:
    """`python -m tools.scaled` (scripts/run_scaled.sh): start everything, print the doors, run until Ctrl+C."""
    workdir = Path(os.environ.get("SCALED_DIR", "").strip() or ROOT / ".cache" / "scaled")
    scaled = Scaled(workdir, tracker_db=os.environ.get("TRACKER_DB", "").strip() or "bot_tracker",
                    store_db=os.environ.get("SCALED_STORE_DB", "").strip() or "bot_knowledge",
                    api_token=os.environ.get("RASA_API_TOKEN", "").strip() or None)

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)  # like Ctrl+C, also while starting: everything started is stopped
    try:
        print(f"Starting the scaled set-up (logs: {workdir}/*.out and {workdir}/logs/) ...", flush=True)
        scaled.start()
        p = scaled.ports
        print(f"""
  The scaled bot is up in {scaled.timings['total']} s ({scaled.timings}).
  Residents' door (HAProxy): {scaled.url}   e.g.
    curl -s {scaled.url}/webhooks/rest/webhook -H 'Content-Type: application/json' \\
         -d '{{"sender": "me", "message": "quen mat khau vneid"}}'
  Rasa servers: 127.0.0.1:{p.rasa[0]}, 127.0.0.1:{p.rasa[1]} (tracker store: PostgreSQL {scaled.tracker_db},
    lock store: Redis {scaled.engines.redis_host}:{scaled.engines.redis_port} db 1)
  Action servers: 127.0.0.1:{p.actions[0]}, 127.0.0.1:{p.actions[1]} behind HAProxy's 127.0.0.1:{p.actions_front}
    (knowledge store: PostgreSQL {scaled.store_db})
  HAProxy's view: echo 'show stat' | socat stdio {workdir}/haproxy.sock
  Ctrl+C stops everything.
""", flush=True)
        while True:
            dead = [n for n, proc in scaled.procs.items() if proc.poll() is not None]
            if dead:
                print(f"stopped by itself: {', '.join(dead)} (see {workdir}/<name>.out); stopping the rest",
                      file=sys.stderr)
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    except (EnginesMissing, RuntimeError, FileNotFoundError, ValueError) as err:
        print(f"run-scaled: {err}", file=sys.stderr)
        return 1
    finally:
        scaled.stop()


if __name__ == "__main__":
    sys.exit(main())
