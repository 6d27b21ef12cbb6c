"""Readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from api import metrics
from api.deps import HubDep
from api.models import Conversation, Escalation
from api.services.hub import Hub
from api.settings import Settings
from core.vocabulary import EscalationStatus

router = APIRouter(tags=["ops"])


def database_answers(hub: Hub) -> bool:
    try:
        with hub.database.sessions() as session:
            session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any database failure means not ready
        return False


@router.get("/health")
async def health(hub: HubDep) -> JSONResponse:
    """Ready (200) when the database answers, else 503; each part says whether it answers,
    so a degraded status names the part that is down (Rasa, the action server)."""
    # in a worker thread: a database that does not answer must not hold up the event loop
    database, rasa, actions = await asyncio.gather(
        asyncio.to_thread(database_answers, hub), hub.rasa.ready(),
        hub.rasa.ready(f"{hub.settings.actions_url.rstrip('/')}/health"))
    body = {"status": "ok" if database and rasa and actions else "degraded",
            "database": database, "rasa": rasa, "action_server": actions}
    return JSONResponse(body, status_code=200 if database else 503)


@router.get("/live")
def live() -> dict[str, str]:
    """The process serves requests: what a load balancer checks (HAProxy in make
    run-scaled). Nothing else is asked, so a slow Rasa server or database does not take
    every service process out of the front at once; /health says how the parts are."""
    return {"status": "ok"}


LOOPBACK = {"127.0.0.1", "::1"}


def metrics_allowed(request: Request, settings: Settings) -> bool:
    """With a metrics token, only its bearer; without one, only callers on this machine."""
    if settings.metrics_token:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {settings.metrics_token}".encode())
    return request.client is not None and request.client.host in LOOPBACK


@router.get("/metrics")
def prometheus(request: Request, hub: HubDep) -> Response:
    if not metrics_allowed(request, hub.settings):
        raise HTTPException(403, "metrics are for this machine or the metrics token's bearer")
    with hub.database.sessions() as session:
        conversations = session.scalar(select(func.count()).select_from(Conversation)) or 0
        escalated = session.scalar(select(func.count(func.distinct(Escalation.conversation_id))))
        queue = session.scalar(select(func.count()).select_from(Escalation)
                               .where(Escalation.status == EscalationStatus.QUEUED)) or 0
    metrics.QUEUE_LENGTH.set(queue)
    metrics.AGENTS_CONNECTED.set(hub.bus.agents_connected)
    metrics.CONTAINMENT.set(1 - (escalated or 0) / conversations if conversations else 1.0)
    return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)
