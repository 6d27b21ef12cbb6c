"""Clarify instead of guessing: one short question with buttons for the likeliest topics."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from core import vocabulary as v
from core.content import in_language, load_content, topic_labels
from core.followups import ASPECT_SEPARATOR
from core.languages import DEFAULT_LANGUAGE

MAX_TOPICS = 3
MIN_TOPIC_CONFIDENCE = 0.02
# asked about most often; offered when the message itself points nowhere
COMMON_TOPICS = ("track_order", "return_policy", "warranty_claim")


def likely_topics(
    ranking: List[Dict[Text, Any]], limit: int = MAX_TOPICS, exclude: Sequence[Text] = (),
) -> List[Text]:
    """The likeliest topics that have customer words, topped up with common ones."""
    labelled = topic_labels()
    chosen = [
        item["name"] for item in ranking
        if item.get("name") in labelled and item.get("name") not in exclude
        and item.get("confidence", 0) >= MIN_TOPIC_CONFIDENCE
    ][:limit]
    for topic in COMMON_TOPICS:
        if len(chosen) >= min(limit, 2):
            break
        if topic not in chosen and topic not in exclude:
            chosen.append(topic)
    return chosen


def clarify_buttons(topic_list: List[Text], language: Text) -> List[Dict[Text, Text]]:
    """A button per topic, then 'something else' and 'talk to a person'."""
    labels, texts = topic_labels(), load_content()
    buttons = [{"title": in_language(labels[t], language), "payload": f"/{t}"} for t in topic_list]
    buttons.append({"title": in_language(texts["button_something_else"], language),
                    "payload": f"/{v.NONE_OF_THESE_INTENT}"})
    buttons.append({"title": in_language(texts["button_person"], language),
                    "payload": f"/{v.REQUEST_HUMAN_INTENT}"})
    return buttons


class ActionClarify(Action):
    """Asks which of the likeliest topics the customer means."""

    def name(self) -> Text:
        return v.ACTION_CLARIFY

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        language = tracker.get_slot(v.SLOT_LANGUAGE) or DEFAULT_LANGUAGE
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == v.NOT_WHAT_I_MEANT_INTENT:
            # "not what I meant": the runners-up of the message that was misread, never
            # the topics just answered
            ranking, answered = misread_message(list(tracker.events))
            buttons = clarify_buttons(likely_topics(ranking, exclude=answered), language)
            dispatcher.utter_message(response="utter_clarify_correction", buttons=buttons)
            return []
        if intent == v.INFORM_ORDER_NUMBER_INTENT:
            # an order number on its own: what should happen with that order?
            buttons = clarify_buttons(list(v.ORDER_TOPICS), language)
            dispatcher.utter_message(response="utter_clarify", buttons=buttons)
            return []
        ranking = tracker.latest_message.get("intent_ranking") or []
        buttons = clarify_buttons(likely_topics(ranking), language)
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        return []


def misread_message(events: List[Dict[Text, Any]]) -> Tuple[List[Dict[Text, Any]], List[Text]]:
    """(intent ranking of the customer's message before the latest, topics answered to it)."""
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if len(users) < 2:
        return [], []
    before, latest = users[-2], users[-1]
    ranking = (events[before].get("parse_data") or {}).get("intent_ranking") or []
    answered = []
    for event in events[before + 1:latest]:
        name = (event.get("metadata") or {}).get("utter_action") or ""
        if event.get("event") == "bot" and name.startswith("utter_"):
            answered.append(name[len("utter_"):].split(ASPECT_SEPARATOR)[0])
    return ranking, answered
