"""What the service itself tells the customer, in the conversation's language."""

from __future__ import annotations

from typing import Optional

NOTICES = {
    "agent_joined": {
        "nb": "{agent} fra kundeservice er med i samtalen nå.",
        "da": "{agent} fra kundeservice er med i samtalen nu.",
        "sv": "{agent} från kundtjänst är med i samtalet nu.",
    },
    "back_to_bot": {
        "nb": "Assistenten er tilbake og hjelper deg gjerne med flere spørsmål.",
        "da": "Assistenten er tilbage og hjælper dig gerne med flere spørgsmål.",
        "sv": "Assistenten är tillbaka och hjälper dig gärna med fler frågor.",
    },
    "closed": {
        "nb": "Samtalen er avsluttet. Takk for at du kontaktet oss!",
        "da": "Samtalen er afsluttet. Tak fordi du kontaktede os!",
        "sv": "Samtalet är avslutat. Tack för att du kontaktade oss!",
    },
    "bot_unavailable": {
        "nb": "Beklager, jeg har tekniske problemer akkurat nå. Meldingen din er lagret, "
              "prøv igjen om litt.",
        "da": "Beklager, jeg har tekniske problemer lige nu. Din besked er gemt, prøv igen om lidt.",
        "sv": "Förlåt, jag har tekniska problem just nu. Ditt meddelande är sparat, "
              "försök igen om en stund.",
    },
}


def notice(key: str, language: Optional[str], **values: str) -> str:
    by_language = NOTICES[key]
    return by_language.get(language or "nb", by_language["nb"]).format(**values)
