"""The widget's side of the contract."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.deps import MAX_ROW_ID, ConversationWithinLimit, CurrentConversation, HubDep, SessionDep
from api.schemas import (
    ConversationStarted,
    CsatAnswer,
    CsatOut,
    CustomerMessage,
    History,
    MessagesReply,
    StartConversation,
)
from api.services import conversations, csat
from api.services.serialize import conversation_messages, message_out

router = APIRouter(prefix="/api/conversations", tags=["conversations"])
TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {"description": "too many requests (see the rate limits in README.md); the "
                         "Retry-After header says in how many seconds to try again"}}


@router.post("", response_model=ConversationStarted, status_code=201, responses=TOO_MANY)
def start_conversation(body: StartConversation, session: SessionDep) -> ConversationStarted:
    """Start a conversation; keep the customer token: it is the only key to it.
    Too many from one IP: 429 with Retry-After."""
    conversation, token = conversations.start(session, body.language, body.page)
    return ConversationStarted(conversation_id=conversation.id, customer_token=token)


@router.post("/{conversation_id}/messages", response_model=MessagesReply,
             responses={409: {"description": "the conversation is closed; or (`code` "
                                             "in_flight, with Retry-After) this "
                                             "client_message_id is being answered: send it "
                                             "again then; or (`code` "
                                             "client_message_id_reused) the id was used for "
                                             "a different message"}, **TOO_MANY,
                        503: {"description": "the bot is busy: nothing was stored; send it "
                                             "again after Retry-After seconds"}})
async def post_message(body: CustomerMessage, conversation: ConversationWithinLimit,
                       session: SessionDep, hub: HubDep) -> MessagesReply | JSONResponse:
    """A customer message (text or button payload) and what came back. With a
    `client_message_id`, sending it again (a retry after a lost answer) stores nothing and
    returns the first answer. Too many from one conversation, or from one IP: 429 with
    Retry-After."""
    try:
        return await conversations.post(hub, session, conversation, body)
    except conversations.RepeatRefused as refused:
        headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
        return JSONResponse({"detail": refused.detail, "code": refused.code}, status_code=409,
                            headers=headers)


@router.get("/{conversation_id}/messages", response_model=History)
def history(conversation: CurrentConversation, session: SessionDep, hub: HubDep,
            after: int = Query(0, ge=0, le=MAX_ROW_ID,
                               description="only messages with a larger id")) -> History:
    """Everything said so far (after message id `after`), to resume after a reload."""
    messages = conversation_messages(session, conversation.id, after=after)
    return History(messages=[message_out(m) for m in messages], status=conversation.status,
                   language=conversation.language,
                   escalation=conversations.current_escalation(hub, session, conversation),
                   csat=csat.csat_out(csat.survey_of(session, conversation.id)))


@router.post("/{conversation_id}/csat", response_model=CsatOut,
             responses={409: {"description": "no rating was asked for, or it was given already"}})
def rate(body: CsatAnswer, conversation: CurrentConversation, session: SessionDep) -> CsatOut:
    """The customer's rating of the conversation (1-5 and a comment), or that they skipped
    it; only once it was asked for (history's `csat.state` is "asked"), and only once."""
    survey = csat.answer(session, conversation, body)
    return CsatOut(state="skipped" if survey.skipped else "answered", score=survey.score)
