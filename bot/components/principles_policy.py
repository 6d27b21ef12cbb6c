"""The service principles as a dialogue policy: clarify, take ownership, set limits.

Rasa's RulePolicy answers the frequent questions. This policy sits next to it with a
higher priority and steps in only where a service principle says the rule's answer
would be wrong:

- clarify instead of guessing: a low-confidence message, two intents too close to call,
  or a broad "I have a problem" gets one clarifying question (`action_clarify`);
- never a third failed clarification: after `max_clarifications` clarifying questions in
  a row the assistant takes ownership and hands over (`action_handoff`);
- ask for the facts a hand-off needs: a complaint without an order number gets one
  question for it before the hand-off;
- calm, then a boundary: the `abuse_limit`-th rude message in a conversation ends in a
  hand-off flagged as abuse;
- hold the conversation (bot/components/conversation_state.py): look up, cancel or
  change an order with the order action and continue its questions (`action_order`),
  keep a promise when the order number comes, never ask for what the customer already
  wrote, read a short follow-up in the topic's context, answer several questions in one
  message, and offer other topics when an answer was not what the customer meant.
Right after a customer message it plans the whole turn (slot `turn_plan`) and then
follows the plan action by action. With that first prediction it also keeps the
conversation's own slots (language, welcomed, order number, topic, the promise it waits
on; bot/components/turn_slots.py). It predicts nothing (all zeros) everywhere else, so
Rasa's own policies decide.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, FrozenSet, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import (
    ACTION_EXTRACT_SLOTS,
    ACTION_LISTEN_NAME,
    ACTION_SESSION_START_NAME,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.components.conversation_state import Plan, TurnInput, TurnRules, plan_turn
from bot.components.linear_intent_classifier import QUESTIONS_KEY
from bot.components.turn_slots import turn_slot_events
from core import vocabulary as v
from core.ambiguity import ambiguous_under
from core.followups import ASPECT_SEPARATOR
from core.languages import DEFAULT_LANGUAGE
from core.principles import DEFAULT_PRINCIPLES_CONFIG

CLARIFY_ACTION = v.ACTION_CLARIFY
HANDOFF_ACTION = v.ACTION_HANDOFF
REPHRASE_ACTION = v.UTTER_ASK_REPHRASE
ASK_ORDER_ACTION = v.UTTER_ASK_ORDER_NUMBER
COMPLAINT_ACKNOWLEDGEMENT = v.UTTER_COMPLAIN
REASON_SLOT = v.SLOT_HANDOFF_REASON
ORDER_ACTION = v.ACTION_ORDER
OWN_ACTIONS = (CLARIFY_ACTION, HANDOFF_ACTION, REPHRASE_ACTION, ASK_ORDER_ACTION, ORDER_ACTION)
NOT_BOT_TURNS = (ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME, ACTION_EXTRACT_SLOTS, None)

logger = logging.getLogger(__name__)


class PrinciplesPolicyError(Exception):
    """The domain lacks an action the policy needs."""


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class PrinciplesPolicy(Policy):
    """Clarifies ambiguous messages and hands over when the bot should not go on."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Every key with what it does: core/principles.py (shared with the scorecard)."""
        return dict(DEFAULT_PRINCIPLES_CONFIG)

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Optional[Any] = None,
    ) -> None:
        config = {**self.get_default_config(), **config}
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self._answerable_topics: Optional[FrozenSet[Text]] = None

    # --- reading the tracker ---

    @staticmethod
    def _since_last_user_message(tracker: DialogueStateTracker) -> List[Text]:
        """Actions the bot ran after the latest user message, in order."""
        actions: List[Text] = []
        for event in reversed(tracker.events):
            if isinstance(event, UserUttered):
                break
            if isinstance(event, ActionExecuted) and event.action_name not in NOT_BOT_TURNS:
                actions.append(event.action_name)
        return list(reversed(actions))

    @staticmethod
    def _bot_turns(tracker: DialogueStateTracker) -> List[List[Text]]:
        """The actions of each bot turn before the latest user message, newest first."""
        turns: List[List[Text]] = []
        current: List[Text] = []
        seen_latest_user = False
        for event in reversed(tracker.applied_events()):
            if isinstance(event, UserUttered):
                if seen_latest_user and current:
                    turns.append(list(reversed(current)))
                current = []
                seen_latest_user = True
            elif (seen_latest_user and isinstance(event, ActionExecuted)
                  and event.action_name not in NOT_BOT_TURNS):
                current.append(event.action_name)
        if current:
            turns.append(list(reversed(current)))
        return turns

    def clarifications_in_a_row(self, tracker: DialogueStateTracker) -> int:
        """How many of the latest bot turns, back to back, were clarifying questions."""
        count = 0
        for turn in self._bot_turns(tracker):
            if turn and turn[-1] in (CLARIFY_ACTION, REPHRASE_ACTION):
                count += 1
            else:
                break
        return count

    def abuse_count(self, tracker: DialogueStateTracker) -> int:
        """Rude messages in the conversation, this one included."""
        return sum(
            1 for event in tracker.applied_events()
            if isinstance(event, UserUttered)
            and (event.intent or {}).get("name") == self.config["abuse_intent"]
        )

    def is_ambiguous(
        self, parse_data: Dict[Text, Any], previous_bot_action: Optional[Text] = None
    ) -> bool:
        """Whether guessing the intent would be guessing at the customer."""
        return ambiguous_under(self.config, parse_data, previous_bot_action)

    # --- deciding ---

    def _answerable(self, domain: Domain) -> FrozenSet[Text]:
        """Topics the bot answers with a response of their own (utter_<intent>)."""
        if self._answerable_topics is None:
            responses = set(domain.action_names_or_texts)
            self._answerable_topics = frozenset(
                intent for intent in domain.intents
                if f"utter_{intent}" in responses and intent not in v.NON_TOPIC_INTENTS
                and intent not in v.SMALL_TALK_INTENTS and intent != v.COMPLAINT_INTENT)
        return self._answerable_topics

    def _turn_input(
        self, tracker: DialogueStateTracker, parse_data: Dict[Text, Any], ambiguous: bool
    ) -> TurnInput:
        intent = parse_data.get("intent") or {}
        given = {entity["entity"]: entity["value"] for entity in parse_data.get("entities") or []
                 if entity.get("entity") in v.DETAIL_SLOTS}
        return TurnInput(
            text=parse_data.get("text") or "",
            intent=intent.get("name"),
            confidence=float(intent.get("confidence") or 0.0),
            language=tracker.get_slot(v.SLOT_LANGUAGE) or DEFAULT_LANGUAGE,
            ambiguous=ambiguous,
            given=given,
            known={name: tracker.get_slot(name) for name in v.DETAIL_SLOTS if tracker.get_slot(name)},
            topic=tracker.get_slot(v.SLOT_TOPIC),
            awaiting=tracker.get_slot(v.SLOT_AWAITING),
            questions=parse_data.get(QUESTIONS_KEY) or (),
            ranking=parse_data.get("intent_ranking") or (),
            order_task=tracker.get_slot(v.SLOT_ORDER_TASK),
            order_step=tracker.get_slot(v.SLOT_ORDER_STEP),
        )

    def _plan_after_message(self, tracker: DialogueStateTracker, domain: Domain) -> Plan:
        """The plan for this turn, decided once, right after the customer's message."""
        parse_data = tracker.latest_message.parse_data if tracker.latest_message else {}
        intent = (parse_data.get("intent") or {}).get("name")
        previous_turns = self._bot_turns(tracker)
        if previous_turns and previous_turns[0][-1:] == [ASK_ORDER_ACTION]:
            return Plan([HANDOFF_ACTION], v.HandoffReason.COMPLAINT.value, {v.SLOT_AWAITING: None})
        if intent == self.config["abuse_intent"]:
            if self.abuse_count(tracker) >= self.config["abuse_limit"]:
                return Plan([HANDOFF_ACTION], v.HandoffReason.ABUSE.value)
            return Plan()
        previous_bot_action = previous_turns[0][-1] if previous_turns else None
        ambiguous = self.is_ambiguous(parse_data, previous_bot_action)
        rules = TurnRules(self._answerable(domain), self.config["min_question_confidence"],
                          self.config["new_topic_confidence"], self.config["max_questions"])
        plan = plan_turn(self._turn_input(tracker, parse_data, ambiguous), rules)
        if plan.actions:
            return plan
        none_of_these = intent == self.config["none_of_these_intent"]
        if none_of_these or ambiguous:
            if self.clarifications_in_a_row(tracker) >= self.config["max_clarifications"]:
                return Plan([HANDOFF_ACTION], v.HandoffReason.CLARIFICATION_FAILED.value, plan.slots)
            return Plan([REPHRASE_ACTION if none_of_these else CLARIFY_ACTION], None, plan.slots)
        return plan

    def _next_in_turn(
        self, tracker: DialogueStateTracker, after_user: List[Text]
    ) -> tuple[Optional[Text], List[Event]]:
        """The next action of a turn already under way, or None to leave it to the rules."""
        if after_user[-1] == ORDER_ACTION and not tracker.get_slot(v.SLOT_ORDER_TASK):
            return v.UTTER_ANYTHING_ELSE, []  # an order task done, like every answer, is checked
        if after_user[-2:] == [ORDER_ACTION, v.UTTER_ANYTHING_ELSE]:
            return ACTION_LISTEN_NAME, []
        planned = tracker.get_slot(v.SLOT_PLAN) or []
        done = len(after_user)
        if planned and after_user == planned[:done]:
            if done >= len(planned):
                return ACTION_LISTEN_NAME, []
            # the turn's first reply carried the welcome; the next ones do not repeat it
            greeted = [] if tracker.get_slot(v.SLOT_WELCOMED) else [SlotSet(v.SLOT_WELCOMED, True)]
            return planned[done], greeted
        if after_user == [COMPLAINT_ACKNOWLEDGEMENT]:
            if not tracker.get_slot(self.config["order_number_slot"]):
                return ASK_ORDER_ACTION, [SlotSet(v.SLOT_AWAITING, v.HandoffReason.COMPLAINT.value)]
            return HANDOFF_ACTION, [SlotSet(REASON_SLOT, v.HandoffReason.COMPLAINT.value)]
        if ASPECT_SEPARATOR in after_user[-1]:
            return v.UTTER_ANYTHING_ELSE, []  # a follow-up answer, like every answer, is checked
        if after_user[-1] in OWN_ACTIONS:
            return ACTION_LISTEN_NAME, []  # our question or hand-off: the customer's turn
        return None, []

    def train(
        self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        for action in OWN_ACTIONS:
            if action not in domain.action_names_or_texts:
                raise PrinciplesPolicyError(f"the domain needs the action '{action}'")
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        # the conversation's own slots change with each customer message, whoever wins
        after_user = self._since_last_user_message(tracker)
        probabilities = self._default_predictions(domain)
        if after_user:
            action, optional = self._next_in_turn(tracker, after_user)
            if action is None:
                return self._prediction(probabilities)
            probabilities[domain.index_for_action(action)] = 1.0
            return self._prediction(probabilities, optional_events=optional or None)
        plan = self._plan_after_message(tracker, domain)
        events: List[Event] = [*turn_slot_events(tracker), *self._slot_changes(tracker, plan)]
        if not plan.actions:
            return self._prediction(probabilities, events=events)
        probabilities[domain.index_for_action(plan.actions[0])] = 1.0
        optional = [SlotSet(REASON_SLOT, plan.reason)] if plan.reason else None
        logger.debug("PrinciplesPolicy plans %s (reason %s)", plan.actions, plan.reason)
        return self._prediction(probabilities, events=events, optional_events=optional)

    @staticmethod
    def _slot_changes(tracker: DialogueStateTracker, plan: Plan) -> List[Event]:
        """SlotSet events for the plan's slots and the plan itself, where they change."""
        wanted = {**plan.slots, v.SLOT_PLAN: plan.actions or None}
        return [SlotSet(name, value) for name, value in wanted.items()
                if tracker.get_slot(name) != value]

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> PrinciplesPolicy:
        return cls(config, model_storage, resource, execution_context)
