"""The conversation's language (nb, da or sv), kept in the `language` slot.

After every customer message Rasa runs `action_read_turn` (actions/turn.py, a custom
slot mapping), which reads the NLU's `language_detection` verdict and asks
`choose_language` whether the conversation's language changes: a conversation without
a language takes the best guess; one with a language keeps it unless the message is
clearly in another one and long enough to tell (a reply like "ordre 10483921" is not a
switch to Danish).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

LANGUAGES = ("nb", "da", "sv")
MIN_SWITCH_WORDS = 3
LANGUAGE_SLOT = "language"
DETECTION_KEY = "language_detection"


def language_from_metadata(metadata: Optional[Dict[Text, Any]]) -> Optional[Text]:
    """The language hint an API caller put in the message metadata, if it is one we speak."""
    if not isinstance(metadata, dict):
        return None
    hint = str(metadata.get("language") or "").strip().lower()
    return hint if hint in LANGUAGES else None


def choose_language(
    current: Optional[Text], detection: Optional[Dict[Text, Any]],
    min_switch_words: int = MIN_SWITCH_WORDS,
) -> Optional[Text]:
    """The conversation's language after a message with this detection verdict."""
    detected = (detection or {}).get("language")
    if detected not in LANGUAGES:
        return current
    if current not in LANGUAGES:
        return detected
    switch = detection.get("clear") and detection.get("words", 0) >= min_switch_words
    return detected if switch else current
