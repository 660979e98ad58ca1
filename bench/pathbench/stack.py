"""What the bench runs on, started and always stopped: the stand-in, databases, sites, workers.

Each child process gets its own session, so a Ctrl-C reaches the bench alone, which then
stops every process it started (by process group: gunicorn's workers with their master) and
drops every database it created, whatever phase it was in. Logs go to a temporary directory,
shown when a process fails to start and removed at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis

from pathbench import configs

BENCH_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = BENCH_DIR.parent
#: Seconds a process has to stop after SIGTERM before it is killed.
STOP_GRACE = 10.0
#: Each site: 2 workers x 4 threads; idle keep-alive connections are kept for the bench's
#: browsers (a reconnect would be timed as part of a request).
GUNICORN_ARGS = [
    "pathbench.wsgi",
    "--worker-class=gthread",
    "--workers=2",
    "--threads=4",
    "--keep-alive=600",
    "--log-level=warning",
]
#: The background site's worker. It polls for tasks every 0.2 s when idle (default: 1 s).
WORKER_ARGS = ["db_worker", "--interval=0.2", "--no-startup-delay"]


class Process:
    """A child process in a session of its own, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logs: Path) -> None:
        self.name, self.log = name, logs / f"{name}.log"
        with self.log.open("wb") as log:
            self.popen = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
                argv,
                env=env,
                cwd=REPO_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def check_alive(self) -> None:
        """Raise, with the end of its log, if the process has exited."""
        if self.popen.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited ({self.popen.returncode}):\n{tail}")

    def rss_kib(self) -> int:
        """The resident set size, in KiB, from ``/proc``."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"{self.name} has no VmRSS.")

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL to whatever is left after the grace period."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(STOP_GRACE)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # gunicorn workers left behind, if any
        self.popen.wait()


class StandIn:
    """The stand-in Upsolve's process and its control port."""

    def __init__(self, latency: float, logs: Path, env: dict[str, str]) -> None:
        sources = [f"web-{config}" for config in configs.CONFIGS] + ["worker"]
        argv = [sys.executable, "-m", "pathbench.standin", "--latency", str(latency)]
        argv += [arg for source in sources for arg in ("--source", source)]
        self.process = Process("standin", argv, env, logs)
        self.ports = self._read_ports(self.process.log)

    def _read_ports(self, log: Path) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.process.check_alive()
            text = log.read_text()
            if "\n" in text:
                ports: dict[str, Any] = json.loads(text.splitlines()[0])
                return ports
            time.sleep(0.05)
        raise RuntimeError("The stand-in did not start.")

    def api_url(self, source: str) -> str:
        return f"http://127.0.0.1:{self.ports['sources'][source]}/v1/api/projects"

    def calls(self) -> list[tuple[str, str, str]]:
        """Every call since the last reset: ``(source, call, view)``."""
        return [tuple(call) for call in self._ask("GET", "/calls")["calls"]]  # type: ignore[misc]

    def count(self, source: str, call: str) -> int:
        count: int = self._ask("GET", f"/count?source={source}&call={call}")["count"]
        return count

    def reset(self) -> None:
        self._ask("POST", "/reset", {})

    def set_latency(self, seconds: float) -> None:
        self._ask("POST", "/latency", {"seconds": seconds})

    def know_users(self, user_ids: list[str]) -> None:
        self._ask("POST", "/users", {"ids": user_ids})

    def _ask(self, method: str, path: str, body: object = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.ports['control']}{path}", data=data, method=method
        )
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 (loopback)
            parsed: dict[str, Any] = json.load(answer)
            return parsed


@dataclass
class Site:
    """One configuration deployed: its database and its gunicorn."""

    config: str
    database: str
    port: int
    server: Process


@dataclass
class Stack:
    """The bench's resources, each released when ``cleanup`` closes (see :func:`open_stack`);
    a phase's sites are released at the end of their :meth:`deploy` block already."""

    pg_url: str
    redis_url: str
    latency: float
    prefix: str = field(default_factory=lambda: f"request_path_{os.getpid()}")
    cleanup: ExitStack = field(default_factory=ExitStack)
    #: The migrated database every other one is cloned from.
    template: str | None = None

    def start(self) -> None:
        self.logs = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-"))
        self.cleanup.callback(shutil.rmtree, self.logs, ignore_errors=True)
        self.cleanup.callback(self._forget_cache)
        self.standin = StandIn(self.latency, self.logs, self.env())
        self.cleanup.callback(self.standin.process.stop)
        template = self.create_database("template")
        self.manage(configs.BACKGROUND, template, "migrate", "--verbosity=0")
        self.template = template

    def env(self, **bench: str) -> dict[str, str]:
        """This process's environment, the bench site importable, plus ``BENCH_*`` values."""
        path = os.pathsep.join([str(BENCH_DIR), str(REPO_DIR), os.environ.get("PYTHONPATH", "")])
        values = {f"BENCH_{key.upper()}": value for key, value in bench.items()}
        return {
            **os.environ,
            "PYTHONPATH": path,
            "DJANGO_SETTINGS_MODULE": "pathbench.settings",
            "BENCH_REDIS_URL": self.redis_url,
            **values,
        }

    def site_env(self, config: str, database: str, source: str, scale: float) -> dict[str, str]:
        return self.env(
            config=config,
            database=self.database_url(database),
            upsolve_url=self.standin.api_url(source),
            cache_prefix=f"{self.prefix}-{database}",
            scale=str(scale),
        )

    # Databases ---------------------------------------------------------------------------

    def database_url(self, name: str) -> str:
        return self.pg_url.rsplit("/", 1)[0] + f"/{name}"

    def create_database(self, suffix: str, cleanup: ExitStack | None = None) -> str:
        """A new database (from the migrated template once there is one); dropped on close."""
        name = f"{self.prefix}_{suffix}"
        template = f" TEMPLATE {self.template}" if self.template else ""
        self._sql(f"CREATE DATABASE {name}{template}")
        (cleanup or self.cleanup).callback(
            self._sql, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )
        return name

    def _sql(self, statement: str) -> None:
        with psycopg.connect(self.pg_url, autocommit=True) as connection:
            connection.execute(statement)  # type: ignore[arg-type]  # names are our own

    def _forget_cache(self) -> None:
        client = redis.Redis.from_url(self.redis_url)
        keys = list(client.scan_iter(match=f"{self.prefix}-*", count=1000))
        if keys:
            client.delete(*keys)

    # Processes ---------------------------------------------------------------------------

    def manage(self, config: str, database: str, *args: str, scale: float = 1.0) -> str:
        """Run a management command against ``database``; its output."""
        env = self.site_env(config, database, f"web-{config}", scale)
        done = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "django", *args],
            env=env,
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"manage {' '.join(args)} ({config}) failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def start_process(
        self, name: str, argv: list[str], env: dict[str, str], cleanup: ExitStack
    ) -> Process:
        process = Process(name, argv, env, self.logs)
        cleanup.callback(process.stop)
        return process

    @contextmanager
    def deploy(self, phase: str, scale: float) -> Iterator[dict[str, Site]]:
        """Every configuration on a fresh database and gunicorn (2 workers × 4 threads), the
        background one with its ``db_worker``; all stopped and dropped when the block ends."""
        with ExitStack() as cleanup:
            sites = {
                config: self._site(phase, config, scale, cleanup) for config in configs.CONFIGS
            }
            for site in sites.values():
                self._wait_ready(site)
            yield sites

    def start_worker(self, database: str, scale: float, cleanup: ExitStack) -> Process:
        """``manage.py db_worker`` for the background configuration on ``database``."""
        argv = [sys.executable, "-m", "django", *WORKER_ARGS]
        env = self.site_env(configs.BACKGROUND, database, "worker", scale)
        return self.start_process(f"{database}-worker", argv, env, cleanup)

    def _site(self, phase: str, config: str, scale: float, cleanup: ExitStack) -> Site:
        database = self.create_database(f"{phase}_{config}", cleanup)
        port = free_port()
        argv = [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS, f"--bind=127.0.0.1:{port}"]
        env = self.site_env(config, database, f"web-{config}", scale)
        site = Site(
            config, database, port, self.start_process(f"{database}-web", argv, env, cleanup)
        )
        if config == configs.BACKGROUND:
            self.start_worker(database, scale, cleanup)
        return site

    def _wait_ready(self, site: Site) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            site.server.check_alive()
            ping = f"http://127.0.0.1:{site.port}/ping/"
            with contextlib.suppress(OSError), urllib.request.urlopen(ping, timeout=5):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{site.config} did not start.")


@contextmanager
def open_stack(pg_url: str, redis_url: str, latency: float) -> Iterator[Stack]:
    """A started :class:`Stack`, released however the block ends (Ctrl-C and SIGTERM too)."""
    previous = {sig: signal.signal(sig, _interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    stack = Stack(pg_url, redis_url, latency)
    try:
        with stack.cleanup:
            stack.start()
            yield stack
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupted(signum: int, frame: object) -> None:
    """Unwind to the cleanup, which a second Ctrl-C must not cut short: it is ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("\nInterrupted: stopping every process, dropping every database.", file=sys.stderr)
    raise KeyboardInterrupt


def free_port() -> int:
    """A port free now on the loopback (gunicorn binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
