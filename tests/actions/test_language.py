import pytest

from actions.language import choose_language, language_from_metadata


def detection(language: str, clear: bool) -> dict:
    return {"language": language, "confidence": 0.9 if clear else 0.5, "clear": clear,
            "words": 5}


def test_conversation_without_language_takes_the_best_guess() -> None:
    assert choose_language(None, detection("sv", clear=False)) == "sv"


def test_unclear_message_keeps_the_conversation_language() -> None:
    assert choose_language("da", detection("nb", clear=False)) == "da"


def test_clear_switch_changes_the_language() -> None:
    assert choose_language("da", detection("sv", clear=True)) == "sv"


@pytest.mark.parametrize("verdict", [None, {}, {"language": "en", "clear": True}])
def test_missing_or_unknown_verdict_changes_nothing(verdict: dict | None) -> None:
    assert choose_language("nb", verdict) == "nb"


@pytest.mark.parametrize(
    "metadata, expected",
    [({"language": "SV "}, "sv"), ({"language": "en"}, None), ({}, None), (None, None),
     ("sv", None)],
)
def test_metadata_hint_is_one_of_our_languages_or_nothing(metadata, expected) -> None:
    assert language_from_metadata(metadata) == expected


def test_short_reply_that_looks_like_another_language_is_not_a_switch() -> None:
    verdict = {"language": "da", "confidence": 0.99, "clear": True, "words": 1}
    assert choose_language("sv", verdict) == "sv"
    assert choose_language("sv", {**verdict, "words": 3}) == "da"
