"""Where conversations, escalations and outbox events stand, and the moves allowed between.

The one place transitions live. Every status change in the service goes through `move`
(or, for the race-safe claim, through `sources`), so a forbidden move is a
`TransitionError`, which the app turns into a 409 naming the move, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

from api.models import Conversation, Escalation, OutboxEvent
from core.vocabulary import ConversationStatus, EscalationStatus, OutboxStatus

S = TypeVar("S", bound=Enum)
Table = Mapping[S, frozenset[S]]

CONVERSATION_TRANSITIONS: Table[ConversationStatus] = {
    # the bot hands over (queued), or the conversation ends
    ConversationStatus.BOT: frozenset({ConversationStatus.QUEUED, ConversationStatus.CLOSED}),
    # an agent claims it, or it is resolved without one (back to the bot, or closed)
    ConversationStatus.QUEUED: frozenset({ConversationStatus.WITH_AGENT, ConversationStatus.BOT,
                                          ConversationStatus.CLOSED}),
    ConversationStatus.WITH_AGENT: frozenset({ConversationStatus.BOT, ConversationStatus.CLOSED}),
    # closed is final: the customer starts a new conversation
    ConversationStatus.CLOSED: frozenset(),
}

ESCALATION_TRANSITIONS: Table[EscalationStatus] = {
    EscalationStatus.QUEUED: frozenset({EscalationStatus.WITH_AGENT, EscalationStatus.CLOSED}),
    EscalationStatus.WITH_AGENT: frozenset({EscalationStatus.CLOSED}),
    # a new hand-off of the same conversation is a new escalation
    EscalationStatus.CLOSED: frozenset(),
}

OUTBOX_TRANSITIONS: Table[OutboxStatus] = {
    # a failed attempt stays pending (with a later retry time) until max attempts
    OutboxStatus.PENDING: frozenset({OutboxStatus.DELIVERED, OutboxStatus.FAILED}),
    OutboxStatus.DELIVERED: frozenset(),
    OutboxStatus.FAILED: frozenset(),
}

# an escalation someone still has to act on; a conversation in people's hands
OPEN_ESCALATION = frozenset({EscalationStatus.QUEUED, EscalationStatus.WITH_AGENT})
WITH_PEOPLE = frozenset({ConversationStatus.QUEUED, ConversationStatus.WITH_AGENT})


class TransitionError(Exception):
    """A status change its transition table does not allow (HTTP 409)."""

    def __init__(self, subject: str, current: Enum, target: Enum, allowed: frozenset[Enum]) -> None:
        self.subject, self.current, self.target = subject, current, target
        if current == target:
            message = f"{subject} is already {current.value}"
        elif not allowed:
            message = f"{subject} is {current.value} and cannot change any more"
        else:
            choices = " or ".join(sorted(status.value for status in allowed))
            message = (f"{subject} cannot go from {current.value} to {target.value} "
                       f"(only to {choices})")
        super().__init__(message)
        self.detail = message


def allowed(table: Table[S], current: S, target: S) -> bool:
    return target in table[current]


def move(table: Table[S], current: S, target: S, subject: str) -> S:
    """`target` if the table allows the move from `current`, else TransitionError."""
    if not allowed(table, current, target):
        raise TransitionError(subject, current, target, frozenset(table[current]))
    return target


def sources(table: Table[S], target: S) -> frozenset[S]:
    """The statuses `target` can be reached from: the guard of a conditional UPDATE."""
    return frozenset(status for status, targets in table.items() if target in targets)


def move_conversation(conversation: Conversation, target: ConversationStatus) -> None:
    conversation.status = move(CONVERSATION_TRANSITIONS, conversation.status, target,
                               f"conversation {conversation.id}")


def move_escalation(escalation: Escalation, target: EscalationStatus) -> None:
    escalation.status = move(ESCALATION_TRANSITIONS, escalation.status, target,
                             f"escalation {escalation.reference}")


def move_outbox(item: OutboxEvent, target: OutboxStatus) -> None:
    item.status = move(OUTBOX_TRANSITIONS, item.status, target, f"outbox event {item.id}")
