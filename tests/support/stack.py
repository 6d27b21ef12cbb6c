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
HELPDESK_SECRET = "stack-helpdesk-secret"


@dataclass
class Stack:
    api: str
    bot: Bot
    database_url: str
    api_pid: int
    workdir: Path  # its databases and logs; the action server's demo order store (orders.db)


# The load generator, the browser and a test client are each one IP creating many
# conversations: explicit rate limits that the tests and benchmarks do not reach (a moving
# window keeps an entry per request for its length: a minute's worth, not an hour's).
RATE_LIMITS_OUT_OF_THE_WAY = {"NORDHEM_RATE_LIMIT_REQUESTS": "1000000/minute",
                              "NORDHEM_RATE_LIMIT_NEW_CONVERSATIONS": "1000000/minute",
                              "NORDHEM_RATE_LIMIT_MESSAGES": "1000000/minute"}


@contextmanager
def running_stack(workdir: Path, actions_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """Start the bot and the service (SQLite in `workdir`); stop all when the block ends.

    `actions_env` adds environment variables for the action server (e.g. NORDHEM_ORDERS_DB).
    """
    api_port = free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    database_url = f"sqlite:///{workdir / 'escalations.db'}"
    with running_bot(workdir, {**(actions_env or {}), "ESCALATION_URL": api_url,
                               "ESCALATION_HOOK_SECRET": HOOK_SECRET}) as bot:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NORDHEM_DATABASE_URL": database_url,
               "NORDHEM_RASA_URL": bot.rasa_url, "NORDHEM_ACTIONS_URL": bot.actions_url,
               "NORDHEM_RASA_JWT_SECRET": bot.jwt_secret,
               # this bot's tracker store: erasures and the purge reach it, not .rasa's
               "NORDHEM_TRACKER_STORE_URL": f"sqlite:///{bot.tracker_db}",
               "NORDHEM_HOOK_SECRET": HOOK_SECRET, "NORDHEM_HELPDESK_SECRET": HELPDESK_SECRET,
               "NORDHEM_CORS_ORIGINS": api_url, **RATE_LIMITS_OUT_OF_THE_WAY}
        with running_service(workdir, api_port, env) as api_pid:
            yield Stack(api_url, bot, database_url, api_pid, workdir)


@contextmanager
def running_service(workdir: Path, port: int, env: dict[str, str]) -> Iterator[int]:
    """The service alone (`python -m api serve` on `port`, with `env` as its whole
    environment, its log in workdir/api.log), once /health answers 200; its pid."""
    log_path = workdir / "api.log"
    api = subprocess.Popen([sys.executable, "-m", "api", "serve", "--port", str(port)],
                           cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError as error:
                if time.monotonic() > deadline or api.poll() is not None:
                    raise RuntimeError(log_path.read_text()) from error
                time.sleep(0.3)
        yield api.pid
    finally:
        api.terminate()
        try:
            api.wait(timeout=20)
        except subprocess.TimeoutExpired:
            api.kill()
