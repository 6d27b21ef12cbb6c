"""Personal data is masked at the service's door: what is stored, shown to agents and put in
the helpdesk outbox never holds a valid identity or card number; order numbers are kept."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.db import Database
from api.main import create_app
from api.models import Escalation, Message, OutboxEvent
from api.settings import Settings
from tests.support.api import add_agent, auth, hook_body, make_settings, post_hook, start

FNR = "15076500565"
CARD = "4111 1111 1111 1111"


def everything_stored(settings: Settings) -> str:
    database = Database(settings.database_url)
    with database.sessions() as session:
        texts = [m.text for m in session.scalars(select(Message))]
        escalations = [repr((e.summary, e.details, e.transcript))
                       for e in session.scalars(select(Escalation))]
        outbox = [repr(o.payload) for o in session.scalars(select(OutboxEvent))]
    database.engine.dispose()
    return "\n".join(texts + escalations + outbox)


def test_customer_agent_and_hook_texts_are_masked_before_they_are_stored(database_url: str) -> None:
    settings = make_settings(database_url, webhook_urls="http://127.0.0.1:9/helpdesk",
                             webhook_secret="s", outbox_worker=False)
    with TestClient(create_app(settings)) as client:
        token = add_agent(settings, "Kari")
        conversation, customer = start(client)
        body = hook_body(conversation, summary=f"Kunden oppgir fnr {FNR}.",
                         details={"order_number": "40918273", "note": f"kort {CARD}"},
                         transcript=[{"sender": "customer", "text": f"fnr {FNR}, ordre 40918273"}])
        assert post_hook(client, body).status_code == 201
        reply = client.post(f"/api/conversations/{conversation}/messages",
                            json={"text": f"kortet mitt er {CARD} og ordre 40918273"},
                            headers=auth(customer))
        assert reply.status_code == 200
        [item] = client.get("/api/escalations", headers=auth(token)).json()
        client.post(f"/api/escalations/{item['id']}/claim", headers=auth(token))
        client.post(f"/api/escalations/{item['id']}/messages",
                    json={"text": f"Takk, jeg ser fnr {FNR}."}, headers=auth(token))
        detail = client.get(f"/api/escalations/{item['id']}", headers=auth(token)).json()
    stored = everything_stored(settings)
    for secret in (FNR, CARD, CARD.replace(" ", "")):
        assert secret not in stored
        assert secret not in repr(detail)
    assert "40918273" in stored and "40918273" in repr(detail)
    assert "kortet mitt er **** **** **** **** og ordre 40918273" in stored
