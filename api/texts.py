"""What the widget and the agent console show, from content/ (edited by non-developers).

The widget's texts (content/widget.yml, nb/da/sv like notices.yml) are put into widget.js
when it is served. The console's texts (content/console.yml, in nb, da, sv and en: the agent
reads the console in their own language) come from GET /api/labels in the agent's language,
each checked to cover every value the service sends and every console language.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import yaml

from api.models import CONSOLE_LANGUAGES, FALLBACK_CONSOLE_LANGUAGE
from core.content import CONTENT_DIR, ContentError, read_texts, topic_labels
from core.languages import LANGUAGES
from core.scorecard import PRINCIPLE_FIELDS
from core.vocabulary import (
    DETAIL_SLOTS,
    ORDER_DETAIL_FIELDS,
    EscalationStatus,
    HandoffReason,
    Priority,
)

STATIC = Path(__file__).resolve().parent / "static"
WIDGET_FILE = "widget.yml"
CONSOLE_FILE = "console.yml"
# the erasure request's button in the console, its confirmation question, and its result
ERASURE_LABELS = ("confirm", "question", "done")
# the console's order panel: its heading, its note on what the bot checked, and each detail
ORDER_LABELS = ("panel", "verified_note", "unverified_note", *ORDER_DETAIL_FIELDS)
# the parts of the summary the service writes for the agent (api/services/summaries.py)
SUMMARY_PARTS = ("about", "facts", "verified", "topics", "answered", "and", "bot_unavailable")
# a need sentence for a reason the service does not know, and for its own hand-off
EXTRA_NEEDS = ("other", "bot_unavailable")
# kinds the service uses itself, not served to the console
SERVICE_KINDS = ("needs", "summaries")
# kinds whose entries are not a text per console language: the customer languages (a badge,
# and a name per console language) and the switcher's languages (each by its own name)
LANGUAGE_KIND, SWITCHER_KIND = "languages", "console_languages"
# where widget.js takes its texts: `const T = /*WIDGET_TEXTS*/{};`
WIDGET_TEXTS_MARK = "/*WIDGET_TEXTS*/{}"


@lru_cache(maxsize=None)
def widget_texts(content_dir: Path = CONTENT_DIR) -> dict[str, dict[str, str]]:
    """The widget's texts by language, then key (the shape widget.js looks them up in)."""
    by_key = read_texts(content_dir / WIDGET_FILE)
    return {language: {key: texts[language] for key, texts in by_key.items()}
            for language in LANGUAGES}


@lru_cache(maxsize=None)
def widget_script(content_dir: Path = CONTENT_DIR) -> str:
    """widget.js with its texts in place."""
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    if WIDGET_TEXTS_MARK not in source:
        raise ContentError(f"widget.js has no {WIDGET_TEXTS_MARK} to put its texts in")
    # ASCII-only JSON: valid JavaScript whatever the texts hold
    return source.replace(WIDGET_TEXTS_MARK, json.dumps(widget_texts(content_dir)), 1)


def _required_labels() -> dict[str, list[str]]:
    """Every value the service can send, by kind, that the console shows by name, and every
    text the service writes with (the console's own `ui` texts are checked against agent.js
    and agent.html by tests/api/test_static.py)."""
    reasons = [reason.value for reason in HandoffReason]
    return {
        "reasons": reasons,
        "priorities": [priority.value for priority in Priority],
        "statuses": [status.value for status in EscalationStatus],
        LANGUAGE_KIND: list(LANGUAGES),
        SWITCHER_KIND: list(CONSOLE_LANGUAGES),
        "principles": list(PRINCIPLE_FIELDS),
        "erasure": list(ERASURE_LABELS),
        "order": list(ORDER_LABELS),
        "details": list(DETAIL_SLOTS),
        "topics": list(topic_labels()),
        "csat": ["rating", "none"],
        "needs": [*reasons, *EXTRA_NEEDS],
        "summaries": list(SUMMARY_PARTS),
    }


@lru_cache(maxsize=None)
def _read_console(content_dir: Path) -> dict[str, Any]:
    labels = yaml.safe_load((content_dir / CONSOLE_FILE).read_text(encoding="utf-8")) or {}
    if not isinstance(labels, dict) or not all(isinstance(entries, dict)
                                               for entries in labels.values()):
        raise ContentError(f"{CONSOLE_FILE} must map kinds to labels")
    return labels


def _missing_languages(kind: str, entry: Any) -> list[str]:
    """The console languages an entry of `kind` has no text for."""
    if kind == SWITCHER_KIND:
        return [] if isinstance(entry, str) and entry.strip() else ["name"]
    if kind == LANGUAGE_KIND:
        missing = [] if isinstance(entry, dict) and str(entry.get("badge") or "").strip() \
            else ["badge"]
        entry = entry.get("name") if isinstance(entry, dict) else None
        return missing + _missing_languages("", entry)
    if not isinstance(entry, dict):
        return list(CONSOLE_LANGUAGES)
    return [language for language in CONSOLE_LANGUAGES
            if not isinstance(entry.get(language), str) or not entry[language].strip()]


def missing_console_labels(content_dir: Path = CONTENT_DIR) -> list[str]:
    """`kind.key` of every value without a label in content/console.yml, and `kind.key.nb`
    (and so on) of every label without a text in a console language (tested to be none)."""
    labels = _read_console(content_dir)
    missing = [f"{kind}.{key}" for kind, keys in _required_labels().items()
               for key in keys if not (labels.get(kind) or {}).get(key)]
    return missing + [f"{kind}.{key}.{language}" for kind, entries in labels.items()
                      for key, entry in entries.items()
                      for language in _missing_languages(kind, entry)]


def console_language(language: Optional[str]) -> str:
    """The console language to write in: `language` if the console is written in it."""
    return language if language in CONSOLE_LANGUAGES else FALLBACK_CONSOLE_LANGUAGE


def _in_language(entry: Any, language: str) -> Optional[str]:
    """An entry's text in the language, else in the fallback language (a label being
    translated is shown in English meanwhile, rather than by its key)."""
    if isinstance(entry, str):
        return entry
    if not isinstance(entry, dict):
        return None
    text = entry.get(language) or entry.get(FALLBACK_CONSOLE_LANGUAGE)
    return str(text) if text else None


def console_text(kind: str, key: str, language: str, content_dir: Path = CONTENT_DIR) -> str:
    """One text of content/console.yml in a console language (ContentError when missing)."""
    text = _in_language((_read_console(content_dir).get(kind) or {}).get(key),
                        console_language(language))
    if text is None:
        raise ContentError(f"{CONSOLE_FILE} has no {kind}.{key}")
    return text


def console_name(kind: str, key: str, language: str, content_dir: Path = CONTENT_DIR) -> str:
    """What a value the service sends is called in a console language, else its own name
    (`at_pickup_point` -> `at pickup point`): a value not yet in the file still shows."""
    try:
        return console_text(kind, key, language, content_dir)
    except ContentError:
        return key.replace("_", " ")


def console_summary(key: str, content_dir: Path = CONTENT_DIR, **values: object) -> str:
    """A hand-off summary the service stores itself as the bot's summary (console.yml
    `summaries`), in English like the bot's own: helpdesks receive it as it is."""
    return console_text("summaries", key, FALLBACK_CONSOLE_LANGUAGE, content_dir).format(**values)


@lru_cache(maxsize=None)
def console_labels(language: str = FALLBACK_CONSOLE_LANGUAGE,
                   content_dir: Path = CONTENT_DIR) -> dict[str, Any]:
    """The console's labels in a console language by kind, priorities in queue order, with
    `language` saying which. A value without a label (a new reason not yet in the file) is
    shown as its name, rather than failing the console."""
    language = console_language(language)
    labels = _read_console(content_dir)
    required = _required_labels()
    served: dict[str, Any] = {"language": language}
    for kind in dict.fromkeys([*required, *labels]):
        if kind in SERVICE_KINDS:
            continue
        given = labels.get(kind) or {}
        keys = required.get(kind, [])
        if kind == LANGUAGE_KIND:
            served[kind] = {key: {"badge": str((given.get(key) or {}).get("badge") or key.upper()),
                                  "name": _in_language((given.get(key) or {}).get("name"),
                                                       language) or key}
                            for key in keys}
            continue
        # the required keys come in their enum's order, then the file's other keys
        served[kind] = {key: _in_language(given.get(key), language)
                        or key.replace("_", " ").capitalize()
                        for key in dict.fromkeys([*keys, *given])}
    return served


def login_labels(language: str, content_dir: Path = CONTENT_DIR) -> dict[str, Any]:
    """What the console shows before the agent logs in: its own texts and the languages it
    is written in (nothing about conversations)."""
    labels = console_labels(language, content_dir)
    return {key: labels[key] for key in ("language", "ui", SWITCHER_KIND)}
