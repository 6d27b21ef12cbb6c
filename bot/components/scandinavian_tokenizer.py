"""Tokenizer for Norwegian, Danish and Swedish customer messages.

Customers write the same word many ways: "på", "paa", "pa"; "købe", "koebe", "kobe";
"ändra", "aendra", "andra". The tokenizer keeps each token's offsets in the original
text (entities need them) but gives featurizers a normalised form: lower-case, lemma
from spaCy's lookup tables in the message's language, and Scandinavian letters folded
to plain vowels so that all spellings meet.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

import spacy
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.components.language_detector import (
    DETECTION_KEY,
    LANGUAGES,
    example_language,
    language_hint,
)
from bot.components.lemmas import lemma_table, lemmatize

_LETTER_FOLDS = str.maketrans({"æ": "a", "ä": "a", "å": "a", "ø": "o", "ö": "o", "é": "e"})
_DIGRAPHS = re.compile(r"aa|ae|oe")
_DIGRAPH_FOLDS = {"aa": "a", "ae": "a", "oe": "o"}
_SIMPLE_TOKEN = re.compile(r"[\w@.+\-/]+", re.UNICODE)


def fold_letters(word: Text) -> Text:
    """Fold æøåäö and their ascii spellings (ae, oe, aa) to plain a and o."""
    folded = word.lower().translate(_LETTER_FOLDS)
    return _DIGRAPHS.sub(lambda match: _DIGRAPH_FOLDS[match.group()], folded)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class ScandinavianTokenizer(Tokenizer):
    """Splits with spaCy's rules for the message's language and adds folded lemmas."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Every key with what it does."""
        return {
            # split with spaCy's blank nb/da/sv tokenizer rules (else a simple regex)
            "use_spacy": True,
            # replace each token's lemma with the lookup-table lemma of its language
            "lemmatize": True,
            # fold æøåäö and ae/oe/aa to plain vowels in text and lemma
            "fold_letters": True,
            # language used when a message carries neither label, hint nor detection
            "default_language": "nb",
            # inherited from Rasa's tokenizers
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__({**self.get_default_config(), **config})
        self._nlp = (
            {language: spacy.blank(language) for language in LANGUAGES}
            if self._config["use_spacy"]
            else {}
        )
        if self._config["lemmatize"]:  # load the tables now, not on the first message
            for language in LANGUAGES:
                lemma_table(language)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ScandinavianTokenizer:
        return cls(config)

    def message_language(self, message: Message) -> Text:
        """Training label, else the detector's verdict, else the caller's hint."""
        detection: Optional[Dict[Text, Any]] = message.get(DETECTION_KEY)
        return (
            example_language(message)
            or (detection or {}).get("language")
            or language_hint(message)
            or self._config["default_language"]
        )

    def _split(self, text: Text, language: Text) -> List[Token]:
        if self._nlp:
            return [
                Token(t.text, t.idx)
                for t in self._nlp[language].tokenizer(text)
                if not t.is_space and not t.is_punct
            ]
        return [Token(m.group(), m.start()) for m in _SIMPLE_TOKEN.finditer(text)]

    def _normalise(self, word: Text, language: Text) -> Text:
        normalised = word.lower()
        if self._config["lemmatize"]:
            normalised = lemmatize(normalised, language)
        if self._config["fold_letters"]:
            normalised = fold_letters(normalised)
        return normalised

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute) or ""
        language = self.message_language(message)
        tokens = self._split(text, language) or [Token(text, 0)]
        for token in tokens:
            token.lemma = self._normalise(token.text, language)
        return self._apply_token_pattern(tokens)
