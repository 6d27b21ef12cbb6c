"""The product's parts as processes a test can kill and start again on the same port and data
(the action server, Rasa, the escalation service), and a helpdesk that can stop listening."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

from api.security import sign
from tests.support.servers import (
    MODEL,
    ROOT,
    actions_command,
    bot_env,
    free_port,
    rasa_command,
    write_endpoints,
)
from tests.support.stack import HOOK_SECRET, RATE_LIMITS_OUT_OF_THE_WAY
from tests.support.waiting import wait_for

WEBHOOK_SECRET = "faults-webhook-secret"


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).read()
        return True
    except OSError:
        return False


@dataclass
class Part:
    """One server: started, killed and started again with the same command, environment and
    port; its output appended to `log`."""

    name: str
    command: list[str]
    env: dict[str, str]
    ready_url: str
    log: Path
    process: Optional[subprocess.Popen] = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)

    def wait_until_up(self, seconds: float = 240) -> None:
        def up() -> bool:
            if not self.running():
                raise RuntimeError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
            return answers(self.ready_url)
        wait_for(up, seconds, f"{self.name} answers {self.ready_url}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.running():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.running():
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Helpdesk:
    """A real helpdesk endpoint on a fixed port that can stop listening and come back; it
    checks each webhook's signature and keeps what it received, in order."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/events"
        self.received: list[dict[str, Any]] = []
        self.server: Optional[ThreadingHTTPServer] = None

    def start(self) -> None:
        helpdesk = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers["X-Signature"] != sign(body, WEBHOOK_SECRET):
                    self.send_response(401)
                else:
                    helpdesk.received.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Not listening any more: a webhook gets "connection refused"."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@dataclass
class Breakable:
    """Rasa, the action server and the service, each on its own port, its data in `workdir`."""

    workdir: Path
    actions: Part
    rasa: Part
    api: Part
    api_url: str
    database_url: str
    helpdesk: Helpdesk
    parts: list[Part] = field(default_factory=list)

    def ensure_all_up(self) -> None:
        """Start whatever a test left down, and wait until every part answers."""
        for part in self.parts:
            if not part.running():
                part.start()
        for part in self.parts:
            part.wait_until_up()

    def health(self) -> Optional[dict[str, Any]]:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            return json.loads(error.read())
        except OSError:
            return None


def service_part(workdir: Path, port: int, env: dict[str, str]) -> Part:
    """The escalation service (`python -m api serve`) with `env` added to its environment."""
    return Part("service", [sys.executable, "-m", "api", "serve", "--port", str(port)],
                {**os.environ, "PYTHONPATH": str(ROOT), **RATE_LIMITS_OUT_OF_THE_WAY, **env},
                f"http://127.0.0.1:{port}/health", workdir / "api.log")


@contextmanager
def breakable_stack(workdir: Path) -> Iterator[Breakable]:
    """The whole product, each part a process of its own, with webhooks to a helpdesk that
    is up; everything is stopped when the block ends."""
    if not MODEL.exists():
        raise RuntimeError("no trained model: run `make train` first")
    rasa_port, actions_port, api_port = free_port(), free_port(), free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    database_url = f"sqlite:///{workdir / 'escalations.db'}"
    jwt_secret = secrets.token_urlsafe(32)
    endpoints = write_endpoints(workdir, actions_port)
    env = bot_env()
    helpdesk = Helpdesk()
    helpdesk.start()
    actions = Part("actions", actions_command(actions_port),
                   {**env, "ESCALATION_URL": api_url, "ESCALATION_HOOK_SECRET": HOOK_SECRET},
                   f"http://127.0.0.1:{actions_port}/health", workdir / "actions.log")
    rasa = Part("rasa", rasa_command(rasa_port, jwt_secret, endpoints), env,
                f"http://127.0.0.1:{rasa_port}/", workdir / "rasa.log")
    api = service_part(workdir, api_port, {
        "NORDHEM_DATABASE_URL": database_url, "NORDHEM_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "NORDHEM_ACTIONS_URL": f"http://127.0.0.1:{actions_port}",
        "NORDHEM_RASA_JWT_SECRET": jwt_secret, "NORDHEM_HOOK_SECRET": HOOK_SECRET,
        "NORDHEM_TRACKER_STORE_URL": f"sqlite:///{workdir / 'trackers.db'}",
        "NORDHEM_WEBHOOK_URLS": helpdesk.url, "NORDHEM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "NORDHEM_CORS_ORIGINS": api_url})
    stack = Breakable(workdir, actions, rasa, api, api_url, database_url, helpdesk,
                      [actions, rasa, api])
    try:
        stack.ensure_all_up()
        yield stack
    finally:
        for part in stack.parts:
            part.stop()
        helpdesk.stop()
