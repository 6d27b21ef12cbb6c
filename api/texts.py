"""What the widget and the agent console show, from content/ (edited by non-developers).

The widget's texts (content/widget.yml, nb/da/sv like notices.yml) are put into widget.js
when it is served; the console's labels (content/console.yml, English) come from
GET /api/labels, each checked to cover every value the service sends.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from core.content import CONTENT_DIR, ContentError, read_texts
from core.languages import LANGUAGES
from core.scorecard import PRINCIPLE_FIELDS
from core.vocabulary import ORDER_DETAIL_FIELDS, EscalationStatus, HandoffReason, Priority

STATIC = Path(__file__).resolve().parent / "static"
WIDGET_FILE = "widget.yml"
CONSOLE_FILE = "console.yml"
# the erasure request's button in the console, its confirmation question, and its result
ERASURE_LABELS = ("confirm", "question", "done")
# the console's order panel: its heading, its note on what the bot checked, and each detail
ORDER_LABELS = ("panel", "verified_note", "unverified_note", *ORDER_DETAIL_FIELDS)
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
    """Every value the service can send, by kind, that the console shows by name."""
    return {
        "reasons": [reason.value for reason in HandoffReason],
        "priorities": [priority.value for priority in Priority],
        "statuses": [status.value for status in EscalationStatus],
        "languages": list(LANGUAGES),
        "principles": list(PRINCIPLE_FIELDS),
        "erasure": list(ERASURE_LABELS),
        "order": list(ORDER_LABELS),
        "csat": ["rating", "none"],
    }


def _read_console(content_dir: Path) -> dict[str, Any]:
    labels = yaml.safe_load((content_dir / CONSOLE_FILE).read_text(encoding="utf-8")) or {}
    if not isinstance(labels, dict):
        raise ContentError(f"{CONSOLE_FILE} must map kinds to labels")
    return labels


def missing_console_labels(content_dir: Path = CONTENT_DIR) -> list[str]:
    """`kind.key` of every value without a label in content/console.yml (tested to be none)."""
    labels = _read_console(content_dir)
    return [f"{kind}.{key}" for kind, keys in _required_labels().items()
            for key in keys if not (labels.get(kind) or {}).get(key)]


def console_summary(key: str, content_dir: Path = CONTENT_DIR, **values: object) -> str:
    """A hand-off summary the service writes itself, for agents (console.yml `summaries`)."""
    summaries = _read_console(content_dir).get("summaries") or {}
    if key not in summaries:
        raise ContentError(f"{CONSOLE_FILE} has no summaries.{key}")
    return str(summaries[key]).format(**values)


@lru_cache(maxsize=None)
def console_labels(content_dir: Path = CONTENT_DIR) -> dict[str, Any]:
    """The console's labels by kind, priorities in queue order. A value without a label (a new
    reason not yet in the file) is shown as its name, rather than failing the console."""
    labels = _read_console(content_dir)
    served: dict[str, Any] = {}
    for kind, keys in _required_labels().items():
        given = labels.get(kind) or {}
        if kind == "languages":
            served[kind] = {key: given.get(key) or {"badge": key.upper(), "name": key}
                            for key in keys}
        else:  # the file's extra keys are kept; the required ones come in their enum's order
            fallback = {key: given.get(key) or key.replace("_", " ").capitalize() for key in keys}
            served[kind] = {**fallback, **{k: v for k, v in given.items() if k not in fallback}}
    return served
