"""Lemma tables for nb, da and sv from spacy-lookups-data, loaded once per process.

spaCy has no trained Scandinavian pipeline here, but `spacy-lookups-data` ships lookup
tables: Danish and Swedish as word -> lemma, Norwegian as exceptions per part of speech,
which we merge (verb first, then noun, adjective, adverb) since we have no tagger.
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from importlib.resources import files
from typing import Dict, Text

_NB_POS_ORDER = ("verb", "noun", "adj", "adv")


def _read_table(name: Text) -> Dict[Text, object]:
    path = files("spacy_lookups_data") / "data" / f"{name}.json.gz"
    with gzip.open(str(path), "rt", encoding="utf-8") as handle:
        return json.load(handle)


@lru_cache(maxsize=None)
def lemma_table(language: Text) -> Dict[Text, Text]:
    """word -> lemma for one of nb, da, sv (lower-case keys)."""
    if language == "nb":
        table: Dict[Text, Text] = {}
        exceptions = _read_table("nb_lemma_exc")
        for pos in reversed(_NB_POS_ORDER):
            for word, lemmas in exceptions.get(pos, {}).items():
                if lemmas:
                    table[word] = lemmas[0]
        return table
    if language in ("da", "sv"):
        return {str(k): str(v) for k, v in _read_table(f"{language}_lemma_lookup").items()}
    raise ValueError(f"no lemma table for language {language!r}")


def lemmatize(word: Text, language: Text) -> Text:
    """The lemma of a lower-case word, or the word itself when the table lacks it."""
    return lemma_table(language).get(word, word)
