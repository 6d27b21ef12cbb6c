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


def test_rasas_api_token_is_a_short_lived_admin_jwt_signed_with_the_secret() -> None:
    import base64
    import hashlib
    import hmac
    import json

    from core.signing import rasa_admin_token

    token = rasa_admin_token("s3cret-of-32-bytes-or-more-xxxxxxx", now=1_800_000_000)
    header, claims, signature = token.split(".")

    def decoded(part: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    assert decoded(header) == {"alg": "HS256", "typ": "JWT"}
    assert decoded(claims)["user"]["role"] == "admin"
    assert decoded(claims)["exp"] - decoded(claims)["iat"] == 300
    expected = hmac.new(b"s3cret-of-32-bytes-or-more-xxxxxxx", f"{header}.{claims}".encode(),
                        hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected
