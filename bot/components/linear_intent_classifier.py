"""Intent classifier: a linear SVM over character and lemma n-grams, with probabilities.

With a few dozen examples per intent and no pretrained Scandinavian embeddings, a
linear model over character n-grams (robust to typos and æ/ae/a spellings) and folded
lemmas (robust to inflection) beats Rasa's DIET on this project's data and on xSID,
and trains in seconds (see docs/benchmarks.md). Confidences are a softmax of the SVM's
scores with a temperature fitted on cross-validated scores (lowest log-loss), so that
thresholds in the dialogue policy mean something.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

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
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

from bot.components import storage
from bot.components.questions import is_question, question_spans

MODEL_FILE = "linear_intent_classifier.joblib"
# the questions of a message that asks several, each read on its own (bot/components/questions.py)
QUESTIONS_KEY = "questions"
TEMPERATURES = np.geomspace(0.02, 2.0, 60)

logger = logging.getLogger(__name__)


class LinearIntentClassifierError(Exception):
    """Training data cannot train the classifier."""


def _surface(pairs: List[tuple]) -> List[Text]:
    return [" ".join(text for text, _ in tokens) for tokens in pairs]


def _lemmas(pairs: List[tuple]) -> List[Text]:
    return [" ".join(lemma for _, lemma in tokens) for tokens in pairs]


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax of SVM scores divided by the temperature."""
    scaled = scores / temperature
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


def fit_temperature(scores: np.ndarray, truth: np.ndarray, classes: np.ndarray) -> float:
    """The temperature whose softmax gives the held-out scores the lowest log-loss."""
    index = np.searchsorted(classes, truth)
    rows = np.arange(len(truth))

    def log_loss(temperature: float) -> float:
        return float(-np.log(softmax(scores, temperature)[rows, index] + 1e-12).mean())

    return float(min(TEMPERATURES, key=log_loss))


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
            # cross-validation folds for fitting the confidence temperature (< 2: fixed)
            "calibration_folds": 3,
            # softmax temperature used when it is not fitted
            "temperature": 0.2,
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
        temperature: Optional[float] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._temperature = temperature or self._config["temperature"]

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
        labels = np.array(intents)
        svm = LinearSVC(C=self._config["C"], random_state=self._config["random_seed"])
        self._model = Pipeline([("features", self._features()), ("classifier", svm)])
        folds = min(self._config["calibration_folds"], min(counts.values()))
        if folds >= 2:
            scores = cross_val_predict(
                self._model, tokens, labels, cv=folds, method="decision_function"
            )
            self._temperature = fit_temperature(scores, labels, np.unique(labels))
        self._model.fit(tokens, labels)

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
        scores = softmax(self._model.decision_function([tokens])[0], self._temperature)
        order = np.argsort(scores)[::-1][: self._config["ranking_length"]]
        return [{"name": str(classes[i]), "confidence": float(scores[i])} for i in order]

    def questions(self, message: Message) -> List[Dict[Text, Any]]:
        """Each question of a message that asks several, read on its own (else none)."""
        text = message.get(TEXT) or ""
        spans = question_spans(text)
        if len(spans) < 2:
            return []
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        found = []
        for start, end in spans:
            part = tuple((t.text.lower(), t.lemma) for t in tokens if start <= t.start < end)
            part = part or tuple((w, w) for w in text[start:end].lower().split())
            ranking = self.rank(part)
            if ranking:
                found.append({"text": text[start:end].strip(), "intent": ranking[0]["name"],
                              "confidence": ranking[0]["confidence"],
                              "asks": is_question(text, (start, end))})
        return found

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            ranking = self.rank(message_tokens(message))
            intent = ranking[0] if ranking else {"name": None, "confidence": 0.0}
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            message.set(QUESTIONS_KEY, self.questions(message), add_to_output=True)
        return messages

    def persist(self) -> None:
        storage.save(self._model_storage, self._resource, MODEL_FILE,
                     {"model": self._model, "temperature": self._temperature})

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        saved = storage.load(model_storage, resource, MODEL_FILE, cls.__name__) or {}
        return cls(config, model_storage, resource, saved.get("model"), saved.get("temperature"))
