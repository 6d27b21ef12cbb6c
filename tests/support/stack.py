"""The whole product running for tests: Rasa, the action server and the escalation service."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import ROOT, Bot, free_port, running_bot

HOOK_SECRET = "stack-hook-secret"


@dataclass
class Stack:
    api: str
    bot: Bot
    database_url: str
    api_pid: int = 0


@contextmanager
def running_stack(workdir: Path) -> Iterator[Stack]:
    """Start the bot and the service (SQLite in `workdir`); stop all when the block ends."""
    api_port = free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    database_url = f"sqlite:///{workdir / 'escalations.db'}"
    with running_bot(workdir, {"ESCALATION_URL": api_url,
                               "ESCALATION_HOOK_SECRET": HOOK_SECRET}) as bot:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NORDHEM_DATABASE_URL": database_url,
               "NORDHEM_RASA_URL": bot.rasa_url, "NORDHEM_ACTIONS_URL": bot.actions_url,
               "NORDHEM_RASA_JWT_SECRET": bot.jwt_secret,
               "NORDHEM_HOOK_SECRET": HOOK_SECRET, "NORDHEM_CORS_ORIGINS": api_url}
        log_path = workdir / "api.log"
        api = subprocess.Popen(
            [sys.executable, "-m", "api", "serve", "--port", str(api_port)],
            cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{api_url}/health", timeout=2)
                    break
                except OSError as error:
                    if time.monotonic() > deadline or api.poll() is not None:
                        raise RuntimeError(log_path.read_text()) from error
                    time.sleep(0.3)
            yield Stack(api_url, bot, database_url, api.pid)
        finally:
            api.terminate()
            try:
                api.wait(timeout=20)
            except subprocess.TimeoutExpired:
                api.kill()
