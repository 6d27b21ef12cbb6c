"""Tokens (stored only as hashes); the HMAC signatures of hooks are core/signing.py."""

from __future__ import annotations

import hashlib
import secrets

from core.signing import sign, signature_valid


def new_token() -> str:
    """An unguessable bearer token (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What is stored of a token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


__all__ = ["hash_token", "new_token", "sign", "signature_valid"]
