import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.linear_intent_classifier import (
    LinearIntentClassifier,
    LinearIntentClassifierError,
)
from bot.components.scandinavian_tokenizer import ScandinavianTokenizer

EXAMPLES = {
    "track_order": ["hvor er pakken min", "pakken har ikke kommet", "sporing av ordre",
                    "hvor blir pakka av", "når kommer pakken min"],
    "return_policy": ["hvordan returnerer jeg", "kan jeg sende tilbake jakka", "angrerett",
                      "returnere en vare", "hvor lang returfrist"],
    "payment_methods": ["kan jeg betale med vipps", "betale med klarna", "hvilke betalingsmåter",
                        "tar dere kort", "betaling med faktura"],
}


def tokenized(messages: list[Message]) -> list[Message]:
    tokenizer = ScandinavianTokenizer({"default_language": "nb"})
    return tokenizer.process(messages)


def training_data() -> TrainingData:
    messages = [Message(data={"text": t, "intent": i}) for i, ts in EXAMPLES.items() for t in ts]
    return TrainingData(tokenized(messages))


def predict(classifier: LinearIntentClassifier, text: str) -> Message:
    [message] = classifier.process(tokenized([Message(data={"text": text})]))
    return message


def test_predicts_intent_with_ranking_summing_to_at_most_one(model_storage, resource) -> None:
    classifier = LinearIntentClassifier({}, model_storage, resource)
    classifier.train(training_data())
    message = predict(classifier, "hvor er pakka mi?")
    assert message.get("intent")["name"] == "track_order"
    ranking = message.get("intent_ranking")
    assert [r["name"] for r in ranking][0] == "track_order"
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=0.01)
    assert ranking[0]["confidence"] >= ranking[1]["confidence"]


def test_misspelled_scandinavian_letters_still_match(model_storage, resource) -> None:
    classifier = LinearIntentClassifier({}, model_storage, resource)
    classifier.train(training_data())
    assert predict(classifier, "kan jeg betale med VIPPS paa nett").get("intent")["name"] == (
        "payment_methods"
    )


def test_persisted_classifier_loads_and_ranks_the_same(
    model_storage, resource, execution_context
) -> None:
    classifier = LinearIntentClassifier({}, model_storage, resource)
    classifier.train(training_data())
    loaded = LinearIntentClassifier.load({}, model_storage, resource, execution_context)
    text = "returnere skoene"
    assert predict(loaded, text).get("intent_ranking") == predict(classifier, text).get(
        "intent_ranking"
    )


def test_one_intent_is_not_enough(model_storage, resource) -> None:
    classifier = LinearIntentClassifier({}, model_storage, resource)
    with pytest.raises(LinearIntentClassifierError):
        classifier.fit_examples([(("hei", "hei"),), (("hallo", "hallo"),)], ["greet", "greet"])


def test_untrained_classifier_predicts_no_intent(model_storage, resource) -> None:
    classifier = LinearIntentClassifier({}, model_storage, resource)
    message = predict(classifier, "hei")
    assert message.get("intent") == {"name": None, "confidence": 0.0}



def test_a_message_with_two_questions_lists_each_with_its_own_intent(model_storage, resource) -> None:
    classifier = LinearIntentClassifier({}, model_storage, resource)
    classifier.train(training_data())
    message = predict(classifier, "hvor er pakken min, og hvordan returnerer jeg en vare?")
    questions = message.get("questions")
    assert all(q["asks"] for q in questions)
    assert [(q["text"], q["intent"]) for q in questions] == [
        ("hvor er pakken min", "track_order"), ("hvordan returnerer jeg en vare", "return_policy")]
    assert predict(classifier, "kan jeg betale med vipps?").get("questions") == []
