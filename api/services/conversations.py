"""Conversations from the widget: relayed to the bot, or to the agent once escalated."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import secrets
import time
import uuid
from typing import Any, Optional
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import metrics, state
from api.db import release_connection
from api.errors import ServiceError
from api.events import ConversationStarted, MessageCreated, publish
from api.models import Conversation, Escalation, Message
from api.schemas import CustomerMessage, EscalationHook, EscalationInfo, MessagesReply, TranscriptLine
from api.security import hash_token, new_token
from api.services import csat, escalations
from api.services.hub import Hub
from api.services.rasa_client import RasaUnavailable
from api.services.serialize import conversation_messages, escalation_info, message_out
from api.settings import Settings
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
# how long the request that stored a customer message may take for the bot's answer beyond
# Rasa's timeout: a failed connection to another Rasa server (1.5 s each, rasa_client.py) and
# the database work around it; a repeat of the message (same client_message_id) after that
# finds the first attempt lost, its process gone, and answers it. Short, because the customer
# whose service process died waits this long for the answer
ANSWER_MARGIN_SECONDS = 5


class ConversationError(ServiceError):
    """A customer request the conversation cannot take (409, 422)."""


class RepeatRefused(ConversationError):
    """A repeat of a customer message (same client_message_id) that gets no answer now:
    `code` says why for a client; `retry_after` (seconds) when it may ask again."""

    def __init__(self, detail: str, code: str, retry_after: Optional[int] = None) -> None:
        super().__init__(409, detail)
        self.code = code
        self.retry_after = retry_after


class _AnsweredMeanwhile(Exception):
    """Another request stored the answer to this customer message first."""


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


def answer_time(settings: Settings) -> dt.timedelta:
    """How long the request that stored a customer message may take to store its answer."""
    return dt.timedelta(seconds=settings.rasa_timeout_seconds + ANSWER_MARGIN_SECONDS)


async def post(hub: Hub, session: Session, conversation: Conversation,
               body: CustomerMessage) -> MessagesReply:
    """Store the customer's message and answer it: the bot's replies, or, once a person has
    the conversation, its status. A message with a `client_message_id` is stored and
    answered once; a repeat of it gets that answer again (see `_repeat`)."""
    client_id = body.client_message_id
    if client_id is not None:
        # database work runs in a worker thread so that other customers are not held up
        earlier = await asyncio.to_thread(_sent_before, session, conversation.id, client_id,
                                          True)
        if earlier is not None:  # before the closed check: it was taken while open
            return await _repeat(hub, session, conversation, earlier, body)
    if conversation.status == ConversationStatus.CLOSED:
        raise ConversationError(409, "this conversation is closed; start a new one")
    text = customer_text(body, hub.settings.max_message_length)
    if conversation.status in state.WITH_PEOPLE:
        customer, new = await asyncio.to_thread(_keep_customer, hub, session, conversation,
                                                text, client_id, False)
        if new:
            return await asyncio.to_thread(_with_people, hub, session, conversation)
    else:
        # a slot at Rasa first: refused (503) before it is stored, the widget sends it again
        async with hub.admission.slot():
            customer, new = await asyncio.to_thread(_keep_customer, hub, session, conversation,
                                                    text, client_id, True)
            if new:  # kept before anything can fail
                return await _to_bot(hub, session, conversation, customer)
    # the same message from another request at the same moment, which stored it first
    return await _repeat(hub, session, conversation, customer, body)


def _sent_before(session: Session, conversation_id: str, client_id: str,
                 release: bool = False) -> Optional[Message]:
    """The message stored with this client id, if any; with `release`, the read ends and
    its connection goes back to the pool (api/db.py says why)."""
    earlier = session.scalar(select(Message).where(Message.conversation_id == conversation_id,
                                                   Message.client_message_id == client_id))
    if release:
        release_connection(session)
    return earlier


def _keep_customer(hub: Hub, session: Session, conversation: Conversation, text: str,
                   client_id: Optional[str], to_bot: bool) -> tuple[Message, bool]:
    """The customer's message, stored and published, and True; or, when a request with the
    same `client_id` stored it first (the unique index decides), that one and False."""
    escalation = None if to_bot else escalations.open_for_conversation(session, conversation.id)
    customer = Message(conversation_id=conversation.id, sender="customer", text=text,
                       client_message_id=client_id,
                       answer_due_by=hub.clock() + answer_time(hub.settings) if to_bot else None)
    try:
        _keep(session, conversation.id, [customer], escalation)
    except IntegrityError:
        session.rollback()
        earlier = _sent_before(session, conversation.id, client_id) if client_id else None
        if earlier is None:  # another clash (the conversation was erased meanwhile)
            raise
        return earlier, False
    return customer, True


async def _repeat(hub: Hub, session: Session, conversation: Conversation, earlier: Message,
                  body: CustomerMessage) -> MessagesReply:
    """A customer message sent again (same client_message_id): nothing is stored again and
    the bot is not asked again. Answered: that answer. Being answered by another request:
    409 with Retry-After. Its first attempt lost (past `answer_due_by`: that request's process
    died): this request asks the bot, as the first would have."""
    text = customer_text(body, hub.settings.max_message_length)
    if earlier.text != text:
        raise RepeatRefused("this client_message_id was used for a different message; give "
                            "every new message a new id", "client_message_id_reused")
    retry_after = hub.settings.busy_retry_seconds
    if earlier.answer_due_by is None:
        return await asyncio.to_thread(_answered, hub, session, conversation, earlier)
    if earlier.answer_due_by > hub.clock():
        raise RepeatRefused("this message is being answered; send it again after Retry-After "
                            "seconds for the answer", "in_flight", retry_after)
    async with hub.admission.slot():
        if not await asyncio.to_thread(_take_over, hub, session, earlier):
            raise RepeatRefused("this message is being answered; send it again after "
                                "Retry-After seconds for the answer", "in_flight", retry_after)
        await asyncio.to_thread(session.refresh, conversation)
        if conversation.status == ConversationStatus.BOT:
            return await _to_bot(hub, session, conversation, earlier)
    # a person has the conversation now (or it was closed): they see the stored message
    await asyncio.to_thread(_finish_without_bot, session, conversation, earlier)
    return await asyncio.to_thread(_answered, hub, session, conversation, earlier)


def _take_over(hub: Hub, session: Session, customer: Message) -> bool:
    """Whether this request now answers `customer`, whose first attempt was lost: one
    request wins (the row's update decides), the others find it being answered."""
    now = hub.clock()
    result = session.execute(
        update(Message).where(Message.id == customer.id, Message.answer_due_by.is_not(None),
                              Message.answer_due_by <= now)
        .values(answer_due_by=now + answer_time(hub.settings))
        .execution_options(synchronize_session=False))
    session.commit()
    return isinstance(result, CursorResult) and result.rowcount == 1


def _finish_without_bot(session: Session, conversation: Conversation, customer: Message) -> None:
    """Mark `customer` answered with no reply (a person answers it, or no one: closed)."""
    with contextlib.suppress(_AnsweredMeanwhile):  # answered by another request: as good
        _keep(session, conversation.id, [], answering=customer)


def _answered(hub: Hub, session: Session, conversation: Conversation,
              customer: Message) -> MessagesReply:
    """The answer stored for `customer`: the replies given then, and where the
    conversation stands now."""
    replies = session.scalars(select(Message).where(Message.conversation_id == conversation.id,
                                                    Message.reply_to == customer.id)
                              .order_by(Message.id)).all()
    session.refresh(conversation)
    return MessagesReply(messages=[message_out(m) for m in replies], status=conversation.status,
                         escalation=current_escalation(hub, session, conversation),
                         csat=csat.csat_out(csat.survey_of(session, conversation.id)))


def _keep(session: Session, conversation_id: str, messages: list[Message],
          escalation: Optional[Escalation] = None,
          answering: Optional[Message] = None) -> list[Message]:
    """Store the messages and publish them (with the escalation, if the conversation has one).
    `answering`: the customer message they answer, marked answered in the same transaction;
    `_AnsweredMeanwhile` (nothing stored) when another request answered it first."""
    for message in messages:
        message.reply_to = answering.id if answering is not None else None
    session.add_all(messages)
    session.flush()
    if answering is not None and not _mark_answered(session, answering):
        session.rollback()
        raise _AnsweredMeanwhile()
    for message in messages:
        publish(session, MessageCreated(
            conversation_id, message_out(message),
            escalation.id if escalation is not None else None,
            escalation.reference if escalation is not None else None,
            escalation.language if escalation is not None else None))
    session.commit()
    return messages


def _mark_answered(session: Session, customer: Message) -> bool:
    """Whether this request marked `customer` answered (in its transaction); False when
    another request did first (possible only after `answer_time` ran out for one of them)."""
    result = session.execute(
        update(Message).where(Message.id == customer.id, Message.answer_due_by.is_not(None))
        .values(answer_due_by=None).execution_options(synchronize_session=False))
    return isinstance(result, CursorResult) and result.rowcount == 1


def _with_people(hub: Hub, session: Session, conversation: Conversation) -> MessagesReply:
    """A message to the agent (or the queue) is answered by where the conversation stands."""
    return MessagesReply(messages=[], status=conversation.status,
                         escalation=current_escalation(hub, session, conversation))


async def _to_bot(hub: Hub, session: Session, conversation: Conversation,
                  customer: Message) -> MessagesReply:
    """Ask the bot about the stored `customer` message, store its replies as the answer."""
    text = customer.text
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
    try:
        if not stored:  # Rasa is down, or said nothing because an action failed (actions down)
            return await asyncio.to_thread(_bot_silent, hub, session, conversation, customer)
        ended = any(reply.get("custom") == ENDS_CONVERSATION for reply in replies)
        return await asyncio.to_thread(_bot_replied, hub, session, conversation, customer,
                                       stored, ended)
    except _AnsweredMeanwhile:  # this request ran out of time and another answered it
        return await asyncio.to_thread(_answered, hub, session, conversation, customer)


def _bot_silent(hub: Hub, session: Session, conversation: Conversation,
                customer: Message) -> MessagesReply:
    """The bot could not answer; the customer's message is already kept. The customer is told
    so and offered a person; a request for a person is handed over by the service itself."""
    text = customer.text
    session.refresh(conversation)  # the bot's hand-off hook may have got through meanwhile
    if text == PERSON_PAYLOAD or conversation.status in state.WITH_PEOPLE:
        escalation = escalations.open_for_conversation(session, conversation.id) \
            or _hand_over(hub, session, conversation)
        session.refresh(conversation)
        note = Message(conversation_id=conversation.id, sender="system",
                       text=notice("handed_over_without_bot", conversation.language,
                                   reference=escalation.reference))
        _keep(session, conversation.id, [note], escalation, answering=customer)
    else:
        language = conversation.language
        note = Message(conversation_id=conversation.id, sender="system",
                       text=notice("bot_unavailable", language),
                       buttons=[{"title": in_language(load_content()["button_person"], language),
                                 "payload": PERSON_PAYLOAD}])
        _keep(session, conversation.id, [note], answering=customer)
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


def _bot_replied(hub: Hub, session: Session, conversation: Conversation, customer: Message,
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
    # agents see the bot's last words
    _keep(session, conversation.id, stored, escalation, answering=customer)
    return MessagesReply(messages=[message_out(m) for m in stored], status=conversation.status,
                         escalation=current_escalation(hub, session, conversation),
                         csat=csat.csat_out(csat.survey_of(session, conversation.id)))
