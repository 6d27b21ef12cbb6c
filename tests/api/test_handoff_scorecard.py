"""The hand-off's principles are measured from what happened, never set by hand."""

from __future__ import annotations

from api.models import Escalation, Message
from api.services.conversations import measure_handoff
from core.content import load_content

WELCOME = load_content()["welcome_prefix"]["nb"]


def escalation(card: dict | None = None, summary: str = "Kunden vil snakke med en person.") -> Escalation:
    return Escalation(reference="NH-ABC234", conversation_id="c", language="nb",
                      reason="request_human", summary=summary,
                      transcript=[{"sender": "customer", "text": "menneske"}],
                      scorecard=card if card is not None else {"welcomed": None,
                                                               "handoff_owned_with_summary": None,
                                                               "expectations_set": None})


def said(*texts: str) -> list[Message]:
    return [Message(conversation_id="c", sender="bot", text=text) for text in texts]


def test_a_reply_with_the_reference_sets_expectations_and_welcome_is_measured() -> None:
    item = escalation()
    measure_handoff(item, said(f"{WELCOME} Selvsagt!", "Du er nummer 2 i køen. Saksnummer NH-ABC234."))
    assert item.scorecard == {"welcomed": True, "handed_off": True, "resolved_without_handoff": False,
                              "handoff_owned_with_summary": True, "expectations_set": True,
                              "score": 1.0}


def test_a_reply_that_says_nothing_about_what_happens_next_does_not_set_expectations() -> None:
    item = escalation()
    measure_handoff(item, said("Selvsagt! En kollega tar over."))
    assert item.scorecard["expectations_set"] is False
    assert item.scorecard["welcomed"] is False
    assert item.scorecard["score"] == round(1 / 3, 3)


def test_an_escalation_without_a_summary_is_not_owned() -> None:
    item = escalation(summary="")
    measure_handoff(item, said("Saksnummer NH-ABC234."))
    assert item.scorecard["handoff_owned_with_summary"] is False


def test_a_measured_card_is_not_measured_again() -> None:
    card = {"welcomed": True, "handoff_owned_with_summary": True, "expectations_set": False,
            "score": 0.667}
    item = escalation(card=dict(card))
    measure_handoff(item, said("Saksnummer NH-ABC234."))
    assert item.scorecard == card
