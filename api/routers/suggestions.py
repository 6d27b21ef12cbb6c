"""Suggested answers for the agent of an escalation (ranking: api/services/suggestions.py)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.deps import CurrentAgent, EscalationId, SessionDep
from api.schemas import SuggestionOut
from api.services import escalations, suggestions

router = APIRouter(tags=["agents"])
# what the agent typed is matched, not stored: a reply's opening is enough to rank by
MAX_QUERY_LENGTH = 200
DEFAULT_LIMIT, MAX_LIMIT = 8, 50


@router.get("/api/escalations/{escalation_id}/suggestions", response_model=list[SuggestionOut],
            responses={404: {"description": "no such escalation (or erased)"}})
def suggestions_for(escalation_id: EscalationId, agent: CurrentAgent, session: SessionDep,
                    q: str = Query("", max_length=MAX_QUERY_LENGTH,
                                   description="what the agent is typing, to rank by"),
                    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)) -> list[SuggestionOut]:
    """FAQ answers and canned responses in the customer's language (and so for their
    country): first those on the topics the bot saw, in its order; then those matching `q`
    (accent-insensitive, å/aa, ø/oe, æ/ae alike); then the rest. In a canned response,
    {agent} is the agent's name and {reference} the escalation's reference."""
    escalation = escalations.get(session, escalation_id)
    found = suggestions.for_escalation(
        escalation.language, escalation.topics or [], escalation.details or {}, q, limit,
        {"agent": agent.name, "reference": escalation.reference})
    return [SuggestionOut(kind=s.kind, key=s.key, title=s.title, text=s.text, topic=s.topic)
            for s in found]
