"""The scaled mode (tools/scaled.py): two Rasa servers sharing PostgreSQL and Redis, two
service processes behind HAProxy. A customer's socket and the agent who answers sit on
different processes; killing a Rasa server or a service process under load loses and
duplicates no message."""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import add_agent, auth, make_settings
from tests.support.live import live_server_socket, receive_until
from tests.support.stack import RATE_LIMITS_OUT_OF_THE_WAY
from tools.scale_load import audit, run_customers
from tools.scaled import Layout, ScaledStack, drop_databases, sqlalchemy_url

pytestmark = pytest.mark.server


def free_block(size: int) -> int:
    """The first of `size` consecutive free ports."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size > 65000:
            continue
        try:
            for port in range(base, base + size):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free block of ports")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaledStack]:
    base, name = free_block(7), f"nordhem_scaled_{secrets.token_hex(4)}"
    workdir = Path(tmp_path_factory.mktemp("scaled"))
    layout = Layout(rasa=2, api=2, first_rasa_port=base, first_actions_port=base + 2,
                    first_api_port=base + 4, front_port=base + 6, service_database=name,
                    tracker_database=f"{name}_trackers", fresh=True, name=name,
                    service_env=RATE_LIMITS_OUT_OF_THE_WAY,
                    actions_env={"NORDHEM_ORDERS_DB": str(workdir / "orders.db")})
    running = ScaledStack(layout, workdir)
    running.start()
    try:
        yield running
    finally:
        running.stop()
        drop_databases(layout)


def test_the_customer_and_the_agent_on_different_processes_hear_each_other(
        stack: ScaledStack) -> None:
    customers_process, agents_process = stack.api_urls
    token = add_agent(make_settings(stack.database_url), "Kari")
    started = httpx.post(f"{customers_process}/api/conversations", json={"language": "nb"}).json()
    conversation = started["conversation_id"]
    with live_server_socket(f"{agents_process.replace('http', 'ws')}/ws/agents", token) as console, \
            live_server_socket(f"{customers_process.replace('http', 'ws')}/ws/conversations/{conversation}",
                 started["customer_token"]) as widget:
        # the hand-off arrives at the front from the action server, on either process
        reply = httpx.post(f"{customers_process}/api/conversations/{conversation}/messages",
                           json={"text": "jeg vil snakke med et menneske"},
                           headers=auth(started["customer_token"]), timeout=30).json()
        assert reply["status"] == "queued"
        created = receive_until(console, lambda e: e["type"] == "escalation.created"
                                and e["escalation"]["conversation_id"] == conversation)
        escalation = created["escalation"]["id"]
        assert httpx.post(f"{agents_process}/api/escalations/{escalation}/claim",
                          headers=auth(token)).status_code == 200
        httpx.post(f"{agents_process}/api/escalations/{escalation}/messages",
                   json={"text": "Hei, Kari her."}, headers=auth(token))
        pushed = receive_until(widget, lambda e: e["type"] == "message"
                               and e["message"]["sender"] == "agent")
        assert pushed["message"]["text"] == "Hei, Kari her."
        # and the customer's words reach the console on the other process
        httpx.post(f"{customers_process}/api/conversations/{conversation}/messages",
                   json={"text": "Takk! Ordren min er 10023"},
                   headers=auth(started["customer_token"]), timeout=30)
        heard = receive_until(console, lambda e: e["type"] == "message.created"
                              and e["message"]["sender"] == "customer")
        assert heard["escalation_id"] == escalation
        httpx.post(f"{agents_process}/api/escalations/{escalation}/resolve",
                   json={"return_to_bot": True}, headers=auth(token), timeout=30)
        receive_until(widget, lambda e: e["type"] == "status" and e["status"] == "bot")
    # back with the bot, through the front, on whichever Rasa server
    answer = httpx.post(f"{stack.front_url}/api/conversations/{conversation}/messages",
                        json={"text": "hva koster frakten?"},
                        headers=auth(started["customer_token"]), timeout=30).json()
    assert answer["status"] == "bot" and answer["messages"][-1]["sender"] == "bot"


def kill_under_load(stack: ScaledStack, victim: str, after_seconds: float) -> Any:
    async def scenario() -> Any:
        load = asyncio.create_task(run_customers(stack.front_url, conversations=16, messages=6,
                                                 think_seconds=0.5, give_up_seconds=60))
        await asyncio.sleep(after_seconds)
        stack.processes[victim].kill()
        return await load
    load = asyncio.run(scenario())
    return load, audit(stack.database_url, load, sqlalchemy_url(stack.layout.tracker_database))


def test_killing_a_rasa_server_under_load_loses_and_duplicates_nothing(
        stack: ScaledStack) -> None:
    load, result = kill_under_load(stack, "rasa-0", after_seconds=2)
    assert load.failed_starts == 0 and result.sent == 16 * 6
    # every message stored once and answered once, Rasa's records included; a message that
    # was at the dead server is now and then (1 of 96 in one of four runs) answered by the
    # bot-unavailable notice, which keeps it and offers a person: counted in result.bot_silent,
    # not lost (docs/benchmarks.md)
    assert (result.lost, result.duplicated, result.tracker_duplicates) == (0, 0, 0), result
    assert result.bot_silent <= 3, result
    stack.restart("rasa-0")


def test_killing_a_service_process_under_load_loses_and_duplicates_nothing(
        stack: ScaledStack) -> None:
    load, result = kill_under_load(stack, "api-0", after_seconds=2)
    assert load.failed_starts == 0 and result.sent == 16 * 6
    assert (result.lost, result.duplicated) == (0, 0), result
    stack.restart("api-0")
