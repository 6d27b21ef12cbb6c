"""Suggested answers for agents: the ranking on plain values, the content it ranks, and
GET /api/escalations/{id}/suggestions with an escalation the bot handed over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from api.services.suggestions import (
    Answer,
    fill,
    fold,
    for_escalation,
    load_canned,
    rank,
    read_canned,
)
from core.content import ContentError, load_content, topic_labels
from tests.support.api import auth, hook_body, post_hook, start


def faq(key: str, text: str = "", title: str = "") -> Answer:
    topic = key.split("__")[0]
    return Answer("faq", key, title or key, text or f"the answer on {key}", (topic,), (topic,),
                  follow_up="__" in key)


def canned(key: str, text: str = "", tags: tuple[str, ...] = (), title: str = "",
           asks_for: str | None = None) -> Answer:
    return Answer("canned", key, title or key, text or f"canned {key}", tags, tags,
                  asks_for=asks_for)


def keys(answers: list[Answer]) -> list[str]:
    return [answer.key for answer in answers]


# --- folding words ---

@pytest.mark.parametrize("written, plain", [
    ("Lørdag", "lordag"), ("loerdag", "lordag"), ("LÖRDAG", "lordag"),
    ("Åbent", "abent"), ("aabent", "abent"), ("Æble", "able"), ("aeble", "able"),
    ("Ärende", "arende"), ("café", "cafe"),
])
def test_scandinavian_letters_and_their_plain_spellings_fold_alike(written: str, plain: str) -> None:
    assert fold(written) == plain


# --- ranking ---

def test_answers_on_the_topics_the_bot_saw_come_first_in_the_order_it_saw_them() -> None:
    answers = [faq("shipping_cost"), faq("return_policy"), faq("track_order"),
               canned("refund_timing", tags=("return_policy",)), canned("hello")]
    ranked = rank(answers, ["track_order", "return_policy"])
    assert keys(ranked)[:4] == ["track_order", "return_policy", "refund_timing", "hello"]


def test_what_the_agent_types_ranks_matches_after_the_seen_topics_and_before_the_rest() -> None:
    answers = [faq("return_policy"), faq("opening_hours", "Lørdag har vi åpent 10–16."),
               faq("gift_card", "Gavekort gjelder i 3 år."), canned("hello")]
    assert keys(rank(answers, ["return_policy"], "apent pa lordag?")) == [
        "return_policy", "opening_hours", "hello", "gift_card"]
    assert keys(rank(answers, ["return_policy"])) == [
        "return_policy", "hello", "opening_hours", "gift_card"]


def test_among_the_seen_topics_answers_the_agent_types_towards_come_first() -> None:
    answers = [faq("refund_status"), canned("refund_timing", "Pengene kommer om 3–5 virkedager.",
                                            tags=("refund_status",))]
    assert keys(rank(answers, ["refund_status"])) == ["refund_status", "refund_timing"]
    assert keys(rank(answers, ["refund_status"], "virkedager")) == ["refund_timing", "refund_status"]


@pytest.mark.parametrize("typed", ["retur", "Returneringen", "RETUR!"])
def test_a_word_matches_its_longer_and_shorter_forms(typed: str) -> None:
    answers = [canned("a", "Vi har åpent i dag."), canned("b", "Returen er gratis."),
               canned("c", "Gavekort gjelder i 3 år.")]
    assert keys(rank(answers, [], typed))[0] == "b"


def test_a_short_word_matches_only_itself() -> None:
    answers = [canned("a", "Vi har åpent i dag."), canned("b", "Returen er gratis."),
               canned("c", "En ret er klar.")]
    assert keys(rank(answers, [], "ret"))[0] == "c"


def test_a_word_in_the_title_or_tags_counts_more_than_one_in_the_text() -> None:
    answers = [canned("text", "Gavekortet kan ikke byttes."),
               *(canned(f"plain{n}") for n in range(4)),
               canned("title", title="Gavekort"), canned("tag", tags=("gavekort",))]
    ranked = keys(rank(answers, [], "gavekort"))
    assert set(ranked[:2]) == {"title", "tag"} and ranked[2] == "text"


def test_a_word_in_most_answers_tells_none_apart_and_is_ignored() -> None:
    answers = [canned("a", "Du får pakken."), canned("b", "Du får pengene."),
               canned("c", "Du får et gavekort."), canned("d", "Hei!")]
    assert keys(rank(answers, [], "du")) == ["a", "b", "c", "d"]
    assert keys(rank(answers, [], "du pengene"))[0] == "b"


def test_the_rest_is_general_canned_then_seen_follow_ups_then_other_answers() -> None:
    answers = [faq("gift_card"), faq("return_policy"), canned("closing"),
               canned("order_cancelled", tags=("cancel_order",)), faq("gift_card__cost"),
               faq("return_policy__cost")]
    assert keys(rank(answers, ["return_policy"])) == [
        "return_policy", "closing", "return_policy__cost", "order_cancelled", "gift_card",
        "gift_card__cost"]


@pytest.mark.parametrize("details, offered", [
    ({}, True), ({"order_number": ""}, True), ({"email": "a@b.no"}, True),
    ({"order_number": "10483921"}, False), ({"verified_order": "10483921"}, False),
])
def test_a_canned_response_asking_for_what_the_customer_gave_is_not_offered(
        details: dict[str, Any], offered: bool) -> None:
    answers = [canned("ask_order_number", tags=("track_order",), asks_for="order_number"),
               canned("closing")]
    assert ("ask_order_number" in keys(rank(answers, ["track_order"], "", details))) is offered


def test_placeholders_are_filled_and_other_braces_kept() -> None:
    assert fill("Jeg heter {agent}, sak {reference} {ukjent}", {"agent": "Kari {x}",
                                                               "reference": "NH-7KQ2MX"}) \
        == "Jeg heter Kari {x}, sak NH-7KQ2MX {ukjent}"


# --- the content it ranks ---

def test_a_danish_return_escalation_is_offered_the_danish_return_answer_first() -> None:
    found = for_escalation("da", ["return_policy"], {}, "", 5, {"agent": "Mette",
                                                                   "reference": "NH-1"})
    assert (found[0].kind, found[0].key, found[0].topic) == ("faq", "return_policy",
                                                             "return_policy")
    assert found[0].text == load_content()["return_policy"]["da"]
    assert found[0].title == topic_labels()["return_policy"]["da"]
    assert len(found) == 5 and all(s.topic == "return_policy" for s in found[:3])


def test_a_language_the_customers_do_not_write_falls_back_to_the_default() -> None:
    found = for_escalation("xx", ["return_policy"], {}, "", 1, {})
    assert found[0].text == load_content()["return_policy"]["nb"]


def test_a_swedish_agent_typing_without_a_and_o_finds_the_swedish_answer() -> None:
    found = for_escalation("sv", [], {}, "oppettider pa lordag", 1, {})
    assert found[0].key == "opening_hours" and "Lördag" in found[0].text


def write_canned(tmp_path: Path, entries: dict[str, Any]) -> Path:
    path = tmp_path / "canned.yml"
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return path


def entry(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"tags": ["return_policy"]}
    for language in ("nb", "da", "sv"):
        body[language] = {"title": f"Tittel {language}", "text": f"Tekst {language} {{agent}}"}
    body.update(overrides)
    return body


@pytest.mark.parametrize("broken, complaint", [
    ({"sv": None}, "in sv"),
    ({"da": {"title": "Tittel", "text": "  "}}, "in da"),
    ({"nb": {"text": "Tekst"}}, "in nb"),
    ({"tags": ["no_such_topic"]}, "topics"),
    ({"tags": "return_policy"}, "topics"),
    ({"asks_for": "shoe_size"}, "asks_for"),
    ({"nb": {"title": "T", "text": "Hei {kunde}"}}, "{kunde}"),
    ({"no": {"title": "T", "text": "Hei"}}, "unknown fields: no"),
])
def test_a_canned_response_missing_a_language_or_malformed_is_a_clear_error(
        tmp_path: Path, broken: dict[str, Any], complaint: str) -> None:
    path = write_canned(tmp_path, {"good": entry(), "bad": entry(**broken)})
    with pytest.raises(ContentError, match="'bad'") as error:
        read_canned(path, ["return_policy"])
    assert complaint in str(error.value)


def test_the_canned_file_reads_back_what_it_says(tmp_path: Path) -> None:
    path = write_canned(tmp_path, {"good": entry(asks_for="email")})
    [response] = read_canned(path, ["return_policy"]).values()
    assert (response.key, response.tags, response.asks_for) == ("good", ("return_policy",),
                                                                "email")
    assert response.by_language["da"] == ("Tittel da", "Tekst da {agent}")


# --- the API ---

def escalation(client: TestClient, agent_token: str, **hook: Any) -> dict[str, Any]:
    """An escalation the bot handed over (`hook` overrides the hook's fields)."""
    conversation, _ = start(client, hook.get("language", "nb"))
    assert post_hook(client, hook_body(conversation, **hook)).status_code in (200, 201)
    [item] = [e for e in client.get("/api/escalations", headers=auth(agent_token)).json()
              if e["conversation_id"] == conversation]
    return item


def suggestions(client: TestClient, token: str, escalation_id: Any, **params: Any):
    return client.get(f"/api/escalations/{escalation_id}/suggestions", params=params,
                      headers=auth(token))


def test_an_agent_gets_the_customers_language_answers_on_the_topics_the_bot_saw(
        client: TestClient, agent_token: str) -> None:
    item = escalation(client, agent_token, language="da", topics=["return_policy"],
                      details={})
    response = suggestions(client, agent_token, item["id"])
    assert response.status_code == 200
    found = response.json()
    assert found[0] == {"kind": "faq", "key": "return_policy",
                        "title": topic_labels()["return_policy"]["da"],
                        "text": load_content()["return_policy"]["da"], "topic": "return_policy"}
    assert len(found) == 8  # the default limit
    taking_over = suggestions(client, agent_token, item["id"], q="overtager samtalen").json()
    take_over = next(s for s in taking_over if s["key"] == "take_over")
    assert "Kari" in take_over["text"] and "{agent}" not in take_over["text"]
    assert take_over["title"] == load_canned()["take_over"].by_language["da"][0]
    callback = next(s for s in suggestions(client, agent_token, item["id"], q="ringe tilbage")
                    .json() if s["key"] == "callback")
    assert item["reference"] in callback["text"]


def test_what_the_agent_types_brings_its_answers_up(client: TestClient,
                                                    agent_token: str) -> None:
    item = escalation(client, agent_token, language="sv", topics=["return_policy"], details={})
    plain = [s["key"] for s in suggestions(client, agent_token, item["id"], limit=50).json()]
    typed = [s["key"] for s in suggestions(client, agent_token, item["id"], limit=50,
                                           q="presentkort").json()]
    assert plain[0] == typed[0] == "return_policy"
    assert typed.index("gift_card") < plain.index("gift_card")
    assert typed.index("gift_card") <= 4


def test_the_order_number_is_not_asked_for_again(client: TestClient, agent_token: str) -> None:
    given = escalation(client, agent_token, topics=["track_order"],
                       details={"order_number": "10483921"})
    missing = escalation(client, agent_token, topics=["track_order"], details={})
    assert "ask_order_number" not in [
        s["key"] for s in suggestions(client, agent_token, given["id"], limit=50).json()]
    assert "ask_order_number" in [
        s["key"] for s in suggestions(client, agent_token, missing["id"], limit=50).json()]


def test_suggestions_need_an_agents_token(client: TestClient, agent_token: str) -> None:
    item = escalation(client, agent_token)
    assert client.get(f"/api/escalations/{item['id']}/suggestions").status_code == 401
    assert suggestions(client, "not-a-token", item["id"]).status_code == 401


def test_an_unknown_escalation_is_404(client: TestClient, agent_token: str) -> None:
    response = suggestions(client, agent_token, 999999)
    assert response.status_code == 404 and "999999" in response.json()["detail"]


@pytest.mark.parametrize("escalation_id, params", [
    (1, {"limit": 0}), (1, {"limit": 51}), (1, {"limit": "many"}), (1, {"limit": -1}),
    (1, {"q": "x" * 201}), (0, {}), (2**31, {}), ("abc", {}),
])
def test_bad_input_is_refused_with_422(client: TestClient, agent_token: str,
                                       escalation_id: Any, params: dict[str, Any]) -> None:
    escalation(client, agent_token)
    response = suggestions(client, agent_token, escalation_id, **params)
    assert response.status_code == 422, response.text


def test_the_limits_bounds_are_accepted(client: TestClient, agent_token: str) -> None:
    item = escalation(client, agent_token)
    assert len(suggestions(client, agent_token, item["id"], limit=1).json()) == 1
    assert len(suggestions(client, agent_token, item["id"], limit=50).json()) == 50
    assert suggestions(client, agent_token, item["id"], q="æøå" * 66 + "ab").status_code == 200
