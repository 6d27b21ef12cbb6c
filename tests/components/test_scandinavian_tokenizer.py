import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.components.scandinavian_tokenizer import ScandinavianTokenizer, fold_letters


@pytest.mark.parametrize(
    "spellings",
    [("på", "paa", "pa"), ("købe", "koebe", "kobe"), ("ändra", "aendra", "andra"), ("Bær", "baer")],
)
def test_all_spellings_of_a_word_fold_to_one_form(spellings: tuple[str, ...]) -> None:
    assert len({fold_letters(word) for word in spellings}) == 1


def tokens(text: str, language: str, **config: object) -> list[tuple[str, str, int]]:
    message = Message(data={"text": text, "metadata": {"language": language}})
    tokenizer = ScandinavianTokenizer(dict(config))
    return [(t.text, t.lemma, t.start) for t in tokenizer.tokenize(message, "text")]


def test_tokens_keep_original_text_and_offsets_with_folded_lemmas() -> None:
    text = "Hvor er pakkene mine? kjøpte skoene"
    result = tokens(text, "nb")
    assert [t for t, _, _ in result] == ["Hvor", "er", "pakkene", "mine", "kjøpte", "skoene"]
    assert all(text[start : start + len(word)] == word for word, _, start in result)
    lemmas = dict((word, lemma) for word, lemma, _ in result)
    assert lemmas["pakkene"] == "pakke"
    assert lemmas["kjøpte"] == "kjope"
    assert lemmas["skoene"] == "sko"


def test_lemmas_come_from_the_message_language() -> None:
    danish = dict((word, lemma) for word, lemma, _ in tokens("jeg købte skoene", "da"))
    swedish = dict((word, lemma) for word, lemma, _ in tokens("jag köpte skorna", "sv"))
    assert danish["købte"] == "kobe"
    assert swedish["köpte"] == "kopa"


def test_email_stays_one_token() -> None:
    assert [w for w, _, _ in tokens("skriv til ola@example.no", "nb")][-1] == "ola@example.no"


def test_switches_turn_off_lemmas_and_folding() -> None:
    found = tokens("kjøpte", "nb", lemmatize=False, fold_letters=False)
    plain = dict((word, lemma) for word, lemma, _ in found)
    assert plain["kjøpte"] == "kjøpte"


def test_regex_split_without_spacy() -> None:
    assert [w for w, _, _ in tokens("hei! ordre 123, takk", "nb", use_spacy=False)] == [
        "hei", "ordre", "123", "takk",
    ]
