"""Tokens (stored only as hashes) and HMAC signatures of hooks."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """An unguessable bearer token (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign(body: bytes, secret: str) -> str:
    """`sha256=<hex>` HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, secret: str, signature: str | None) -> bool:
    return bool(secret) and bool(signature) and hmac.compare_digest(sign(body, secret), signature)
