"""Intent classifier: a linear SVM over character and lemma n-grams, with probabilities.

With a few dozen examples per intent and no pretrained Scandinavian embeddings, a
linear model over character n-grams (robust to typos and æ/ae/a spellings) and folded
lemmas (robust to inflection) beats Rasa's DIET on this project's data and on xSID,
and trains in seconds (see docs/benchmarks.md). Confidences come from a sigmoid
calibration fitted by cross-validation, so thresholds in the dialogue policy mean
something.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

MODEL_FILE = "linear_intent_classifier.joblib"

logger = logging.getLogger(__name__)


class LinearIntentClassifierError(Exception):
    """Training data cannot train the classifier."""


def _surface(pairs: List[tuple]) -> List[Text]:
    return [" ".join(text for text, _ in tokens) for tokens in pairs]


def _lemmas(pairs: List[tuple]) -> List[Text]:
    return [" ".join(lemma for _, lemma in tokens) for tokens in pairs]


def message_tokens(message: Message) -> tuple:
    """(lower-case text, normalised lemma) of each token of the message's text."""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    if not tokens:
        text = (message.get(TEXT) or "").lower()
        return tuple((word, word) for word in text.split())
    return tuple((token.text.lower(), token.lemma) for token in tokens)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Predicts the intent and a ranking of the likeliest intents."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Every key with what it does."""
        return {
            # character n-gram range over the lower-case surface text
            "char_ngram_range": [1, 4],
            # word n-gram range over the normalised lemmas (0 turns them off)
            "lemma_ngram_range": [1, 2],
            # SVM regularisation: higher fits the training data more closely
            "C": 1.0,
            # cross-validation folds for the probability calibration
            "calibration_folds": 3,
            # how many intents the ranking lists
            "ranking_length": 10,
            # random seed for reproducible training
            "random_seed": 42,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[Pipeline] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def _features(self) -> FeatureUnion:
        parts = [
            (
                "chars",
                Pipeline(
                    [
                        ("surface", FunctionTransformer(_surface)),
                        (
                            "tfidf",
                            TfidfVectorizer(
                                analyzer="char_wb",
                                ngram_range=tuple(self._config["char_ngram_range"]),
                                sublinear_tf=True,
                            ),
                        ),
                    ]
                ),
            )
        ]
        low, high = self._config["lemma_ngram_range"]
        if high > 0:
            parts.append(
                (
                    "lemmas",
                    Pipeline(
                        [
                            ("lemmas", FunctionTransformer(_lemmas)),
                            (
                                "tfidf",
                                TfidfVectorizer(
                                    analyzer="word",
                                    ngram_range=(low, high),
                                    token_pattern=r"\S+",
                                    sublinear_tf=True,
                                ),
                            ),
                        ]
                    ),
                )
            )
        return FeatureUnion(parts)

    def fit_examples(self, tokens: List[tuple], intents: List[Text]) -> None:
        """Fit on token tuples (see `message_tokens`) and their intent names."""
        counts = {intent: intents.count(intent) for intent in set(intents)}
        if len(counts) < 2:
            raise LinearIntentClassifierError("need examples of at least two intents")
        folds = min(self._config["calibration_folds"], min(counts.values()))
        svm = LinearSVC(C=self._config["C"], random_state=self._config["random_seed"])
        classifier = (
            CalibratedClassifierCV(svm, cv=folds, method="sigmoid") if folds >= 2 else svm
        )
        self._model = Pipeline([("features", self._features()), ("classifier", classifier)])
        self._model.fit(tokens, np.array(intents))

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(INTENT)]
        if not examples:
            logger.warning("LinearIntentClassifier has no intent examples to train on.")
            return self._resource
        self.fit_examples([message_tokens(m) for m in examples], [m.get(INTENT) for m in examples])
        self.persist()
        return self._resource

    def rank(self, tokens: tuple) -> List[Dict[Text, Any]]:
        """Intents with confidences, most likely first."""
        if self._model is None:
            return []
        classes = self._model.classes_
        if hasattr(self._model, "predict_proba"):
            scores = self._model.predict_proba([tokens])[0]
        else:
            decision = self._model.decision_function([tokens])[0]
            scores = np.exp(decision - decision.max())
            scores = scores / scores.sum()
        order = np.argsort(scores)[::-1][: self._config["ranking_length"]]
        return [{"name": str(classes[i]), "confidence": float(scores[i])} for i in order]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            ranking = self.rank(message_tokens(message))
            intent = ranking[0] if ranking else {"name": None, "confidence": 0.0}
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self._model, directory / MODEL_FILE)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        model = None
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("LinearIntentClassifier has no trained model; it predicts nothing.")
        return cls(config, model_storage, resource, model)
