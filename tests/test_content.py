"""The content a non-developer edits, the generated domain and the training data agree."""

from pathlib import Path

import pytest
import yaml

from core.content import ContentError, load_content, topic_labels
from tools.build_domain import build_responses

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("nb", "da", "sv")
REQUIRED_INTENTS = (
    "greet goodbye thank affirm deny request_human bot_challenge insult complain out_of_scope "
    "opening_hours contact_info delivery_time shipping_cost track_order return_policy "
    "refund_status exchange_item warranty_claim payment_methods invoice_question cancel_order "
    "change_order pickup_point account_help gift_card discount_code delete_data "
    "product_availability newsletter_unsubscribe"
).split()


def domain_intents() -> list[str]:
    return yaml.safe_load((ROOT / "bot" / "domain" / "core.yml").read_text())["intents"]


def nlu_blocks(language: str) -> list[dict]:
    blocks = []
    for path in sorted((ROOT / "data" / "nlu" / language).glob("*.yml")):
        blocks.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"])
    return blocks


def test_domain_has_every_required_intent() -> None:
    assert set(REQUIRED_INTENTS) <= set(domain_intents())


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_intent_has_at_least_20_examples_in_every_language(language: str) -> None:
    counts: dict[str, int] = {}
    for block in nlu_blocks(language):
        examples = [line for line in block["examples"].splitlines() if line.strip()]
        counts[block["intent"]] = counts.get(block["intent"], 0) + len(examples)
    assert {i: counts.get(i, 0) for i in domain_intents() if counts.get(i, 0) < 20} == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_training_block_is_labelled_with_its_language(language: str) -> None:
    unlabelled = [b["intent"] for b in nlu_blocks(language)
                  if (b.get("metadata") or {}).get("language") != language]
    assert unlabelled == []


def test_every_text_exists_in_every_language() -> None:
    texts = load_content()
    for key, by_language in texts.items():
        assert set(by_language) == set(LANGUAGES), key
        assert all(by_language[lang].strip() for lang in LANGUAGES), key


def test_every_answered_intent_has_a_text() -> None:
    texts = load_content()
    rules = yaml.safe_load((ROOT / "data" / "rules" / "faq.yml").read_text())["rules"]
    conversation = yaml.safe_load((ROOT / "data" / "rules" / "conversation.yml").read_text())
    uttered = {step["action"] for rule in [*rules, *conversation["rules"]]
               for step in rule["steps"] if "action" in step}
    assert {u for u in uttered if u.startswith("utter_") and u[6:] not in texts} == set()


def test_generated_responses_cover_every_language_and_welcome_state() -> None:
    responses = build_responses(load_content())["responses"]
    for name, variations in responses.items():
        conditions = sorted(
            tuple((c["name"], c["value"]) for c in v["condition"])
            for v in variations if "condition" in v
        )
        expected = sorted(
            (("language", lang), ("welcomed", welcomed))
            for lang in LANGUAGES for welcomed in (False, True)
        )
        assert conditions == expected, name
        assert sum("condition" not in v for v in variations) == 1, name


def test_only_the_goodbye_tells_the_service_the_conversation_ended() -> None:
    """The service asks for a rating after a reply with the marker; Rasa's REST channel
    sends a response's custom payload as a message of its own."""
    responses = build_responses(load_content())["responses"]
    marked = {name for name, variations in responses.items()
              if any(v.get("custom") == {"ends_conversation": True} for v in variations)}
    assert marked == {"utter_goodbye"}
    assert all("custom" in v for v in responses["utter_goodbye"])


def test_first_reply_greets_but_follow_ups_do_not() -> None:
    texts = load_content()
    responses = build_responses(texts)["responses"]

    def text(name: str, lang: str, welcomed: bool) -> str:
        [match] = [v["text"] for v in responses[name] if v.get("condition") == [
            {"type": "slot", "name": "language", "value": lang},
            {"type": "slot", "name": "welcomed", "value": welcomed}]]
        return match

    for lang in LANGUAGES:
        welcome = texts["welcome_prefix"][lang]
        assert text("utter_return_policy", lang, False).startswith(welcome)
        assert not text("utter_return_policy", lang, True).startswith(welcome)
        assert not text("utter_anything_else", lang, False).startswith(welcome)
        assert text("utter_greet", lang, False) == texts["greet"][lang]


def test_missing_language_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "faq.yml").write_text("opening_hours:\n  nb: Hei\n  da: Hej\n")
    (tmp_path / "dialogue.yml").write_text("{}\n")
    with pytest.raises(ContentError, match="opening_hours.*sv"):
        load_content(tmp_path)


def test_country_facts_differ_where_the_law_differs() -> None:
    faq = load_content()
    assert "Vipps" in faq["payment_methods"]["nb"]
    assert "MobilePay" in faq["payment_methods"]["da"]
    assert "Swish" in faq["payment_methods"]["sv"]
    assert "5 år" in faq["warranty_claim"]["nb"]
    assert "2 år" in faq["warranty_claim"]["da"]
    assert "3 år" in faq["warranty_claim"]["sv"]
    for language in LANGUAGES:
        assert "14" in faq["return_policy"][language]


def test_every_clarifiable_topic_has_button_words_in_every_language() -> None:
    labels = topic_labels()
    faq_rules = yaml.safe_load((ROOT / "data" / "rules" / "faq.yml").read_text())["rules"]
    faq_intents = {rule["steps"][0]["intent"] for rule in faq_rules}
    assert faq_intents <= set(labels)
    for topic, by_language in labels.items():
        assert topic in domain_intents(), topic
        assert all(len(by_language[lang]) <= 40 for lang in LANGUAGES), topic


def test_opening_hours_exist_for_every_country() -> None:
    from core.opening_hours import schedules

    assert set(schedules()) == set(LANGUAGES)


def test_every_canned_response_has_a_title_and_a_text_of_its_own_in_every_language() -> None:
    """content/canned.yml, the agents' ready-made replies: read as the service reads it (a
    missing or empty language, an unknown tag or placeholder is a ContentError), at least
    12, and each language written for itself, not a copy of another's."""
    from api.services.suggestions import load_canned

    canned = load_canned()
    assert len(canned) >= 12
    for key, response in canned.items():
        assert set(response.by_language) == set(LANGUAGES), key
        assert all(title.strip() and text.strip()
                   for title, text in response.by_language.values()), key
        texts = [text for _, text in response.by_language.values()]
        assert len(set(texts)) == len(LANGUAGES), f"{key}: a language is a copy of another"
