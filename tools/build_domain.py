"""Builds Rasa's domain: bot/domain/*.yml plus responses generated from content/*.yml.

content/faq.yml and content/dialogue.yml hold every text the bot says, per language,
in a shape a non-developer can edit. Each key becomes `utter_<key>` with one variation
per language, chosen by the `language` slot; Norwegian is also the variation used
while no language is known yet.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any, Dict, List, Text

import yaml

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("nb", "da", "sv")
DEFAULT_LANGUAGE = "nb"
CONTENT_FILES = ("faq.yml", "dialogue.yml")


class ContentError(ValueError):
    """A content file is missing a language or has a malformed entry."""


def load_content(content_dir: Path = ROOT / "content") -> Dict[Text, Dict[Text, Text]]:
    """All texts by key and language, checked to have every language."""
    texts: Dict[Text, Dict[Text, Text]] = {}
    for name in CONTENT_FILES:
        entries = yaml.safe_load((content_dir / name).read_text(encoding="utf-8")) or {}
        for key, by_language in entries.items():
            if key in texts:
                raise ContentError(f"{name}: '{key}' is defined twice")
            if not isinstance(by_language, dict):
                raise ContentError(f"{name}: '{key}' must map nb, da and sv to texts")
            missing = [lang for lang in LANGUAGES if not str(by_language.get(lang) or "").strip()]
            if missing:
                raise ContentError(f"{name}: '{key}' has no text for {', '.join(missing)}")
            texts[key] = {lang: str(by_language[lang]).strip() for lang in LANGUAGES}
    return texts


def response_variations(by_language: Dict[Text, Text]) -> List[Dict[Text, Any]]:
    """One variation per language, plus the default used before the language is known."""
    variations: List[Dict[Text, Any]] = [
        {
            "text": by_language[lang],
            "condition": [{"type": "slot", "name": "language", "value": lang}],
        }
        for lang in LANGUAGES
    ]
    variations.append({"text": by_language[DEFAULT_LANGUAGE]})
    return variations


def build_responses(texts: Dict[Text, Dict[Text, Text]]) -> Dict[Text, Any]:
    return {
        "version": "3.1",
        "responses": {f"utter_{key}": response_variations(t) for key, t in sorted(texts.items())},
    }


def build_domain(out_dir: Path = ROOT / "build" / "domain") -> Path:
    """Write the full domain directory that `rasa train --domain` reads."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    for part in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        shutil.copy(part, out_dir / part.name)
    responses = build_responses(load_content())
    header = "# Generated from content/*.yml by tools/build_domain.py: edit those files instead.\n"
    (out_dir / "responses.yml").write_text(
        header + yaml.safe_dump(responses, allow_unicode=True, sort_keys=False, width=1000),
        encoding="utf-8",
    )
    return out_dir


if __name__ == "__main__":
    try:
        print(f"domain written to {build_domain().relative_to(ROOT)}")
    except ContentError as error:
        sys.exit(f"content error: {error}")
