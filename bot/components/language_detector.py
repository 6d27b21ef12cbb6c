"""Detects whether a message is Norwegian Bokmål, Danish or Swedish.

The detector is a character n-gram naive Bayes classifier trained on the project's own
NLU examples, each labelled with its language through intent metadata
(`metadata: {language: nb}` in `data/nlu/<lang>/*.yml`), plus a vote from spaCy's
vocabularies (lemma lookup tables and stop words): a word that only Danish knows
("hvornår", "spørgsmål") counts for Danish. Norwegian and Danish share most
words, so short messages ("ok", "ja", "hej") are often undecidable: the detector then marks its
verdict as not clear, and the `language` slot (bot/components/turn_slots.py) keeps the
conversation's language as it was. A language hint
from the API caller (message metadata `{"language": "sv"}`) acts as a prior that a
clearly different message can still overrule. The verdict is in the parse data under
`language_detection`.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from bot.components import storage
from bot.components.lemmas import lemma_table
from core.languages import LANGUAGES

__all__ = ["DETECTION_KEY", "LANGUAGES", "LanguageDetector"]

DETECTION_KEY = "language_detection"
MODEL_FILE = "language_detector.joblib"

WORD = re.compile(r"[^\W\d_]+")

logger = logging.getLogger(__name__)


DIGITS = re.compile(r"\d+")


def without_digits(text: Text) -> Text:
    """Lower-case text without its numbers: an order number says nothing of the language,
    but its digits would be learnt from whichever language's examples happen to hold it."""
    return DIGITS.sub(" ", text.lower())


@lru_cache(maxsize=None)
def _stop_words(language: Text) -> frozenset:
    import spacy

    return frozenset(spacy.blank(language).Defaults.stop_words)


def known_words(text: Text, language: Text) -> int:
    """How many of the text's words the language's spaCy vocabulary knows."""
    table, stop_words = lemma_table(language), _stop_words(language)
    return sum(1 for word in WORD.findall(text.lower()) if word in table or word in stop_words)


class LanguageDetectorError(Exception):
    """The detector was asked to predict before it was trained."""


def example_language(message: Message) -> Optional[Text]:
    """The language a training example is labelled with, if any."""
    metadata = message.get(METADATA) or {}
    intent_metadata = metadata.get("intent") or {}
    language = intent_metadata.get("language")
    return language if language in LANGUAGES else None


def language_hint(message: Message) -> Optional[Text]:
    """The language hint the API caller passed in the message metadata, if valid."""
    metadata = message.get(METADATA) or {}
    hint = metadata.get("language") if isinstance(metadata, dict) else None
    return hint if hint in LANGUAGES else None


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True
)
class LanguageDetector(GraphComponent):
    """Adds `language_detection` (language, confidence, clear, hint) to each message."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Every key with what it does."""
        return {
            # probability the best language needs before it is emitted without a hint
            "min_confidence": 0.9,
            # prior weight of the caller's hint; the other two languages share the rest
            "hint_prior": 0.9,
            # naive Bayes smoothing
            "alpha": 0.05,
            # character n-gram range of the naive Bayes features
            "ngram_range": [1, 5],
            # weight of each word a language's vocabulary knows (0 turns the vote off)
            "lexicon_weight": 1.0,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classifier: Optional[Any] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._classifier = classifier

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls(config, model_storage, resource)

    def _new_classifier(self) -> Any:
        return make_pipeline(
            TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=tuple(self._config["ngram_range"]),
                preprocessor=without_digits,
                sublinear_tf=True,
            ),
            # uniform prior: having more Norwegian examples says nothing about a message
            MultinomialNB(alpha=self._config["alpha"], fit_prior=False),
        )

    def probabilities(self, text: Text) -> Dict[Text, float]:
        """Probability of each language for a text, before any hint."""
        if self._classifier is None:
            raise LanguageDetectorError("LanguageDetector must be trained before use")
        log_scores = self._classifier.predict_log_proba([text])[0]
        weight = self._config["lexicon_weight"]
        if weight:
            log_scores = log_scores + weight * np.array(
                [known_words(text, str(lang)) for lang in self._classifier.classes_]
            )
        scores = np.exp(log_scores - log_scores.max())
        scores = scores / scores.sum()
        return {str(lang): float(p) for lang, p in zip(self._classifier.classes_, scores, strict=False)}

    def detect(self, text: Text, hint: Optional[Text] = None) -> Dict[Text, Any]:
        """The detected language, its probability and whether it is clear enough to emit."""
        probabilities = self.probabilities(text)
        if hint:
            prior = self._config["hint_prior"]
            rest = (1.0 - prior) / (len(probabilities) - 1)
            weighted = {
                lang: p * (prior if lang == hint else rest) for lang, p in probabilities.items()
            }
            total = sum(weighted.values()) or 1.0
            probabilities = {lang: p / total for lang, p in weighted.items()}
        best = max(probabilities, key=probabilities.__getitem__)
        confidence = probabilities[best]
        return {
            "language": best,
            "confidence": round(confidence, 4),
            "words": len(WORD.findall(text)),
            # with a hint, agreeing with it is enough; overruling it needs a clear message
            "clear": best == hint or confidence >= self._config["min_confidence"],
            "hint": hint,
        }

    def train(self, training_data: TrainingData) -> Resource:
        texts, labels = [], []
        for example in training_data.intent_examples:
            language = example_language(example)
            if language:
                texts.append(example.get(TEXT))
                labels.append(language)
        if len(set(labels)) < 2:
            logger.warning(
                "LanguageDetector found fewer than two labelled languages; "
                "label intents with `metadata: {language: nb|da|sv}`."
            )
            return self._resource
        self._classifier = self._new_classifier().fit(texts, np.array(labels))
        self.persist()
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        if self._classifier is None:
            return messages
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/"):  # empty, or a button's intent payload
                continue
            detection = self.detect(text, language_hint(message))
            message.set(DETECTION_KEY, detection, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def persist(self) -> None:
        storage.save(self._model_storage, self._resource, MODEL_FILE, self._classifier)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LanguageDetector:
        classifier = storage.load(model_storage, resource, MODEL_FILE, cls.__name__)
        return cls(config, model_storage, resource, classifier)
