from core.signing import sign, signature_valid

BODY = '{"conversation_id": "c1", "text": "hei"}'.encode()


def test_a_signature_verifies_only_for_the_same_body_and_secret() -> None:
    signature = sign(BODY, "s3cret")
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert signature_valid(BODY, "s3cret", signature)
    assert not signature_valid(BODY + b" ", "s3cret", signature)
    assert not signature_valid(BODY, "other", signature)


def test_an_empty_secret_or_signature_never_verifies() -> None:
    assert not signature_valid(BODY, "", sign(BODY, ""))
    assert not signature_valid(BODY, "s3cret", None)
    assert not signature_valid(BODY, "s3cret", "")


def test_a_non_ascii_signature_is_refused_not_an_error() -> None:
    assert not signature_valid(BODY, "s3cret", "sha256=ææø")
