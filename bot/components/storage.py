"""Saving and loading a component's fitted scikit-learn objects in Rasa's model storage."""

from __future__ import annotations

import logging
from typing import Any, Optional, Text

import joblib
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

logger = logging.getLogger(__name__)


def save(model_storage: ModelStorage, resource: Resource, filename: Text, value: Any) -> None:
    with model_storage.write_to(resource) as directory:
        joblib.dump(value, directory / filename)


def load(model_storage: ModelStorage, resource: Resource, filename: Text,
         component: Text) -> Optional[Any]:
    """The saved object, or None (logged) when the component was never trained."""
    try:
        with model_storage.read_from(resource) as directory:
            return joblib.load(directory / filename)
    except (ValueError, FileNotFoundError):
        logger.warning("%s has no trained model; it predicts nothing.", component)
        return None
