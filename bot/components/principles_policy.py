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
  hand-off flagged as abuse.
With its first prediction after a customer message it also keeps the conversation's own
slots (language, welcomed, order number; bot/components/turn_slots.py).
It predicts nothing (all zeros) everywhere else, so Rasa's own policies decide.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

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
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.components.turn_slots import turn_slot_events
from core import vocabulary as v
from core.ambiguity import ambiguous_under
from core.principles import DEFAULT_PRINCIPLES_CONFIG

CLARIFY_ACTION = v.ACTION_CLARIFY
HANDOFF_ACTION = v.ACTION_HANDOFF
REPHRASE_ACTION = v.UTTER_ASK_REPHRASE
ASK_ORDER_ACTION = v.UTTER_ASK_ORDER_NUMBER
COMPLAINT_ACKNOWLEDGEMENT = v.UTTER_COMPLAIN
REASON_SLOT = v.SLOT_HANDOFF_REASON
OWN_ACTIONS = (CLARIFY_ACTION, HANDOFF_ACTION, REPHRASE_ACTION, ASK_ORDER_ACTION)
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

    def _decide(
        self, tracker: DialogueStateTracker, after_user: List[Text]
    ) -> tuple[Optional[Text], Optional[Text]]:
        """(action, hand-off reason) this policy insists on, or (None, None).

        `after_user` is what the bot already did since the latest customer message.
        """
        parse_data = tracker.latest_message.parse_data if tracker.latest_message else {}
        intent = (parse_data.get("intent") or {}).get("name")

        if after_user == [COMPLAINT_ACKNOWLEDGEMENT]:
            if not tracker.get_slot(self.config["order_number_slot"]):
                return ASK_ORDER_ACTION, None
            return HANDOFF_ACTION, v.HandoffReason.COMPLAINT.value
        if after_user and after_user[-1] in OWN_ACTIONS:
            return ACTION_LISTEN_NAME, None  # our question or hand-off: the customer's turn
        if after_user:
            return None, None

        previous_turns = self._bot_turns(tracker)
        if previous_turns and previous_turns[0][-1:] == [ASK_ORDER_ACTION]:
            return HANDOFF_ACTION, v.HandoffReason.COMPLAINT.value
        if intent == self.config["abuse_intent"]:
            if self.abuse_count(tracker) >= self.config["abuse_limit"]:
                return HANDOFF_ACTION, v.HandoffReason.ABUSE.value
            return None, None
        previous_bot_action = previous_turns[0][-1] if previous_turns else None
        none_of_these = intent == self.config["none_of_these_intent"]
        if none_of_these or self.is_ambiguous(parse_data, previous_bot_action):
            if self.clarifications_in_a_row(tracker) >= self.config["max_clarifications"]:
                return HANDOFF_ACTION, v.HandoffReason.CLARIFICATION_FAILED.value
            return (REPHRASE_ACTION if none_of_these else CLARIFY_ACTION), None
        return None, None

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
        slot_events = turn_slot_events(tracker) if not after_user else []
        action, reason = self._decide(tracker, after_user)
        probabilities = self._default_predictions(domain)
        if action is None:
            return self._prediction(probabilities, events=slot_events)
        probabilities[domain.index_for_action(action)] = 1.0
        optional = [SlotSet(REASON_SLOT, reason)] if reason else None
        logger.debug("PrinciplesPolicy predicts %s (reason %s)", action, reason)
        return self._prediction(probabilities, events=slot_events, optional_events=optional)

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
