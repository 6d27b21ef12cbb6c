"""What the service does when something happened: one listener per consumer.

Registered in `wire` (called by api/main.py); each gets every event after its commit
(api/events.py) and reacts to the kinds it cares about.
"""

from __future__ import annotations

from api import metrics
from api.events import (
    QUEUE_CHANGES,
    ConversationErased,
    ConversationStarted,
    CsatRequested,
    CsatSubmitted,
    EscalationClaimed,
    EscalationCreated,
    EscalationResolved,
    Event,
    EventBus,
    Listener,
    MessageCreated,
    Typing,
)
from api.services import escalations, estimates, outbox
from api.services.hub import Hub
from api.services.serialize import escalation_info, queue_moment
from core.content import notice
from core.vocabulary import ConversationStatus


def live_updates(bus: EventBus) -> Listener:
    """Pushes to the agents' consoles and to the customer's widget over their WebSockets."""
    def push(event: Event) -> None:
        if isinstance(event, EscalationCreated):
            bus.to_agents({"type": "escalation.created",
                           "escalation": event.escalation.model_dump(mode="json")},
                          event.escalation.language)
        elif isinstance(event, EscalationClaimed):
            bus.to_agents({"type": "escalation.claimed",
                           "escalation": event.escalation.model_dump(mode="json")},
                          event.escalation.language)
            bus.to_conversation(event.escalation.conversation_id, {
                "type": "status", "status": ConversationStatus.WITH_AGENT.value,
                "agent_name": event.escalation.agent_name})
        elif isinstance(event, EscalationResolved):
            bus.to_agents({"type": "escalation.resolved",
                           "escalation": event.escalation.model_dump(mode="json")},
                          event.escalation.language)
            bus.to_conversation(event.escalation.conversation_id, {
                "type": "status", "status": event.conversation_status.value})
        elif isinstance(event, MessageCreated) and event.escalation_id is not None:
            message = event.message.model_dump(mode="json")
            # agents see what the customer, the bot and agents write (notes come with the status)
            if event.message.sender != "system":
                bus.to_agents({"type": "message.created", "escalation_id": event.escalation_id,
                               "message": message}, event.language)
            # the customer's widget already has its own messages and the bot's replies
            if event.message.sender in ("agent", "system"):
                bus.to_conversation(event.conversation_id, {"type": "message", "message": message})
        elif isinstance(event, ConversationErased):
            # the notice is not stored: nothing of the conversation is kept
            bus.to_conversation(event.conversation_id, {"type": "message", "message": {
                "id": None, "sender": "system", "text": notice("erased", event.language)}})
            bus.to_conversation(event.conversation_id, {
                "type": "status", "status": ConversationStatus.CLOSED.value})
            for escalation_id, reference in zip(event.escalation_ids, event.references, strict=True):
                bus.to_agents({"type": "escalation.erased", "escalation_id": escalation_id,
                               "reference": reference}, event.language)
        elif isinstance(event, CsatRequested):
            bus.to_conversation(event.conversation_id, {"type": "csat", "state": "asked"})
        elif isinstance(event, CsatSubmitted):
            state = "skipped" if event.rating["skipped"] else "answered"
            bus.to_conversation(event.conversation_id, {"type": "csat", "state": state})
            if event.escalation_id is not None:
                bus.to_agents({"type": "csat.submitted", "escalation_id": event.escalation_id,
                               "score": event.rating["score"]}, event.rating["language"])
        elif isinstance(event, Typing):
            if event.sender == "agent":
                bus.to_conversation(event.conversation_id, {
                    "type": "typing", "sender": "agent", "agent_name": event.agent_name})
            else:
                bus.to_agents({"type": "typing", "escalation_id": event.escalation_id,
                               "conversation_id": event.conversation_id, "sender": "customer"})
    return push


def record_metrics(event: Event) -> None:
    """The Prometheus counters of what happened (GET /metrics)."""
    if isinstance(event, ConversationStarted):
        metrics.CONVERSATIONS.inc()
    elif isinstance(event, MessageCreated) and event.message.sender != "system":
        metrics.MESSAGES.labels(event.message.sender).inc()
    elif isinstance(event, EscalationCreated):
        metrics.HANDOFFS.labels(event.escalation.reason).inc()
    elif isinstance(event, EscalationClaimed):
        metrics.WAIT_SECONDS.observe(event.escalation.wait_seconds)
    elif isinstance(event, CsatSubmitted):
        rating = event.rating
        metrics.CSAT.labels(rating["language"], rating["handled_by"], rating["reason"] or "bot_only",
                            "skipped" if rating["skipped"] else str(rating["score"])).inc()


def queue_places(hub: Hub) -> Listener:
    """Tells every waiting customer their current place (in their language's queue) and
    wait when the queue changed."""
    def push(event: Event) -> None:
        if not isinstance(event, QUEUE_CHANGES):
            return
        with hub.database.sessions() as session:
            moment = queue_moment(hub, session)  # once for the whole queue
            places = [(escalation.conversation_id,
                       escalation_info(hub, session, escalation, place, moment))
                      for place, escalation in estimates.places(session)]
        for conversation_id, info in places:
            hub.bus.to_conversation(conversation_id, {
                "type": "queue", "status": ConversationStatus.QUEUED.value,
                "escalation": info.model_dump(mode="json")})
    return push


def auto_assignment(hub: Hub) -> Listener:
    """NORDHEM_AUTO_ASSIGN: when an escalation arrives or an agent's load drops (resolved,
    erased), the next matching escalations go to online agents with room. An agent coming
    online is handled where the presence changes (api/routers/agents.py, api/routers/ws.py)."""
    def assign(event: Event) -> None:
        if isinstance(event, (EscalationCreated, EscalationResolved, ConversationErased)):
            escalations.auto_assign(hub)
    return assign


def wire(hub: Hub) -> None:
    """The service's writers and listeners, in the order they run, on the hub's sessions."""
    hub.events.attach(hub.database.sessions)
    hub.events.write_with(outbox.writer(hub.settings.webhook_url_list))
    hub.events.listen(live_updates(hub.bus))
    hub.events.listen(record_metrics)
    hub.events.listen(queue_places(hub))
    if hub.settings.auto_assign:
        hub.events.listen(auto_assignment(hub))
