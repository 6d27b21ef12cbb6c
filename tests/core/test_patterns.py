from core.patterns import find_details
from core.personal_data import mask


def found(text: str) -> list[tuple[str, str]]:
    return [(item.entity, item.value) for item in find_details(text)]


def test_order_number_after_context_word_and_prefixed_form() -> None:
    assert found("hvor er ordre 10483921?") == [("order_number", "10483921")]
    assert found("min beställning NH-123456 har inte kommit") == [("order_number", "NH-123456")]
    assert found("bestillingsnr: 5512093") == [("order_number", "5512093")]


def test_email_and_scandinavian_phone_numbers() -> None:
    assert found("mail ola.n@example.no eller ring +47 912 34 567") == [
        ("email", "ola.n@example.no"),
        ("phone", "+47 912 34 567"),
    ]
    assert found("ring 070-123 45 67") == [("phone", "070-123 45 67")]
    assert found("ring mig på +46 70 123 45 67") == [("phone", "+46 70 123 45 67")]


def test_ten_digits_are_an_identity_number_only_when_a_checksum_says_so() -> None:
    # 0701234567 is a Swedish mobile number and a possible date, but no valid personnummer,
    # and a bare CPR needs its dash, a word saying so or a passing mod 11
    assert found("ring 0701234567") == [("phone", "0701234567")]
    assert found("0701234567") != [("personal_id", "0701234567")]


def test_swedish_postcode_with_space() -> None:
    assert found("jag bor på postnummer 123 45") == [("postcode", "123 45")]


def test_a_postcode_after_its_word_is_never_an_order_number() -> None:
    assert found("postnummer 11455") == [("postcode", "11455")]
    assert found("post nr 0555") == [("postcode", "0555")]
    assert "order_number" not in dict(found("postnummeret mitt er 11455"))
    assert found("ordrenummer 40918273") == [("order_number", "40918273")]


def test_identity_numbers_are_found_before_order_numbers() -> None:
    assert found("personnummer 19811228-9874 och order 10483921") == [
        ("personal_id", "19811228-9874"),
        ("order_number", "10483921"),
    ]


def test_identity_and_card_numbers_are_masked_other_details_kept() -> None:
    text = "fnr 15076500565, cpr 211062-5629, kort 4111 1111 1111 1111, ordre 10483921"
    masked = mask(text)
    assert "15076500565" not in masked
    assert "211062-5629" not in masked
    assert "4111" not in masked
    assert "ordre 10483921" in masked
    assert len(masked) == len(text)


def test_text_without_details_is_unchanged() -> None:
    assert find_details("hei, hvor lang tid tar leveringen?") == []
    assert mask("hei") == "hei"


def test_bare_order_number_as_an_answer_but_not_an_identity_number() -> None:
    from core.patterns import find_bare_order_number

    assert find_bare_order_number("10483921") == "10483921"
    assert find_bare_order_number("det er NH-123456 tror jeg") == "NH-123456"
    assert find_bare_order_number("fnr 15076500565") is None
    assert find_bare_order_number("vet ikke") is None


def test_eight_bare_digits_are_a_phone_number_only_when_the_message_says_so() -> None:
    assert found("det er 40918273") == []
    assert found("ring meg på 40918273") == [("phone", "40918273")]
    assert found("mobil: 91 23 45 67") == [("phone", "91 23 45 67")]
