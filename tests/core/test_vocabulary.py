import pytest

from core.vocabulary import (
    HandoffReason,
    Priority,
    priority_for,
    reason_for_intent,
)


def test_the_queue_serves_urgent_then_high_then_normal() -> None:
    assert sorted(Priority, key=lambda p: p.rank) == [Priority.URGENT, Priority.HIGH, Priority.NORMAL]


@pytest.mark.parametrize(("reason", "threatened", "expected"), [
    ("complaint", False, Priority.HIGH),
    ("abuse", False, Priority.HIGH),
    ("request_human", False, Priority.NORMAL),
    ("request_human", True, Priority.URGENT),
    ("abuse", True, Priority.URGENT),
])
def test_priority_of_a_handoff(reason: str, threatened: bool, expected: Priority) -> None:
    assert priority_for(reason, threatened) is expected


def test_reason_from_the_customers_intent() -> None:
    assert reason_for_intent("complain") is HandoffReason.COMPLAINT
    assert reason_for_intent("insult") is HandoffReason.ABUSE
    assert reason_for_intent("track_order") is HandoffReason.UNRESOLVED
    assert reason_for_intent(None) is HandoffReason.UNRESOLVED
