"""A conversation's status as an explicit state machine: the one place transitions live."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    BOT = "bot"
    QUEUED = "queued"
    WITH_AGENT = "with_agent"
    CLOSED = "closed"


ALLOWED = {
    Status.BOT: {Status.QUEUED, Status.CLOSED},
    Status.QUEUED: {Status.WITH_AGENT, Status.BOT, Status.CLOSED},
    Status.WITH_AGENT: {Status.BOT, Status.CLOSED},
    Status.CLOSED: set(),  # closed is final: the customer starts a new conversation
}


class TransitionError(ValueError):
    """A status change the state machine does not allow."""


def transition(current: str, target: Status) -> str:
    """The new status, or TransitionError naming the forbidden move."""
    source = Status(current)
    if target not in ALLOWED[source]:
        raise TransitionError(f"cannot go from {source.value} to {target.value}")
    return target.value
