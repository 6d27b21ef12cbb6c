"""HMAC-SHA256 signatures of hook and webhook bodies, one implementation for every part.

The signature covers the exact body bytes and is sent as `X-Signature: sha256=<hex>`.
Rasa's HTTP API is called with a short-lived JWT signed with a shared secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Optional


def sign(body: bytes, secret: str) -> str:
    """`sha256=<hex>` HMAC of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, secret: str, signature: Optional[str]) -> bool:
    """Whether the signature is the body's under the secret; never with an empty secret."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), signature.encode("utf-8", "replace"))


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rasa_admin_token(secret: str, now: float, lifetime_seconds: int = 300) -> str:
    """A short-lived HS256 JWT with which Rasa's HTTP API (`--jwt-secret`) lets the caller in
    as an admin. Sent as `Authorization: Bearer ...`, never in a URL."""
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"user": {"username": "nordhem-service", "role": "admin"},
              "iat": int(now), "exp": int(now) + lifetime_seconds}
    signing_input = ".".join(_base64url(json.dumps(part, separators=(",", ":")).encode())
                             for part in (header, claims))
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_base64url(signature)}"
