"""The scaled mode on one machine: `make run-scaled RASA=N API=M`, the scaled tests and
`make bench-scale` start it with `ScaledStack`.

- N Rasa servers, each with its action server, sharing one PostgreSQL tracker store and a
  Redis lock store (bot/endpoints-scaled.yml), which serialises one conversation's messages
  whichever server takes them;
- M service processes on one PostgreSQL database, with WebSocket events through Redis
  pub/sub (NORDHEM_BUS_URL) and rate limits counted in Redis; each sends a conversation to
  its Rasa server by consistent hashing (NORDHEM_RASA_URLS) and fails over;
- HAProxy in front: it spreads requests and WebSockets over the service processes, checks
  each one's /health every second, and stops sending to one that does not answer.

Why HAProxy rather than uvicorn's shared socket (`--workers`): both spread connections,
but behind HAProxy each service process is a process of its own with its own port, as a
pod is behind a Kubernetes Service: it can be killed, restarted and checked on its own.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import psycopg
import redis
from psycopg.conninfo import conninfo_to_dict
from redis.connection import parse_url
from sqlalchemy import URL

from tools.demo_agent import ensure_demo_agent

ROOT = Path(__file__).resolve().parents[1]
BOT_BIN = ROOT / ".venv" / "bin"
API_PYTHON = ROOT / ".venv-api" / "bin" / "python"
MODEL = ROOT / "models" / "current.tar.gz"
POSTGRES_ADMIN = os.environ.get("NORDHEM_SCALED_POSTGRES",
                                "host=127.0.0.1 port=5432 dbname=test user=postgres")
REDIS_URL = os.environ.get("NORDHEM_SCALED_REDIS", "redis://127.0.0.1:6379")
# a Rasa server's ticket in the lock store holds its conversation this long at most (Rasa's
# default is 60 s). A message failed over from a dead server waits for its ticket, so it must
# stay well under the service's Rasa timeout; a message still at Rasa after it may meet the
# conversation's next message there, so it must be well above what a message takes
TICKET_LOCK_SECONDS = 8
# the service's wait for Rasa: a message failed over from a dead server waits up to
# TICKET_LOCK_SECONDS for the dead ticket and is then answered, so more than make run's 10 s
RASA_TIMEOUT_SECONDS = 15


@dataclass
class Layout:
    """Where everything listens and what it shares."""

    rasa: int = 2
    api: int = 2
    front_port: int = 8000
    first_rasa_port: int = 5005
    first_actions_port: int = 5055
    first_api_port: int = 8001
    interface: str = "127.0.0.1"  # the front's; everything else listens on loopback only
    service_database: str = "nordhem"
    tracker_database: str = "nordhem_trackers"
    fresh: bool = False  # drop both databases first (tests, benchmarks)
    name: str = "nordhem"  # the Redis channel, rate-limit and lock-key prefixes
    lock_db: int = 1
    bus_db: int = 2
    rate_limit_db: int = 3
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    hook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    service_env: dict[str, str] = field(default_factory=dict)  # more NORDHEM_* settings
    actions_env: dict[str, str] = field(default_factory=dict)


@dataclass
class Process:
    """One server: its command, environment, log and the URL that answers when it is up."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    ready_url: str
    popen: Optional[subprocess.Popen[bytes]] = None

    def start(self) -> None:
        self.popen = subprocess.Popen(self.command, cwd=ROOT, env=self.env,
                                      stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
                                      start_new_session=True)

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait_ready(self, seconds: float = 240) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited while starting:\n{self.tail()}")
            try:
                urllib.request.urlopen(self.ready_url, timeout=2).read()
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not answer in {seconds} s:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def kill(self) -> None:
        """As a crash: SIGKILL, nothing cleaned up."""
        if self.alive:
            assert self.popen is not None
            self.popen.kill()
            self.popen.wait()

    def stop(self) -> None:
        if self.alive:
            assert self.popen is not None
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def port_free(port: int) -> bool:
    """Nothing listens on it (connections of an earlier run waiting to close do not count,
    as for the servers themselves, which bind with SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def postgres_params() -> dict[str, str]:
    params = conninfo_to_dict(POSTGRES_ADMIN)
    return {key: str(value) for key, value in params.items() if value is not None}


def sqlalchemy_url(database: str) -> str:
    params = postgres_params()
    return URL.create("postgresql+psycopg", username=params.get("user"),
                      password=params.get("password"), host=params.get("host"),
                      port=int(params.get("port", 5432)),
                      database=database).render_as_string(hide_password=False)


def postgres_shown() -> str:
    """Where PostgreSQL is, without its password."""
    params = postgres_params()
    return f"{params.get('user')}@{params.get('host')}:{params.get('port', 5432)}"


def prepare_databases(layout: Layout) -> None:
    """Create the service's and the tracker store's databases (dropped first if `fresh`)."""
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        for database in (layout.service_database, layout.tracker_database):
            if layout.fresh:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                   (database,)).fetchone()
            if not exists:
                admin.execute(f'CREATE DATABASE "{database}"')


def drop_databases(layout: Layout) -> None:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        for database in (layout.service_database, layout.tracker_database):
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def haproxy_config(layout: Layout, service_ports: list[int]) -> str:
    """Round robin over the service processes, each checked on /live every second (not
    /health, which also asks the database and Rasa: one slow Rasa server must not take every
    service process out of the front).
    Only a connection that failed is sent again to another process: a request that reached
    one is never repeated by the front (the clients repeat theirs with the same
    client_message_id, which the service stores once)."""
    servers = "\n".join(f"  server api-{index} 127.0.0.1:{port} check"
                        for index, port in enumerate(service_ports))
    return f"""global
  maxconn 8000

defaults
  mode http
  timeout connect 2s
  timeout client 65s
  timeout server 65s
  timeout tunnel 1h
  option redispatch
  retries 2
  retry-on conn-failure

frontend nordhem
  bind {layout.interface}:{layout.front_port}
  # the client's address for the service's per-IP rate limits (FORWARDED_ALLOW_IPS)
  option forwardfor
  default_backend services

backend services
  balance roundrobin
  option httpchk GET /live
  http-check expect status 200
  timeout check 3s
  default-server inter 1s fall 2 rise 1
{servers}
"""


class ScaledStack:
    """Everything of the scaled mode, started in order and stopped together."""

    def __init__(self, layout: Layout, workdir: Path) -> None:
        self.layout, self.workdir = layout, workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.rasa_ports = [layout.first_rasa_port + n for n in range(layout.rasa)]
        self.actions_ports = [layout.first_actions_port + n for n in range(layout.rasa)]
        self.api_ports = [layout.first_api_port + n for n in range(layout.api)]
        self.front_url = f"http://127.0.0.1:{layout.front_port}"
        self.rasa_urls = [f"http://127.0.0.1:{port}" for port in self.rasa_ports]
        self.api_urls = [f"http://127.0.0.1:{port}" for port in self.api_ports]
        self.database_url = sqlalchemy_url(layout.service_database)
        self.processes: dict[str, Process] = {}
        self._define()

    # ---------- what runs ----------

    def _base_env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
                "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}

    def service_env(self) -> dict[str, str]:
        layout, redis = self.layout, REDIS_URL.rstrip("/")
        return {**self._base_env(),
                "NORDHEM_DATABASE_URL": self.database_url,
                "NORDHEM_RASA_URLS": ",".join(self.rasa_urls),
                "NORDHEM_ACTIONS_URL": f"http://127.0.0.1:{self.actions_ports[0]}",
                "NORDHEM_RASA_JWT_SECRET": layout.jwt_secret,
                "NORDHEM_HOOK_SECRET": layout.hook_secret,
                "NORDHEM_TRACKER_STORE_URL": sqlalchemy_url(layout.tracker_database),
                "NORDHEM_BUS_URL": f"{redis}/{layout.bus_db}",
                "NORDHEM_BUS_CHANNEL": f"{layout.name}:live",
                "NORDHEM_RATE_LIMIT_STORAGE": f"{redis}/{layout.rate_limit_db}",
                "NORDHEM_RATE_LIMIT_PREFIX": f"{layout.name}-rate-limits",
                "NORDHEM_CORS_ORIGINS": self.front_url,
                "NORDHEM_RASA_TIMEOUT_SECONDS": str(RASA_TIMEOUT_SECONDS),
                **layout.service_env}

    def _define(self) -> None:
        layout = self.layout
        params = postgres_params()
        redis_url = parse_url(REDIS_URL)
        redis_host, redis_port = str(redis_url.get("host", "127.0.0.1")), str(redis_url.get("port", 6379))
        for index, (rasa_port, actions_port) in enumerate(
                zip(self.rasa_ports, self.actions_ports, strict=True)):
            self._add(f"actions-{index}",
                      [str(BOT_BIN / "rasa"), "run", "actions", "--actions", "actions",
                       "--port", str(actions_port)],
                      {**self._base_env(), "SANIC_HOST": "127.0.0.1",
                       "ESCALATION_URL": self.front_url,
                       "ESCALATION_HOOK_SECRET": layout.hook_secret, **layout.actions_env},
                      f"http://127.0.0.1:{actions_port}/health")
            self._add(f"rasa-{index}",
                      [str(BOT_BIN / "rasa"), "run", "--enable-api", "--interface", "127.0.0.1",
                       "--port", str(rasa_port), f"--jwt-secret={layout.jwt_secret}",
                       "--jwt-method", "HS256", "--model", str(MODEL),
                       "--credentials", str(ROOT / "bot" / "credentials.yml"),
                       "--endpoints", str(ROOT / "bot" / "endpoints-scaled.yml")],
                      {**self._base_env(),
                       "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{actions_port}/webhook",
                       "ESCALATION_URL": self.front_url,
                       "TRACKER_DB_HOST": params["host"], "TRACKER_DB_PORT": params["port"],
                       "TRACKER_DB_NAME": layout.tracker_database,
                       "TRACKER_DB_USER": params["user"],
                       "TRACKER_DB_PASSWORD": params.get("password", ""),
                       "LOCK_STORE_HOST": redis_host, "LOCK_STORE_PORT": redis_port,
                       "LOCK_STORE_DB": str(layout.lock_db),
                       "TICKET_LOCK_LIFETIME": str(TICKET_LOCK_SECONDS)},
                      f"http://127.0.0.1:{rasa_port}/")
        for index, port in enumerate(self.api_ports):
            self._add(f"api-{index}",
                      [str(API_PYTHON), "-m", "api", "serve", "--host", "127.0.0.1",
                       "--port", str(port)],
                      self.service_env(), f"http://127.0.0.1:{port}/health")
        config = self.workdir / "haproxy.cfg"
        config.write_text(haproxy_config(layout, self.api_ports))
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self._add("front", [haproxy, "-W", "-db", "-f", str(config)], dict(os.environ),
                  f"{self.front_url}/health")

    def _add(self, name: str, command: list[str], env: dict[str, str], ready_url: str) -> None:
        self.processes[name] = Process(name, command, env, self.workdir / f"{name}.log",
                                       ready_url)

    def named(self, prefix: str) -> list[Process]:
        return [p for name, p in self.processes.items() if name.startswith(f"{prefix}-")]

    # ---------- starting and stopping ----------

    def start(self) -> None:
        """Databases, migrations, the bots, the service processes, then the front; returns
        when each answers."""
        taken = [port for port in self.ports if not port_free(port)]
        if taken:  # a server left from another run would answer for ours
            raise RuntimeError(f"ports already in use: {taken}")
        prepare_databases(self.layout)
        subprocess.run([str(API_PYTHON), "-m", "api", "migrate"], cwd=ROOT,
                       env=self.service_env(), check=True, capture_output=True)
        actions_env = self.named("actions")[0].env
        if not actions_env.get("NORDHEM_ORDERS_URL"):
            # the embedded demo order store (NORDHEM_ORDERS_DB, else var/orders.db), as make run
            subprocess.run([str(BOT_BIN / "python"), "-m", "actions.orders", "seed"], cwd=ROOT,
                           env=actions_env, check=True, capture_output=True)
        try:
            self._start_all([*self.named("actions"), *self.named("rasa")])
            self._start_all(self.named("api"))
            self._start_all([self.processes["front"]])
        except BaseException:
            self.stop()
            raise

    @property
    def ports(self) -> list[int]:
        return [*self.rasa_ports, *self.actions_ports, *self.api_ports, self.layout.front_port]

    def _start_all(self, processes: list[Process]) -> None:
        for process in processes:
            process.start()
        with ThreadPoolExecutor(max_workers=len(processes)) as pool:
            for future in [pool.submit(process.wait_ready) for process in processes]:
                future.result()

    def restart(self, name: str) -> None:
        process = self.processes[name]
        process.stop()
        process.start()
        process.wait_ready()

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()


def redis_shown() -> str:
    url = parse_url(REDIS_URL)
    return f"{url.get('host', '127.0.0.1')}:{url.get('port', 6379)}"


def unreachable() -> str:
    """What the scaled mode needs and cannot reach, in words; empty when all answer."""
    try:
        psycopg.connect(POSTGRES_ADMIN, connect_timeout=3).close()
    except psycopg.Error:
        return f"PostgreSQL at {postgres_shown()} (set NORDHEM_SCALED_POSTGRES)"
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError:
        return f"Redis at {redis_shown()} (set NORDHEM_SCALED_REDIS)"
    if not (shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists()):
        return "HAProxy (Debian's haproxy package; make installs it)"
    return ""


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rasa", type=int, default=2, help="Rasa servers (each with its "
                        "action server)")
    parser.add_argument("--api", type=int, default=2, help="service processes")
    parser.add_argument("--port", type=int, default=8000, help="the front's port")
    parser.add_argument("--interface", default="0.0.0.0", help="the front's interface")
    args = parser.parse_args(argv)
    layout = Layout(rasa=args.rasa, api=args.api, front_port=args.port,
                    interface=args.interface,
                    jwt_secret=os.environ.get("NORDHEM_RASA_JWT_SECRET") or secrets.token_urlsafe(32),
                    hook_secret=os.environ.get("NORDHEM_HOOK_SECRET") or secrets.token_urlsafe(32))
    stack = ScaledStack(layout, ROOT / ".rasa" / "logs" / "scaled")
    missing = unreachable()
    if missing:
        print(f"make run-scaled needs {missing}", file=sys.stderr)
        return 2
    print(f"==> starting {args.rasa} Rasa servers and action servers, {args.api} service "
          f"processes and HAProxy on :{args.port}; logs in {stack.workdir}", flush=True)
    started = time.monotonic()
    stack.start()
    if os.environ.get("NORDHEM_DEMO_AGENT_TOKEN"):
        ensure_demo_agent(stack.database_url, os.environ["NORDHEM_DEMO_AGENT_TOKEN"])
    print(f"==> ready after {time.monotonic() - started:.0f} s\n"
          f"Shop with the widget: {stack.front_url}/\n"
          f"Agent console:        {stack.front_url}/agent    (NORDHEM_DEMO_AGENT_TOKEN in .env)\n"
          f"Rasa servers:         {', '.join(stack.rasa_urls)}\n"
          f"Service processes:    {', '.join(stack.api_urls)}\n"
          "PostgreSQL databases: "
          f"{layout.service_database} (service), {layout.tracker_database} (trackers) at "
          f"{postgres_shown()}; Redis {redis_shown()}\nPress Ctrl-C to stop.", flush=True)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            for process in stack.processes.values():
                if not process.alive and not stopping:
                    print(f"==> {process.name} stopped; starting it again "
                          f"(log: {process.log})", flush=True)
                    process.start()
            time.sleep(1)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
