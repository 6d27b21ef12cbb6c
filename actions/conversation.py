"""What the bot hands over: transcript, topics, details and a short summary.

Everything is built from the tracker's events so that the agent never has to ask the
customer again. Identity and card numbers are masked before anything leaves the bot.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from core.personal_data import mask
from core.scorecard import answer_responses
from core.vocabulary import DETAIL_SLOTS, NON_TOPIC_INTENTS, ORDER_TOPICS

THREAT_PATTERNS = re.compile(
    r"(?i)\b(drep\w*|dreb\w*|döda\w*|slå\s+(deg|dig|ihjel|ihjäl)|banke\s+deg|tæske\w*|"
    r"spöa\w*|bombe\w*|bomb\w*|skyte\w*|skyde\w*|skjuta\w*|"
    r"vet\s+hvor\s+(du|dere)\s+bor|ved\s+hvor\s+(du|i)\s+bor|vet\s+var\s+(du|ni)\s+bor|"
    r"kniv\w*|brenne\s+ned|brænde\s+ned|bränna\s+ner)"
)


def transcript(events: List[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    """Who said what, in order, with personal numbers masked."""
    lines: List[Dict[Text, Any]] = []
    for event in events:
        if event.get("event") == "user" and event.get("text"):
            text = event["text"]
            if text.startswith("/"):  # a button: show what the customer chose
                text = f"[{text[1:].split('{')[0]}]"
            lines.append({"sender": "customer", "text": mask(text),
                          "timestamp": event.get("timestamp")})
        elif event.get("event") == "bot" and event.get("text"):
            lines.append({"sender": "bot", "text": event["text"],
                          "timestamp": event.get("timestamp")})
    return lines


def topics(events: List[Dict[Text, Any]]) -> List[Text]:
    """The shop topics (intents) the customer raised, first mention first."""
    seen: List[Text] = []
    for event in events:
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent and intent not in NON_TOPIC_INTENTS and intent not in seen:
            seen.append(intent)
    return seen


def answered(events: List[Dict[Text, Any]]) -> List[Text]:
    """The shop topics the bot answered with their frequent-question answer (or one of its
    aspects, `utter_<topic>__<aspect>`), first answer first, so that the agent does not
    repeat them. An order topic's answer only asks for the order number (what the bot then
    found is in the order's details), so it is not an answer here."""
    seen: List[Text] = []
    for event in events:
        said = _response(event)
        if not said:
            continue
        topic = said[len("utter_"):].split("__")[0]
        if f"utter_{topic}" in answer_responses() and topic not in ORDER_TOPICS \
                and topic not in seen:
            seen.append(topic)
    return seen


def _response(event: Dict[Text, Any]) -> Optional[Text]:
    """The response (`utter_...`) a bot event says, if any."""
    if event.get("event") != "bot":
        return None
    name = str((event.get("metadata") or {}).get("utter_action") or "")
    return name if name.startswith("utter_") else None


def details(slots: Dict[Text, Any]) -> Dict[Text, Any]:
    """The facts the customer already gave (order number, e-mail, phone)."""
    return {name: slots[name] for name in DETAIL_SLOTS if slots.get(name)}


def threatened(events: List[Dict[Text, Any]]) -> bool:
    """Whether any customer message reads as a threat of harm."""
    return any(
        event.get("event") == "user" and THREAT_PATTERNS.search(event.get("text") or "")
        for event in events
    )


def summary(
    language: Optional[Text], reason: Text, topic_list: List[Text],
    facts: Dict[Text, Any], last_message: Optional[Text],
) -> Text:
    """One or two lines an agent reads before answering."""
    parts = [f"Customer writes {language or 'nb'}; hand-off because: {reason.replace('_', ' ')}."]
    if topic_list:
        parts.append("Topics: " + ", ".join(t.replace("_", " ") for t in topic_list) + ".")
    if facts:
        parts.append("Details: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in facts.items()) + ".")
    if last_message:
        parts.append(f'Last message: "{mask(last_message)[:200]}"')
    return " ".join(parts)
