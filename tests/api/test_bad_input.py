"""Bad input gets a clear 4xx and loses nothing: each case found by probing the running
service, which used to answer it with a 500."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from api.settings import Settings
from core.signing import sign
from tests.support.api import HOOK_SECRET, auth, hook_body, post_hook, start


def test_a_page_that_is_not_a_url_is_refused(client: TestClient) -> None:
    response = client.post("/api/conversations", json={"language": "nb", "page": "http://[::1"})
    assert response.status_code == 422
    assert "page" in response.text


def test_text_with_an_unpaired_surrogate_is_refused(client: TestClient) -> None:
    conversation, customer = start(client)
    raw = b'{"text": "hei \\ud800 der"}'
    response = client.post(f"/api/conversations/{conversation}/messages", content=raw,
                           headers={**auth(customer), "Content-Type": "application/json"})
    assert response.status_code == 422
    history = client.get(f"/api/conversations/{conversation}/messages", headers=auth(customer))
    assert history.status_code == 200


def test_an_escalation_id_beyond_64_bits_is_not_found_not_an_error(client: TestClient,
                                                                   agent_token: str) -> None:
    for path in (f"/api/escalations/{2**31}", f"/api/escalations/{2**63}",
                 f"/api/escalations/{2**70}"):
        assert client.get(path, headers=auth(agent_token)).status_code in (404, 422)
    assert client.post(f"/api/escalations/{2**63}/claim",
                       headers=auth(agent_token)).status_code in (404, 422)


def test_a_history_cursor_beyond_64_bits_is_refused(client: TestClient) -> None:
    """Found by the schemathesis run (tests/api/test_fuzz.py): it used to be a 500."""
    conversation, customer = start(client)
    path = f"/api/conversations/{conversation}/messages"
    for after in (2**31, 2**63, -1):
        assert client.get(f"{path}?after={after}", headers=auth(customer)).status_code == 422
    assert client.get(f"{path}?after={2**31 - 1}", headers=auth(customer)).status_code == 200


def test_a_deeply_nested_signed_hook_is_refused(client: TestClient) -> None:
    raw = ("[" * 20_000 + "]" * 20_000).encode()  # deep, yet under the body cap
    response = client.post("/hooks/escalations", content=raw, headers={
        "Content-Type": "application/json", "X-Signature": sign(raw, HOOK_SECRET)})
    assert response.status_code == 400


def test_a_hook_sent_at_nan_or_infinity_is_refused(client: TestClient) -> None:
    conversation, _ = start(client)
    for value in ("NaN", "Infinity", "-Infinity"):
        body = json.dumps(hook_body(conversation)).replace(
            '"sent_at": ', f'"sent_at": {value}, "_was": ').encode()
        response = client.post("/hooks/escalations", content=body, headers={
            "Content-Type": "application/json", "X-Signature": sign(body, HOOK_SECRET)})
        assert response.status_code == 422, value


def test_a_non_ascii_signature_is_refused_as_unsigned(client: TestClient) -> None:
    conversation, _ = start(client)
    raw = json.dumps(hook_body(conversation)).encode()
    response = client.post("/hooks/escalations", content=raw, headers={
        "Content-Type": "application/json", "X-Signature": "sha256=æøå".encode()})
    assert response.status_code == 401
    assert post_hook(client, hook_body(conversation)).status_code == 201


def test_a_button_payload_names_an_intent_and_nothing_more(client: TestClient) -> None:
    """Entities in a payload would set slots unmasked; Rasa's own intents reset the dialogue
    (and with it the count of abusive messages)."""
    conversation, customer = start(client)
    path = f"/api/conversations/{conversation}/messages"
    for payload in ('/track_order{"order_number":"<b>x"}', "/restart", "/session_start",
                    "/back", "/Track_Order", "/" + "a" * 65, "//greet"):
        response = client.post(path, json={"payload": payload}, headers=auth(customer))
        assert response.status_code == 422, payload
    history = client.get(path, headers=auth(customer)).json()["messages"]
    assert history == []  # nothing refused was kept


def test_a_row_erased_or_taken_meanwhile_is_a_4xx_not_a_500(settings: Settings) -> None:
    """An erasure racing a request ends it with 404 (the row is gone) or 409 (a constraint
    clashed), as the security review found these paths could; here raised directly."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import ObjectDeletedError

    from api.main import create_app

    app = create_app(settings)

    @app.get("/test/erased")
    def erased() -> None:
        raise ObjectDeletedError.__new__(ObjectDeletedError)

    @app.get("/test/clashed")
    def clashed() -> None:
        raise IntegrityError("INSERT ...", {}, Exception("FOREIGN KEY constraint failed"))

    with TestClient(app) as client:
        assert client.get("/test/erased").status_code == 404
        response = client.get("/test/clashed")
        assert response.status_code == 409 and "INSERT" not in response.text
