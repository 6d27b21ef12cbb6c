"""The running service logs no query strings: a token put in a URL never reaches its log.
A real `python -m api serve` (uvicorn writes the access log, the TestClient bypasses it)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from api.access_log import WithoutQueryString
from tests.support.servers import ROOT, free_port

SECRET = "secret-value"


def log_lines(log: Path, wanted: list[str], seconds: float = 30) -> str:
    """The log once it has a line with each of `wanted`."""
    deadline = time.monotonic() + seconds
    while True:
        text = log.read_text()
        if all(part in text for part in wanted) or time.monotonic() > deadline:
            return text
        time.sleep(0.1)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, log file) of the service run as in production, on SQLite in `tmp_path`."""
    port, log = free_port(), tmp_path / "api.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
           "NORDHEM_DATABASE_URL": f"sqlite:///{tmp_path / 'escalations.db'}",
           "NORDHEM_OUTBOX_WORKER": "false", "NORDHEM_RASA_URL": "http://127.0.0.1:9",
           "NORDHEM_ACTIONS_URL": "http://127.0.0.1:9"}
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "api", "serve", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/widget.css", timeout=2).read()
                break
            except OSError as error:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text()) from error
                time.sleep(0.2)
        yield base, log
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_requests_and_sockets_are_logged_without_their_query_string(
        service: tuple[str, Path]) -> None:
    base, log = service
    assert httpx.get(f"{base}/widget.css?token={SECRET}").status_code == 200
    with connect(f"{base.replace('http', 'ws')}/ws/agents?token={SECRET}") as socket, \
            pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    text = log_lines(log, ['"GET /widget.css HTTP/1.1" 200', '"WebSocket /ws/agents" [accepted]'])
    assert '"GET /widget.css HTTP/1.1" 200' in text, text  # the requests are logged at all
    assert '"WebSocket /ws/agents" [accepted]' in text, text
    assert SECRET not in text and "?token" not in text, text


def test_the_running_service_refuses_a_frame_larger_than_any_client_sends(
        service: tuple[str, Path]) -> None:
    """uvicorn's own default (16 MiB) would parse a huge frame before anyone is known."""
    base, _ = service
    with connect(f"{base.replace('http', 'ws')}/ws/agents", max_size=None) as socket, \
            pytest.raises(ConnectionClosed) as closed:
        socket.send("[" * 3000 + "]" * 3000)
        socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big


def test_the_filter_cuts_only_the_query_string() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/api/x?after=3&token=t", "1.1", 200), None)
    assert WithoutQueryString().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /api/x HTTP/1.1" 200'
