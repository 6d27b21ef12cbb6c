"""Rasa's REST channel with the service's limits: Rasa's own accepts a message of any length.

Registered in bot/credentials.yml as `bot.channels.CappedRestInput`. Its name stays "rest",
so the webhook stays POST /webhooks/rest/webhook for the service and the tests.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Optional, Text, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.limits import MAX_MESSAGE_LENGTH


def refusal(body: Any, max_length: int = MAX_MESSAGE_LENGTH) -> Optional[Tuple[int, Text, Text]]:
    """(status, reason, message) when the webhook must refuse this JSON body, else None."""
    if not isinstance(body, dict):
        return 400, "BadRequest", "the body must be a JSON object with sender and message"
    message = body.get("message")
    if not isinstance(message, str):
        return 400, "BadRequest", "message must be a string"
    if len(message) > max_length:
        return 413, "MessageTooLong", f"message is longer than {max_length} characters"
    return None


class CappedRestInput(RestInput):
    """The REST channel, refusing a message longer than core.limits.MAX_MESSAGE_LENGTH
    (413) or a body that is not a JSON object with a string message (400), before the
    message reaches the NLU pipeline or the tracker store."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def refuse_unfit(request: Request) -> Optional[HTTPResponse]:
            if request.method != "POST":
                return None
            refused = refusal(request.json)  # not JSON at all: Sanic answers 400
            if refused is None:
                return None
            status, reason, message = refused
            # Rasa's own error shape; never the customer's text
            return response.json({"status": "failure", "reason": reason, "message": message,
                                  "code": status}, status=status)

        return webhook
