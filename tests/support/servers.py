"""Starts the real action server and Rasa server with the trained model, for tests."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List

from core.signing import rasa_admin_token

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "current.tar.gz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_json(url: str, body: Dict[str, Any] | None = None, timeout: float = 10,
              headers: Dict[str, str] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json",
                                                              **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def texts(replies: List[Dict[str, Any]]) -> List[str]:
    """The text of each bot reply."""
    return [reply.get("text", "") for reply in replies]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited while starting:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not start in {seconds} s:\n{log.read_text()[-3000:]}")


@dataclass
class Bot:
    """A running Rasa server (REST channel + HTTP API) with its action server."""

    rasa_url: str
    actions_url: str
    tracker_db: Path
    pids: Dict[str, int] = field(default_factory=dict)
    # Rasa's --jwt-secret: its HTTP API (parse, trackers) answers only with a token
    jwt_secret: str = ""

    def api_headers(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {rasa_admin_token(self.jwt_secret, time.time())}"}

    def say(self, sender: str, text: str, **metadata: Any) -> List[Dict[str, Any]]:
        body: Dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        return http_json(f"{self.rasa_url}/webhooks/rest/webhook", body)

    def parse(self, text: str) -> Dict[str, Any]:
        return http_json(f"{self.rasa_url}/model/parse", {"text": text},
                         headers=self.api_headers())

    def slot(self, sender: str, name: str) -> Any:
        tracker = http_json(f"{self.rasa_url}/conversations/{sender}/tracker",
                            headers=self.api_headers())
        return tracker["slots"].get(name)


def write_endpoints(workdir: Path, actions_port: int) -> Path:
    """Rasa's endpoints for a test: this action server, a SQLite tracker store in `workdir`."""
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        f'tracker_store:\n  type: bot.tracker_store.TunedSQLTrackerStore\n'
        f'  dialect: sqlite\n  db: "{workdir / "trackers.db"}"\n'
    )
    return endpoints


def bot_env() -> Dict[str, str]:
    """Both listen on loopback only, as under `make run`."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false", "SANIC_HOST": "127.0.0.1"}


def actions_command(port: int) -> List[str]:
    return [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(port)]


def rasa_command(port: int, jwt_secret: str, endpoints: Path) -> List[str]:
    """Rasa's HTTP API needs a token signed with `jwt_secret`; its REST channel does not."""
    return [str(VENV_BIN / "rasa"), "run", "--enable-api", "--interface", "127.0.0.1",
            "--port", str(port), f"--jwt-secret={jwt_secret}", "--jwt-method", "HS256",
            "--model", str(MODEL), "--credentials", str(ROOT / "bot" / "credentials.yml"),
            "--endpoints", str(endpoints)]


@contextmanager
def running_bot(workdir: Path, actions_env: Dict[str, str] | None = None) -> Iterator[Bot]:
    """Start both servers on free ports; stop them when the block ends.

    Conversations go to a SQLite tracker store in `workdir`; `actions_env` adds
    environment variables for the action server (e.g. ESCALATION_URL, or NORDHEM_ORDERS_DB
    for a demo order store the test seeded; by default the action server seeds its own in
    `workdir`, never the repository's var/orders.db).
    """
    if not MODEL.exists():
        raise RuntimeError("no trained model: run `make train` first")
    rasa_port, actions_port = free_port(), free_port()
    endpoints = write_endpoints(workdir, actions_port)
    tracker_db = workdir / "trackers.db"
    env = bot_env()
    jwt_secret = secrets.token_urlsafe(32)
    actions_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
    actions = subprocess.Popen(
        actions_command(actions_port),
        cwd=ROOT, env={**env, "ESCALATION_URL": "http://127.0.0.1:9",
                       "NORDHEM_ORDERS_DB": str(workdir / "orders.db"), **(actions_env or {})},
        stdout=actions_log.open("w"), stderr=subprocess.STDOUT,
    )
    rasa = subprocess.Popen(
        rasa_command(rasa_port, jwt_secret, endpoints),
        cwd=ROOT, env=env, stdout=rasa_log.open("w"), stderr=subprocess.STDOUT,
    )
    try:
        bot = Bot(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{actions_port}", tracker_db,
                  {"rasa": rasa.pid, "actions": actions.pid}, jwt_secret)
        _wait_until_up(f"{bot.actions_url}/health", actions, actions_log)
        _wait_until_up(f"{bot.rasa_url}/", rasa, rasa_log)  # "/" needs no token
        yield bot
    finally:
        for process in (rasa, actions):
            process.terminate()
        for process in (rasa, actions):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
