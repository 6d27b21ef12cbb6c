"""Limits every part enforces alike: the service at its front door, Rasa at its channel."""

from __future__ import annotations

# the longest customer message, in characters (Python's len: code points); the widget's
# text box says 2000 too (api/static/widget.js)
MAX_MESSAGE_LENGTH = 2000
