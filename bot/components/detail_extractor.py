"""Extracts order numbers, e-mail, phone numbers, postcodes, products and sizes as entities.

Pattern-based on purpose: these details have fixed shapes, and learning them from a
few hundred examples would be slower and less reliable. Identity and card numbers are
found too, but only so they can be masked; they are never emitted as entities.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.patterns import find_details

EXTRACTOR_NAME = "DetailExtractor"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class DetailExtractor(GraphComponent):
    """Adds entities for the details listed in `entities` (config)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Every key with what it does."""
        return {
            # which detail kinds become entities
            "entities": ["order_number", "email", "phone", "postcode", "product", "size"],
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = {**self.get_default_config(), **config}
        self._wanted = set(self._config["entities"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DetailExtractor:
        return cls(config)

    def extract(self, text: Text) -> List[Dict[Text, Any]]:
        """Entity dicts in Rasa's format for the wanted details in the text."""
        return [
            {
                "entity": item.entity,
                "value": item.value,
                "start": item.start,
                "end": item.end,
                "extractor": EXTRACTOR_NAME,
            }
            for item in find_details(text)
            if item.entity in self._wanted
        ]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            found = self.extract(message.get(TEXT) or "")
            if found:
                message.set(ENTITIES, [*message.get(ENTITIES, []), *found], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
