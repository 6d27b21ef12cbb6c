"""HMAC-SHA256 signatures of hook and webhook bodies, one implementation for every part.

The signature covers the exact body bytes and is sent as `X-Signature: sha256=<hex>`.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Optional


def sign(body: bytes, secret: str) -> str:
    """`sha256=<hex>` HMAC of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, secret: str, signature: Optional[str]) -> bool:
    """Whether the signature is the body's under the secret; never with an empty secret."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), signature.encode("utf-8", "replace"))
