"""CSAT: the customer's rating of a conversation, beside the bot's principles scorecard.

Asked once per conversation, when an agent resolved it or when the bot ended a conversation
it handled alone with a goodbye. The customer answers 1-5 with an optional comment, or
skips. Each answer goes out as a `csat.submitted` webhook (the outbox writer) and is counted
in /metrics; /api/scorecard shows the figures by language, hand-off reason and by who
handled the conversation.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Callable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ServiceError
from api.events import CsatRequested, CsatSubmitted, publish
from api.models import Agent, Conversation, CsatSurvey, Escalation, utcnow
from api.schemas import CsatAnswer, CsatFigures, CsatOut, CsatReport, CsatState
from core.personal_data import mask

# a 4 or a 5 counts as satisfied: the usual CSAT percentage
SATISFIED = 4
BOT_ONLY = "bot_only"


class CsatError(ServiceError):
    """A rating the conversation cannot take (409: not asked, or already answered)."""


def survey_of(session: Session, conversation_id: str) -> Optional[CsatSurvey]:
    return session.scalar(select(CsatSurvey).where(CsatSurvey.conversation_id == conversation_id))


def state_of(survey: Optional[CsatSurvey]) -> Optional[CsatState]:
    if survey is None:
        return None
    if survey.answered_at is None:
        return "asked"
    return "skipped" if survey.skipped else "answered"


def csat_out(survey: Optional[CsatSurvey]) -> Optional[CsatOut]:
    state = state_of(survey)
    if survey is None or state is None:
        return None
    return CsatOut(state=state, score=survey.score)


def ask(session: Session, conversation: Conversation,
        escalation: Optional[Escalation] = None) -> bool:
    """Ask for a rating unless this conversation was asked before; in the caller's
    transaction. With an escalation an agent resolved it, without one the bot did."""
    if survey_of(session, conversation.id) is not None:
        return False
    handled_by_agent = escalation is not None and escalation.agent_id is not None
    survey = CsatSurvey(
        conversation_id=conversation.id, language=conversation.language or "nb",
        escalation_id=escalation.id if escalation is not None else None,
        agent_id=escalation.agent_id if escalation is not None else None,
        handled_by="agent" if handled_by_agent else "bot",
        reason=escalation.reason if escalation is not None else None)
    session.add(survey)  # asked twice at the same moment: the unique key refuses one (409)
    session.flush()
    publish(session, CsatRequested(conversation.id, survey.language))
    return True


def answer(session: Session, conversation: Conversation, body: CsatAnswer,
           now: Callable[[], dt.datetime] = utcnow) -> CsatSurvey:
    """Store the customer's rating (or that they skipped) and publish it; once only."""
    survey = survey_of(session, conversation.id)
    if survey is None:
        raise CsatError(409, "no rating was asked for in this conversation")
    if survey.answered_at is not None:
        raise CsatError(409, "this conversation was already rated")
    survey.answered_at = now()
    survey.skipped = body.skipped
    survey.score = body.score
    survey.comment = mask(body.comment.strip()) if body.comment and body.comment.strip() else None
    session.flush()
    publish(session, CsatSubmitted(conversation.id, survey.escalation_id,
                                   webhook_body(session, survey)))
    session.commit()
    return survey


def webhook_body(session: Session, survey: CsatSurvey) -> dict[str, Any]:
    """What the `csat.submitted` webhook says: the rating and what it is about."""
    escalation = session.get(Escalation, survey.escalation_id) if survey.escalation_id else None
    agent = session.get(Agent, survey.agent_id) if survey.agent_id else None
    return {"conversation_id": survey.conversation_id,
            "reference": escalation.reference if escalation is not None else None,
            "language": survey.language, "handled_by": survey.handled_by,
            "reason": survey.reason, "agent_name": agent.name if agent is not None else None,
            "score": survey.score, "comment": survey.comment, "skipped": survey.skipped,
            "answered_at": survey.answered_at.isoformat() if survey.answered_at else None}


def scores_by_escalation(session: Session, escalation_ids: Iterable[int]) -> dict[int, int]:
    """The rating given after each of these escalations, where one was given (the console)."""
    ids = list(escalation_ids)
    if not ids:
        return {}
    rows = session.execute(select(CsatSurvey.escalation_id, CsatSurvey.score)
                           .where(CsatSurvey.escalation_id.in_(ids),
                                  CsatSurvey.score.is_not(None))).all()
    return {escalation_id: score for escalation_id, score in rows
            if escalation_id is not None and score is not None}


def figures(surveys: list[CsatSurvey]) -> CsatFigures:
    scores = [survey.score for survey in surveys if survey.score is not None]
    return CsatFigures(
        asked=len(surveys), answered=len(scores),
        skipped=sum(1 for survey in surveys if survey.skipped),
        average=round(sum(scores) / len(scores), 2) if scores else None,
        satisfied_share=round(sum(score >= SATISFIED for score in scores) / len(scores), 3)
        if scores else None,
        scores={str(score): scores.count(score) for score in range(1, 6)})


def report(session: Session, since: Optional[dt.datetime] = None) -> CsatReport:
    """CSAT overall and by language, reason and handling (surveys asked since `since`)."""
    query = select(CsatSurvey)
    if since is not None:
        query = query.where(CsatSurvey.asked_at >= since)
    surveys = list(session.scalars(query))
    groups: dict[str, dict[str, list[CsatSurvey]]] = {
        "language": defaultdict(list), "reason": defaultdict(list), "handling": defaultdict(list)}
    for survey in surveys:
        groups["language"][survey.language].append(survey)
        groups["reason"][survey.reason or BOT_ONLY].append(survey)
        groups["handling"][survey.handled_by].append(survey)
    return CsatReport(
        overall=figures(surveys),
        by_language={key: figures(group) for key, group in sorted(groups["language"].items())},
        by_reason={key: figures(group) for key, group in sorted(groups["reason"].items())},
        by_handling={key: figures(group) for key, group in sorted(groups["handling"].items())})
