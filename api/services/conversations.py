"""Conversations from the widget: relayed to the bot, or to the agent once escalated."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
import uuid
from typing import Any, Optional
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.orm import Session

from api import metrics, state
from api.errors import ServiceError
from api.events import ConversationStarted, MessageCreated, publish
from api.models import Conversation, Escalation, Message
from api.schemas import CustomerMessage, EscalationHook, EscalationInfo, MessagesReply, TranscriptLine
from api.security import hash_token, new_token
from api.services import csat, escalations
from api.services.hub import Hub
from api.services.rasa_client import RasaUnavailable
from api.services.serialize import conversation_messages, escalation_info, message_out
from api.texts import console_summary
from core.content import in_language, load_content, notice
from core.languages import DEFAULT_LANGUAGE
from core.personal_data import mask
from core.scorecard import opens_with_welcome, tells_what_happens_next, with_handoff_measured
from core.vocabulary import (
    ENDS_CONVERSATION,
    REQUEST_HUMAN_INTENT,
    ConversationStatus,
    HandoffReason,
    priority_for,
)

# a button's payload names an intent and nothing else: no entities (they would set slots
# unmasked), and none of Rasa's own intents that reset the conversation
BUTTON_PAYLOAD = re.compile(r"/([a-z][a-z_]{0,63})")
RASA_CONTROL_INTENTS = frozenset({"restart", "session_start", "back"})
# the person button: the bot's own payload for it, which the service also understands alone
PERSON_PAYLOAD = f"/{REQUEST_HUMAN_INTENT}"


class ConversationError(ServiceError):
    """A customer request the conversation cannot take (409, 422)."""


def page_without_query(page: Optional[str]) -> Optional[str]:
    """The page's URL without query and fragment, which can carry personal data."""
    if not page:
        return None
    parts = urlsplit(page)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")) or None


def start(session: Session, language: Optional[str], page: Optional[str]) -> tuple[Conversation, str]:
    token = new_token()
    conversation = Conversation(id="c_" + secrets.token_hex(12), customer_token_hash=hash_token(token),
                                language=language, page=page_without_query(page),
                                status=ConversationStatus.BOT)
    session.add(conversation)
    publish(session, ConversationStarted(conversation.id, language))
    session.commit()
    return conversation, token


def customer_text(body: CustomerMessage, max_length: int) -> str:
    """The text or button payload, validated (ConversationError 422)."""
    if body.payload is not None and body.text is not None:
        raise ConversationError(422, "send either text or payload, not both")
    if body.payload is not None:
        intent = BUTTON_PAYLOAD.fullmatch(body.payload)
        if intent is None or intent.group(1) in RASA_CONTROL_INTENTS:
            raise ConversationError(422, "payload must look like /intent_name")
        return body.payload
    text = (body.text or "").strip()
    if not text:
        raise ConversationError(422, "text is empty")
    if len(text) > max_length:
        raise ConversationError(422, f"text is longer than {max_length} characters")
    # masked at the door: what is stored, shown to agents, sent to helpdesks and to Rasa
    # never holds a valid identity, card or IBAN number
    return mask(text)


def current_escalation(hub: Hub, session: Session, conversation: Conversation) -> Optional[EscalationInfo]:
    if conversation.status not in state.WITH_PEOPLE:
        return None
    escalation = escalations.open_for_conversation(session, conversation.id)
    if escalation is None:
        return None
    return escalation_info(hub, session, escalation)


async def post(hub: Hub, session: Session, conversation: Conversation,
               body: CustomerMessage) -> MessagesReply:
    if conversation.status == ConversationStatus.CLOSED:
        raise ConversationError(409, "this conversation is closed; start a new one")
    text = customer_text(body, hub.settings.max_message_length)
    # database work runs in a worker thread so that other customers are not held up
    if conversation.status in state.WITH_PEOPLE:
        return await asyncio.to_thread(_to_agent, hub, session, conversation, text)
    # a slot at Rasa first: refused (503) before it is stored, the widget sends it again
    async with hub.admission.slot():
        customer = Message(conversation_id=conversation.id, sender="customer", text=text)
        await asyncio.to_thread(_keep, session, conversation.id, [customer])  # kept before anything can fail
        return await _to_bot(hub, session, conversation, text)


def _keep(session: Session, conversation_id: str, messages: list[Message],
          escalation: Optional[Escalation] = None) -> list[Message]:
    """Store the messages and publish them (with the escalation, if the conversation has one)."""
    session.add_all(messages)
    session.flush()
    for message in messages:
        publish(session, MessageCreated(
            conversation_id, message_out(message),
            escalation.id if escalation is not None else None,
            escalation.reference if escalation is not None else None,
            escalation.language if escalation is not None else None))
    session.commit()
    return messages


def _to_agent(hub: Hub, session: Session, conversation: Conversation, text: str) -> MessagesReply:
    escalation = escalations.open_for_conversation(session, conversation.id)
    _keep(session, conversation.id,
          [Message(conversation_id=conversation.id, sender="customer", text=text)], escalation)
    return MessagesReply(messages=[], status=conversation.status,
                         escalation=current_escalation(hub, session, conversation))


async def _to_bot(hub: Hub, session: Session, conversation: Conversation, text: str) -> MessagesReply:
    metadata: dict[str, Any] = {"language": conversation.language, "page": conversation.page}
    try:
        with metrics.BOT_LATENCY.time():
            replies = await hub.rasa.send(conversation.id, text,
                                          {k: v for k, v in metadata.items() if v})
    except RasaUnavailable:
        replies = []
    stored = [Message(conversation_id=conversation.id, sender="bot", text=reply["text"],
                      buttons=reply.get("buttons") or None)
              for reply in replies if reply.get("text")]
    if not stored:  # Rasa is down, or said nothing because an action failed (actions down)
        return await asyncio.to_thread(_bot_silent, hub, session, conversation, text)
    ended = any(reply.get("custom") == ENDS_CONVERSATION for reply in replies)
    return await asyncio.to_thread(_bot_replied, hub, session, conversation, stored, ended)


def _bot_silent(hub: Hub, session: Session, conversation: Conversation,
                text: str) -> MessagesReply:
    """The bot could not answer; the customer's message is already kept. The customer is told
    so and offered a person; a request for a person is handed over by the service itself."""
    session.refresh(conversation)  # the bot's hand-off hook may have got through meanwhile
    if text == PERSON_PAYLOAD or conversation.status in state.WITH_PEOPLE:
        escalation = escalations.open_for_conversation(session, conversation.id) \
            or _hand_over(hub, session, conversation)
        session.refresh(conversation)
        note = Message(conversation_id=conversation.id, sender="system",
                       text=notice("handed_over_without_bot", conversation.language,
                                   reference=escalation.reference))
        _keep(session, conversation.id, [note], escalation)
    else:
        language = conversation.language
        note = Message(conversation_id=conversation.id, sender="system",
                       text=notice("bot_unavailable", language),
                       buttons=[{"title": in_language(load_content()["button_person"], language),
                                 "payload": PERSON_PAYLOAD}])
        _keep(session, conversation.id, [note])
    return MessagesReply(messages=[message_out(note)], status=conversation.status,
                         escalation=current_escalation(hub, session, conversation))


def shown(text: str) -> str:
    """A button's payload as the bot's transcript shows it ("[request_human]"), else the text."""
    return f"[{text[1:]}]" if text.startswith("/") else text


def _hand_over(hub: Hub, session: Session, conversation: Conversation) -> Escalation:
    """An escalation made by the service, as the bot's hook would: the reason, a summary for
    the agent and the chat so far as its transcript."""
    language = conversation.language or DEFAULT_LANGUAGE
    said = [m for m in conversation_messages(session, conversation.id) if m.sender != "system"]
    hook = EscalationHook(
        event_id=uuid.uuid4().hex, sent_at=time.time(), conversation_id=conversation.id,
        language=language, reason=HandoffReason.REQUEST_HUMAN.value,
        priority=priority_for(HandoffReason.REQUEST_HUMAN.value, threatened=False),
        summary=console_summary("bot_unavailable", language=language),
        transcript=[TranscriptLine(sender=m.sender, text=shown(m.text),
                                   timestamp=m.created_at.timestamp()) for m in said])
    receipt, _ = escalations.create_from_hook(hub, session, hook, source="service")
    return escalations.by_reference(session, receipt.reference)


def measure_handoff(escalation: Escalation, replies: list[Message]) -> None:
    """Score the hand-off by what happened, once, when the bot's hand-off reply comes back:
    owned when the escalation arrived with its summary and transcript, expectations set
    when the customer was told a place, a time or the reference."""
    card = escalation.scorecard or {}
    if card.get("handoff_owned_with_summary") is not None:
        return
    owned = bool(escalation.summary and escalation.transcript)
    told = any(tells_what_happens_next(reply.text, [escalation.reference]) for reply in replies)
    if card.get("welcomed") is None and replies:  # the hand-off was the bot's first reply
        card = {**card, "welcomed": opens_with_welcome(replies[0].text)}
    escalation.scorecard = with_handoff_measured(card, owned, told)


def _bot_replied(hub: Hub, session: Session, conversation: Conversation,
                 stored: list[Message], ended: bool = False) -> MessagesReply:
    """The bot's replies, kept and published. A goodbye (`ended`) in a conversation the bot
    handled alone asks the customer for a rating, once."""
    session.refresh(conversation)  # the bot's hand-off hook may have queued it meanwhile
    escalation = escalations.open_for_conversation(session, conversation.id) \
        if conversation.status in state.WITH_PEOPLE else None
    if escalation is not None:
        measure_handoff(escalation, stored)
    elif ended and conversation.status == ConversationStatus.BOT:
        csat.ask(session, conversation)
    _keep(session, conversation.id, stored, escalation)  # agents see the bot's last words
    return MessagesReply(messages=[message_out(m) for m in stored], status=conversation.status,
                         escalation=current_escalation(hub, session, conversation),
                         csat=csat.csat_out(csat.survey_of(session, conversation.id)))
