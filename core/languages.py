"""The languages the assistant serves; each one is also a country (nb Norway, da Denmark,
sv Sweden)."""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("nb", "da", "sv")
DEFAULT_LANGUAGE = "nb"

