from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.language_detector import DETECTION_KEY, LanguageDetector

EXAMPLES = {
    "nb": ["hvor er pakken min", "jeg vil returnere jakka", "hva koster frakt", "takk for hjelpa",
           "kan jeg betale med vipps", "hvordan bytter jeg størrelse", "ikke mottatt bestillingen"],
    "da": ["hvor er min pakke", "jeg vil gerne returnere jakken", "hvad koster fragt",
           "tak for hjælpen", "kan jeg betale med mobilepay", "hvornår kommer min ordre",
           "jeg har ikke modtaget bestillingen"],
    "sv": ["var är mitt paket", "jag vill returnera jackan", "vad kostar frakten",
           "tack för hjälpen", "kan jag betala med swish", "när kommer min beställning",
           "jag har inte fått beställningen"],
}


def training_data() -> TrainingData:
    return TrainingData([
        Message(data={"text": text, "intent": "x", "metadata": {"intent": {"language": lang}}})
        for lang, texts in EXAMPLES.items() for text in texts
    ])


def trained(storage: LocalModelStorage, resource: Resource, **config: float) -> LanguageDetector:
    detector = LanguageDetector(config, storage, resource)
    detector.train(training_data())
    return detector


def clear_language(message: Message) -> str | None:
    detection = message.get(DETECTION_KEY)
    return detection["language"] if detection["clear"] else None


def test_clear_messages_get_their_language(model_storage, resource) -> None:
    detector = trained(model_storage, resource)
    assert detector.detect("hvordan returnerer jeg pakken")["language"] == "nb"
    assert detector.detect("hvornår kommer pakken, tak")["language"] == "da"
    assert detector.detect("när kommer paketet? tack")["language"] == "sv"


def test_unclear_message_is_marked_unclear_so_the_conversation_keeps_its_language(
    model_storage, resource
) -> None:
    detector = trained(model_storage, resource, min_confidence=0.99)
    [message] = detector.process([Message(data={"text": "ok"})])
    assert message.get(DETECTION_KEY)["clear"] is False
    assert clear_language(message) is None


def test_hint_decides_an_unclear_message_but_not_a_clear_switch(model_storage, resource) -> None:
    detector = trained(model_storage, resource)
    [unclear] = detector.process([Message(data={"text": "ok", "metadata": {"language": "sv"}})])
    assert clear_language(unclear) == "sv"
    [switch] = detector.process([Message(data={
        "text": "jeg har ikke modtaget min pakke, hvornår kommer den?",
        "metadata": {"language": "sv"}})])
    assert clear_language(switch) == "da"


def test_invalid_hint_is_ignored(model_storage, resource) -> None:
    detector = trained(model_storage, resource)
    [message] = detector.process([Message(data={"text": "var är mitt paket",
                                                 "metadata": {"language": "en"}})])
    assert message.get(DETECTION_KEY)["hint"] is None
    assert clear_language(message) == "sv"


def test_persisted_detector_loads_and_detects_the_same(
    model_storage, resource, execution_context: ExecutionContext
) -> None:
    detector = trained(model_storage, resource)
    loaded = LanguageDetector.load({}, model_storage, resource, execution_context)
    for text in ("hvor er pakken", "hvornår kommer den", "var är paketet"):
        assert loaded.probabilities(text) == detector.probabilities(text)


def test_untrained_detector_leaves_messages_alone(model_storage, resource) -> None:
    detector = LanguageDetector({}, model_storage, resource)
    [message] = detector.process([Message(data={"text": "hei"})])
    assert message.get(DETECTION_KEY) is None


def test_message_that_overrules_the_hint_without_being_clear_is_not_clear(
    model_storage, resource
) -> None:
    detector = trained(model_storage, resource, hint_prior=0.34, min_confidence=0.999)
    verdict = detector.detect("hvordan returnerer jeg pakken", hint="sv")
    assert verdict["language"] == "nb"
    assert verdict["clear"] is False
