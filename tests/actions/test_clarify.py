"""The clarifying question: buttons for the likeliest topics in customer words."""

from __future__ import annotations

import asyncio

from rasa_sdk.executor import CollectingDispatcher

from actions.clarify import COMMON_TOPICS, ActionClarify, clarify_buttons, likely_topics
from core.content import load_content, topic_labels
from tests.actions.conftest import tracker, user_event


def test_the_likeliest_labelled_topics_come_first_and_unlabelled_are_skipped() -> None:
    ranking = [{"name": "return_policy", "confidence": 0.41},
               {"name": "greet", "confidence": 0.30},  # small talk has no button words
               {"name": "exchange_item", "confidence": 0.22},
               {"name": "warranty_claim", "confidence": 0.01}]  # below the floor
    assert likely_topics(ranking) == ["return_policy", "exchange_item"]


def test_a_message_pointing_nowhere_gets_the_common_topics() -> None:
    assert likely_topics([{"name": "greet", "confidence": 0.9}]) == list(COMMON_TOPICS[:2])


def test_buttons_are_in_the_customers_language_with_something_else_and_a_person() -> None:
    buttons = clarify_buttons(["gift_card"], "da")
    texts = load_content()
    assert buttons == [
        {"title": topic_labels()["gift_card"]["da"], "payload": "/gift_card"},
        {"title": texts["button_something_else"]["da"], "payload": "/something_else"},
        {"title": texts["button_person"]["da"], "payload": "/request_human"},
    ]


def test_the_action_asks_one_question_with_the_buttons() -> None:
    ranking = [{"name": "refund_status", "confidence": 0.35}, {"name": "return_policy", "confidence": 0.33}]
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionClarify().run(
        dispatcher, tracker([user_event("pengene?", "refund_status", 0.35)], {"language": "sv"},
                            ranking=ranking), {}))
    assert events == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_clarify"
    assert [b["payload"] for b in message["buttons"]] == [
        "/refund_status", "/return_policy", "/something_else", "/request_human"]
    assert message["buttons"][0]["title"] == topic_labels()["refund_status"]["sv"]
