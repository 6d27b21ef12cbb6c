"""Schemathesis over the service's OpenAPI schema, against the whole running product (the
service as a uvicorn process, Rasa and the action server): no input may cause a 5xx.

Requests carry real credentials so that the fuzzing gets past authentication: the customer
token of a real conversation, an agent token, and a correct signature over each hook body.
The run is bounded by examples per operation: NORDHEM_FUZZ_EXAMPLES (default 25; `make fuzz`
runs a longer one)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet

from api.security import sign
from tests.support.api import add_agent, auth, make_settings
from tests.support.stack import HELPDESK_SECRET, HOOK_SECRET, Stack, running_stack

pytestmark = pytest.mark.server
EXAMPLES = int(os.environ.get("NORDHEM_FUZZ_EXAMPLES", "25"))


class Credentials:
    """A real conversation with its customer token, and an agent's token."""

    def __init__(self, api: str, agent_token: str) -> None:
        started = httpx.post(f"{api}/api/conversations", json={"language": "nb"}).json()
        self.conversation_id: str = started["conversation_id"]
        self.customer_token: str = started["customer_token"]
        self.agent_token = agent_token


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(Path(tmp_path_factory.mktemp("fuzz"))) as running:
        yield running


@pytest.fixture(scope="module")
def credentials(stack: Stack) -> Credentials:
    return Credentials(stack.api, add_agent(make_settings(stack.database_url), "Fuzz"))


@pytest.fixture(scope="module")
def api_schema(stack: Stack) -> Any:
    return schemathesis.openapi.from_url(f"{stack.api}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


def _with_credentials(case: Any, credentials: Credentials) -> None:
    """Customer paths get the real conversation and its token; agent paths the agent token."""
    path = case.operation.path
    if "{conversation_id}" in path:
        case.path_parameters = {**(case.path_parameters or {}),
                                "conversation_id": credentials.conversation_id}
        case.headers = {**(case.headers or {}), **auth(credentials.customer_token)}
    elif path.startswith("/api/") or path == "/metrics":
        case.headers = {**(case.headers or {}), **auth(credentials.agent_token)}


def _signed_hook(case: Any, api: str, credentials: Credentials) -> httpx.Response:
    """Hooks are signed over the exact bytes sent; a fresh sent_at and the real conversation
    let part of the generated bodies through the replay window to the escalation code."""
    body = case.body
    if isinstance(body, dict) and "sent_at" in body:
        body = {**body, "sent_at": time.time(), "conversation_id": credentials.conversation_id}
    if isinstance(body, (NotSet, bytes)):  # no body, or raw bytes: sent as they are
        raw = b"" if isinstance(body, NotSet) else body
    else:
        raw = json.dumps(body).encode()
    secret = HELPDESK_SECRET if "helpdesk" in case.operation.path else HOOK_SECRET
    return httpx.post(f"{api}{case.formatted_path}", content=raw, timeout=30,
                      headers={"Content-Type": "application/json",
                               "X-Signature": sign(raw, secret)})


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_input_causes_a_server_error(case: Any, stack: Stack, credentials: Credentials) -> None:
    if case.operation.path.startswith("/hooks/"):
        response = _signed_hook(case, stack.api, credentials)
    else:
        _with_credentials(case, credentials)
        response = case.call(base_url=stack.api, timeout=30)
    case.validate_response(response, checks=[not_a_server_error])
