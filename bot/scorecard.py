"""The principles scorecard of a conversation, computed from its tracker events.

Per conversation: was the customer welcomed, was every ambiguous message clarified
rather than guessed, did every answer get a "did that help / anything else" check,
was a hand-off owned (escalation created with summary and transcript, customer given
a reference) and did it set expectations (queue place and wait, or next opening), and
was the conversation resolved without a hand-off.

    python -m bot.scorecard --db .rasa/trackers.db             # every conversation + total
    python -m bot.scorecard --db .rasa/trackers.db --json ID   # one conversation as JSON

The events are read from Rasa's SQL tracker store (table `events`), SQLite or PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Text

import yaml

from bot.components.ambiguity import ambiguous_under
from bot.content import CONTENT_DIR, load_content, read_texts

ROOT = Path(__file__).resolve().parents[1]
CLARIFYING_ACTIONS = {"action_clarify", "utter_ask_rephrase"}
HANDOFF_ACTION = "action_handoff"
EXPECTATION_RESPONSES = {
    "utter_handoff_queue", "utter_handoff_closed",
    "utter_handoff_no_numbers", "utter_handoff_no_numbers_closed",
}
CHECK_RESPONSE = "utter_anything_else"
# the principles a conversation is judged on (each True, False or None: did not apply)
PRINCIPLE_FIELDS = ("welcomed", "clarified_when_ambiguous", "checked_after_answer",
                    "handoff_owned_with_summary", "expectations_set")
SMALL_TALK = {"greet", "goodbye", "thank", "bot_challenge"}


@lru_cache(maxsize=1)
def answer_responses() -> frozenset:
    """The responses that answer a frequent question (content/faq.yml, not small talk)."""
    faq = read_texts(CONTENT_DIR / "faq.yml")
    return frozenset(f"utter_{key}" for key in faq if key not in SMALL_TALK)


def policy_config(path: Path = ROOT / "bot" / "config.yml") -> Dict[Text, Any]:
    """PrinciplesPolicy's settings, defaults filled in, so the card judges as the bot does."""
    from bot.components.principles_policy import PrinciplesPolicy

    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    configured = next((p for p in config.get("policies", [])
                       if p.get("name", "").endswith("PrinciplesPolicy")), {})
    return {**PrinciplesPolicy.get_default_config(),
            **{k: v for k, v in configured.items() if k != "name"}}


@dataclass(frozen=True)
class Scorecard:
    """One conversation against the principles; None where a principle did not apply."""

    conversation_id: Text
    customer_messages: int
    welcomed: Optional[bool]
    clarified_when_ambiguous: Optional[bool]
    checked_after_answer: Optional[bool]
    handed_off: bool
    handoff_owned_with_summary: Optional[bool]
    expectations_set: Optional[bool]
    resolved_without_handoff: Optional[bool]

    @property
    def score(self) -> Optional[float]:
        """Share of the principles that applied and were met."""
        verdicts = [getattr(self, name) for name in PRINCIPLE_FIELDS]
        applied = [v for v in verdicts if v is not None]
        return round(sum(applied) / len(applied), 3) if applied else None


def _welcome_texts() -> List[Text]:
    texts = load_content()
    return [*texts["welcome_prefix"].values(), *texts["greet"].values()]


def _bot_actions_after(events: List[Dict[Text, Any]], start: int) -> List[Text]:
    """Names of the bot's actions and responses after event `start`, up to the next user message."""
    names: List[Text] = []
    for event in events[start + 1:]:
        if event.get("event") == "user":
            break
        if event.get("event") == "action" and event.get("name") != "action_listen":
            names.append(event["name"])
        elif event.get("event") == "bot":
            utter = (event.get("metadata") or {}).get("utter_action")
            if utter:
                names.append(utter)
    return names


def _previous_bot_action(events: List[Dict[Text, Any]], index: int) -> Optional[Text]:
    for event in reversed(events[:index]):
        if event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action"):
            return event["metadata"]["utter_action"]
        if event.get("event") == "action" and event.get("name") not in ("action_listen", None):
            return event["name"]
    return None


def score_conversation(
    conversation_id: Text, events: List[Dict[Text, Any]],
    config: Optional[Dict[Text, Any]] = None,
) -> Scorecard:
    """The scorecard of one conversation from its events (Rasa's event dicts)."""
    config = config or policy_config()
    user_indexes = [i for i, e in enumerate(events) if e.get("event") == "user"]
    bot_texts = [e.get("text") or "" for e in events if e.get("event") == "bot"]
    welcomed = (any(bot_texts[0].startswith(w) for w in _welcome_texts())
                if bot_texts else None)

    ambiguous_turns = [i for i in user_indexes
                       if ambiguous_under(config, events[i].get("parse_data") or {},
                                          _previous_bot_action(events, i))]
    clarified = None
    if ambiguous_turns:
        clarified = all(
            set(_bot_actions_after(events, i)) & (CLARIFYING_ACTIONS | {HANDOFF_ACTION})
            for i in ambiguous_turns
        )

    answers = answer_responses()
    answer_turns = [names for i in user_indexes
                    if (names := _bot_actions_after(events, i)) and set(names) & answers]
    checked = all(CHECK_RESPONSE in names for names in answer_turns) if answer_turns else None

    handoff_at = [i for i, e in enumerate(events)
                  if e.get("event") == "action" and e.get("name") == HANDOFF_ACTION]
    handed_off = bool(handoff_at)
    owned = expectations = None
    if handed_off:
        after = events[handoff_at[-1] + 1:]
        owned = any(e.get("event") == "slot" and e.get("name") == "handoff_reference"
                    and e.get("value") for e in after)
        expectations = any((e.get("metadata") or {}).get("utter_action") in EXPECTATION_RESPONSES
                           for e in after if e.get("event") == "bot")
    resolved = (not handed_off) if answer_turns or handed_off else None
    return Scorecard(conversation_id, len(user_indexes), welcomed, clarified, checked,
                     handed_off, owned, expectations, resolved)


def aggregate(cards: Iterable[Scorecard]) -> Dict[Text, Any]:
    """Share of conversations meeting each principle (over those where it applied)."""
    cards = list(cards)
    summary: Dict[Text, Any] = {"conversations": len(cards)}
    for field in (*PRINCIPLE_FIELDS, "resolved_without_handoff"):
        applied = [getattr(c, field) for c in cards if getattr(c, field) is not None]
        summary[field] = round(sum(applied) / len(applied), 3) if applied else None
    scores = [c.score for c in cards if c.score is not None]
    summary["mean_score"] = round(sum(scores) / len(scores), 3) if scores else None
    return summary


def read_tracker_store(url: Text) -> Dict[Text, List[Dict[Text, Any]]]:
    """Events per conversation from Rasa's SQL tracker store (SQLAlchemy URL or SQLite path)."""
    import sqlalchemy

    if "://" not in url:
        if not Path(url).is_file():
            raise FileNotFoundError(f"no such file: {url}")
        url = f"sqlite:///{Path(url).resolve()}"
    engine = sqlalchemy.create_engine(url)
    conversations: Dict[Text, List[Dict[Text, Any]]] = {}
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text(
            "SELECT sender_id, data FROM events ORDER BY id"))
        for sender_id, data in rows:
            conversations.setdefault(sender_id, []).append(json.loads(data))
    return conversations


def main(argv: Optional[Sequence[Text]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=".rasa/trackers.db",
                        help="Rasa's SQL tracker store: SQLite file or SQLAlchemy URL")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("conversation", nargs="?", help="only this conversation id")
    args = parser.parse_args(argv)
    try:
        conversations = read_tracker_store(args.db)
    except Exception as error:  # noqa: BLE001 - any store problem is reported the same way
        print(f"cannot read the tracker store {args.db}: {error}", file=sys.stderr)
        return 2
    if args.conversation:
        if args.conversation not in conversations:
            print(f"no conversation {args.conversation!r} in {args.db}", file=sys.stderr)
            return 2
        conversations = {args.conversation: conversations[args.conversation]}
    config = policy_config()
    cards = [score_conversation(cid, events, config) for cid, events in conversations.items()]
    if args.json:
        print(json.dumps({"conversations": [{**asdict(c), "score": c.score} for c in cards],
                          "total": aggregate(cards)}, indent=2, ensure_ascii=False))
        return 0
    print(f"{'conversation':<24} msgs welcomed clarified checked handoff owned expect score")
    mark = {True: "yes", False: "NO", None: "-"}
    for c in cards:
        print(f"{c.conversation_id[:24]:<24} {c.customer_messages:>4} {mark[c.welcomed]:>8} "
              f"{mark[c.clarified_when_ambiguous]:>9} {mark[c.checked_after_answer]:>7} "
              f"{mark[c.handed_off]:>7} {mark[c.handoff_owned_with_summary]:>5} "
              f"{mark[c.expectations_set]:>6} {c.score if c.score is not None else '-':>5}")
    print("total:", json.dumps(aggregate(cards), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
