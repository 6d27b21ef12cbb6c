"""`make bench-nlu`: the project's NLU pipeline against two baselines, in one run.

1. xSID (../shared/benchmarks/xsid, real data nobody here wrote): every system trains on
   the `valid` file of one language (Norwegian: Bokmål rows only) and is scored on that
   language's `test` file; the Norwegian dialect rows (V, N, T) are a robustness set.
   Systems: Rasa's default NLU pipeline (DIET), a TF-IDF (char 1-4 + word) linear SVM,
   and this project's pipeline (bot/config.yml) with ablations of its spaCy parts.
2. The project's own data: stratified 5-fold cross-validated intent macro-F1 per language.
3. Language detection: how often the detector picks the wrong language on xSID test
   sentences and on our held-out customer messages.
Never trains or tunes on test files.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Text, Tuple

import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline, make_union
from sklearn.svm import LinearSVC

from core.languages import LANGUAGES
from tools.xsid import Utterance, load_split

ROOT = Path(__file__).resolve().parents[1]
DIALECTS = {"V": "west", "N": "north", "T": "trøndelag"}
XSID_LANGUAGES = (("da", "da", None), ("nb", "no", {"B"}))
RASA_DEFAULT_PIPELINE = [
    {"name": "WhitespaceTokenizer"},
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
    {"name": "DIETClassifier", "epochs": 100, "constrain_similarities": True},
]

Predictor = Callable[[Sequence[Text]], List[Text]]
logging.getLogger("rasa").setLevel(logging.ERROR)


def project_pipeline(language: Text = "nb", **overrides: Dict) -> List[Dict]:
    """bot/config.yml's pipeline, with per-component overrides by component class name.

    A single-language training set gives the language detector nothing to learn, so the
    tokenizer is told the language directly (as an API caller's hint would).
    """
    config = yaml.safe_load((ROOT / "bot" / "config.yml").read_text(encoding="utf-8"))
    pipeline = copy.deepcopy(config["pipeline"])
    for component in pipeline:
        short = component["name"].rsplit(".", 1)[-1]
        if short == "ScandinavianTokenizer":
            component["default_language"] = language
        component.update(overrides.get(short, {}))
    return pipeline


def rasa_intent(name: Text) -> Text:
    """xSID names like `alarm/set_alarm`; in Rasa a slash marks a retrieval intent."""
    return name.replace("/", "__")


def write_rasa_nlu(rows: Sequence[Utterance], language: Text, path: Path) -> None:
    by_intent: Dict[Text, List[Text]] = {}
    for row in rows:
        by_intent.setdefault(rasa_intent(row.intent), []).append(row.text)
    nlu = [
        {"intent": intent, "metadata": {"language": language},
         "examples": "".join(f"- {text}\n" for text in texts)}
        for intent, texts in by_intent.items()
    ]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True))


def train_rasa(pipeline: List[Dict], rows: Sequence[Utterance], language: Text) -> Predictor:
    """Train a real Rasa NLU model on rows; return a function that predicts intents."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    workdir = Path(tempfile.mkdtemp(prefix="bench-nlu-"))
    write_rasa_nlu(rows, language, workdir / "nlu.yml")
    config = {"recipe": "default.v1", "language": language, "pipeline": pipeline,
              "assistant_id": "bench"}
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    (workdir / "domain.yml").write_text(yaml.safe_dump(
        {"version": "3.1", "intents": sorted({rasa_intent(r.intent) for r in rows})}))
    model = train_nlu(str(workdir / "config.yml"), str(workdir / "nlu.yml"),
                      str(workdir / "models"), domain=str(workdir / "domain.yml"))
    agent = Agent.load(model)

    def predict(texts: Sequence[Text]) -> List[Text]:
        async def parse_all() -> List[Text]:
            names = [(await agent.parse_message(t))["intent"]["name"] for t in texts]
            return [(name or "").replace("__", "/") for name in names]
        return asyncio.run(parse_all())

    return predict


def train_tfidf_svm(rows: Sequence[Utterance]) -> Predictor:
    model = make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
            TfidfVectorizer(analyzer="word", sublinear_tf=True),
        ),
        LinearSVC(),
    )
    model.fit([r.text for r in rows], [r.intent for r in rows])
    return lambda texts: list(model.predict(list(texts)))


def score(predict: Predictor, rows: Sequence[Utterance]) -> Tuple[float, float]:
    truth = [r.intent for r in rows]
    predicted = predict([r.text for r in rows])
    return accuracy_score(truth, predicted), f1_score(truth, predicted, average="macro")


def xsid_table() -> List[Tuple]:
    systems = {
        "Rasa default (DIET)": lambda rows, lang: train_rasa(RASA_DEFAULT_PIPELINE, rows, lang),
        "TF-IDF char+word SVM": lambda rows, lang: train_tfidf_svm(rows),
        "project pipeline": lambda rows, lang: train_rasa(project_pipeline(lang), rows, lang),
        "  - without spaCy tokenizer": lambda rows, lang: train_rasa(
            project_pipeline(lang, ScandinavianTokenizer={"use_spacy": False}), rows, lang),
        "  - without lemmas": lambda rows, lang: train_rasa(
            project_pipeline(lang, ScandinavianTokenizer={"lemmatize": False}), rows, lang),
        "  - without letter folding": lambda rows, lang: train_rasa(
            project_pipeline(lang, ScandinavianTokenizer={"fold_letters": False}), rows, lang),
        "  - without lemma n-grams": lambda rows, lang: train_rasa(
            project_pipeline(lang, LinearIntentClassifier={"lemma_ngram_range": [0, 0]}), rows, lang),
    }
    results = []
    test_sets = {
        "da": load_split("da", "test"),
        "nb": load_split("no", "test", {"B"}),
        "nb dialects": load_split("no", "test", set(DIALECTS)),
    }
    train_sets = {"da": load_split("da", "valid"), "nb": load_split("no", "valid", {"B"})}
    for name, make in systems.items():
        row = [name]
        started = time.perf_counter()
        for language in ("da", "nb"):
            predict = make(train_sets[language], language)
            row.extend(score(predict, test_sets[language]))
            if language == "nb":
                row.extend(score(predict, test_sets["nb dialects"]))
        row.append(time.perf_counter() - started)
        results.append(tuple(row))
        print(f"  {name}: done in {row[-1]:.0f} s", flush=True)
    return results


def own_data_cv(folds: int = 5) -> Dict[Text, Tuple[float, float, int]]:
    """Cross-validated macro-F1 of the project pipeline's classifier per language."""
    from rasa.shared.nlu.training_data.loading import load_data

    from bot.components.linear_intent_classifier import LinearIntentClassifier
    from bot.components.scandinavian_tokenizer import ScandinavianTokenizer

    config = {c["name"].rsplit(".", 1)[-1]: c for c in project_pipeline()}
    tokenizer = ScandinavianTokenizer(
        {k: v for k, v in config["ScandinavianTokenizer"].items() if k != "name"})
    classifier_config = {k: v for k, v in config["LinearIntentClassifier"].items() if k != "name"}
    results = {}
    for language in LANGUAGES:
        data = load_data(str(ROOT / "data" / "nlu" / language))
        examples = data.intent_examples
        tokens = [tuple((t.text.lower(), t.lemma) for t in tokenizer.tokenize(m, "text"))
                  for m in examples]
        intents = [m.get("intent") for m in examples]
        truth, predicted = [], []
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
        for train_idx, test_idx in splitter.split(tokens, intents):
            classifier = LinearIntentClassifier(classifier_config, None, None)
            classifier.fit_examples([tokens[i] for i in train_idx], [intents[i] for i in train_idx])
            truth.extend(intents[i] for i in test_idx)
            predicted.extend(classifier.rank(tokens[i])[0]["name"] for i in test_idx)
        results[language] = (accuracy_score(truth, predicted),
                             f1_score(truth, predicted, average="macro"), len(examples))
    return results


def heldout_rows(language: Text) -> List[Tuple[Text, Text]]:
    """(text, intent) of tests/nlu_heldout/<language>.yml: messages not in training."""
    blocks = yaml.safe_load((ROOT / "tests" / "nlu_heldout" / f"{language}.yml").read_text())
    return [(line.strip()[2:].strip(), block["intent"])
            for block in blocks["nlu"] for line in block["examples"].splitlines()
            if line.strip()]


def production_model_table(model_path: Path = ROOT / "models" / "current.tar.gz") -> List[Tuple]:
    """Held-out intent accuracy and language detection of the trained production model."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model_path))

    async def parse_all(texts: Sequence[Text]) -> List[Dict]:
        return [await agent.parse_message(t) for t in texts]

    rows = []
    sets = {
        "held-out nb": ("nb", heldout_rows("nb")),
        "held-out da": ("da", heldout_rows("da")),
        "held-out sv": ("sv", heldout_rows("sv")),
        "xSID test da (language only)": ("da", [(u.text, "") for u in load_split("da", "test")]),
        "xSID test nb (language only)": (
            "nb", [(u.text, "") for u in load_split("no", "test", {"B"})]),
    }
    for name, (language, items) in sets.items():
        parsed = asyncio.run(parse_all([text for text, _ in items]))
        intents = [intent for _, intent in items]
        accuracy = (sum(p["intent"]["name"] == i for p, i in zip(parsed, intents, strict=False)) / len(items)
                    if all(intents) else None)
        verdicts = [p["language_detection"] for p in parsed]
        wrong = sum(v["language"] != language for v in verdicts) / len(verdicts)
        clear = [v for v in verdicts if v["clear"]]
        wrong_clear = sum(v["language"] != language for v in clear) / max(1, len(clear))
        split = sum(bool(asked_topics(p)) for p in parsed) / len(parsed)
        rows.append((name, len(items), accuracy, wrong, len(clear) / len(verdicts), wrong_clear,
                     split))
    return rows


def asked_topics(parsed: Dict) -> List[Text]:
    """The topics PrinciplesPolicy would answer one by one for this message, by the policy's
    own rule and defaults. A single question must give none."""
    from bot.components.conversation_state import TurnInput, TurnRules, questions_in
    from core.content import CONTENT_DIR, read_texts
    from core.principles import DEFAULT_PRINCIPLES_CONFIG as config
    from core.vocabulary import SMALL_TALK_INTENTS

    intent = parsed.get("intent") or {}
    turn = TurnInput(text=parsed.get("text") or "", intent=intent.get("name"),
                     confidence=float(intent.get("confidence") or 0.0), language="nb",
                     ambiguous=False, questions=parsed.get("questions") or ())
    topics = frozenset(read_texts(CONTENT_DIR / "faq.yml")) - SMALL_TALK_INTENTS
    return questions_in(turn, TurnRules(topics, config["min_question_confidence"],
                                        config["new_topic_confidence"], config["max_questions"]))


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    print("xSID: training each system on the valid files, scoring on the test files")
    xsid = xsid_table()
    print("\n## xSID intent accuracy / macro-F1 (train: valid, test: test)\n")
    print("| system | da acc | da F1 | nb acc | nb F1 | nb dialects acc | nb dialects F1 | time |")
    print("|---|---|---|---|---|---|---|---|")
    for name, *numbers, seconds in xsid:
        print(f"| {name.strip()} | " + " | ".join(f"{n:.3f}" for n in numbers) + f" | {seconds:.0f} s |")
    print("\n## Project data: 5-fold cross-validated intent accuracy / macro-F1\n")
    print("| language | examples | accuracy | macro-F1 |")
    print("|---|---|---|---|")
    for language, (accuracy, f1, count) in own_data_cv().items():
        print(f"| {language} | {count} | {accuracy:.3f} | {f1:.3f} |")
    print("\n## Production model (models/current.tar.gz): held-out messages and language\n")
    print_production_table()


def print_production_table() -> None:
    print("| set | messages | intent accuracy | wrong language (best guess) "
          "| clear verdicts | wrong language among clear | split into several questions |")
    print("|---|---|---|---|---|---|---|")
    for name, count, accuracy, wrong, clear, wrong_clear, split in production_model_table():
        shown = f"{accuracy:.3f}" if accuracy is not None else "-"
        print(f"| {name} | {count} | {shown} | {wrong:.3f} | {clear:.3f} | {wrong_clear:.3f} "
              f"| {split:.3f} |")


if __name__ == "__main__":
    main()
