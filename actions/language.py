"""The conversation's language: nb, da or sv."""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

LANGUAGES = ("nb", "da", "sv")
LANGUAGE_SLOT = "language"


def language_from_metadata(metadata: Optional[Dict[Text, Any]]) -> Optional[Text]:
    """The language hint an API caller put in the message metadata, if it is one we speak."""
    if not isinstance(metadata, dict):
        return None
    hint = str(metadata.get("language") or "").strip().lower()
    return hint if hint in LANGUAGES else None
