"""Rasa's REST channel refuses what the service would refuse (bot/channels.py), against the
real Rasa server started with bot/credentials.yml."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Iterator, Tuple

import pytest

from core.limits import MAX_MESSAGE_LENGTH
from tests.support.servers import Bot, http_json, running_bot

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    with running_bot(Path(tmp_path_factory.mktemp("channel"))) as running:
        yield running


def post(bot: Bot, raw: bytes) -> Tuple[int, Any]:
    """Status and JSON answer of the REST webhook to this body, errors included."""
    request = urllib.request.Request(f"{bot.rasa_url}/webhooks/rest/webhook", data=raw,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def said(bot: Bot, sender: str) -> list:
    """What the tracker store holds of this sender's messages."""
    tracker = http_json(f"{bot.rasa_url}/conversations/{sender}/tracker",
                        headers=bot.api_headers())
    return [event.get("text") for event in tracker["events"] if event["event"] == "user"]


def message(sender: str, text: Any) -> bytes:
    return json.dumps({"sender": sender, "message": text, "metadata": {"language": "nb"}}).encode()


def test_a_message_of_the_longest_length_is_answered(bot: Bot) -> None:
    sender = f"cap-{uuid.uuid4().hex[:12]}"
    text = ("hvor er pakken min " * 200)[:MAX_MESSAGE_LENGTH - 1] + "?"  # Rasa strips spaces
    assert len(text) == MAX_MESSAGE_LENGTH
    status, replies = post(bot, message(sender, text))
    assert status == 200 and replies, replies
    assert said(bot, sender) == [text]


def test_a_longer_message_is_refused_before_it_reaches_the_tracker(bot: Bot) -> None:
    sender = f"cap-{uuid.uuid4().hex[:12]}"
    status, error = post(bot, message(sender, "x" * (MAX_MESSAGE_LENGTH + 1)))
    assert status == 413
    assert error["reason"] == "MessageTooLong"
    assert str(MAX_MESSAGE_LENGTH) in error["message"]
    assert said(bot, sender) == []


@pytest.mark.parametrize("raw", [
    message("cap-number", 12345),
    message("cap-null", None),
    json.dumps(["not", "an", "object"]).encode(),
])
def test_a_body_without_a_text_message_is_a_bad_request(bot: Bot, raw: bytes) -> None:
    status, error = post(bot, raw)
    assert status == 400
    assert error["reason"] == "BadRequest"
