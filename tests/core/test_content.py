import pytest

from core.content import ContentError, calendar_words, notice, notices, read_texts
from core.languages import LANGUAGES


def test_every_notice_has_every_language() -> None:
    for key, by_language in notices().items():
        assert set(by_language) == set(LANGUAGES), key


def test_a_notice_fills_in_its_placeholders_in_the_language() -> None:
    assert notice("agent_joined", "sv", agent="Karin") == "Karin från kundtjänst är med i samtalet nu."
    assert notice("closed", "da").startswith("Samtalen er afsluttet")
    assert notice("closed", None) == notice("closed", "nb")


def test_calendar_words_exist_in_every_language() -> None:
    assert {"day_names", "today", "tomorrow", "at_time"} <= set(calendar_words())


def test_a_text_missing_a_language_is_refused(tmp_path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("greeting:\n  nb: Hei\n  da: Hej\n", encoding="utf-8")
    with pytest.raises(ContentError, match="sv"):
        read_texts(broken)
