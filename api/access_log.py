"""uvicorn's logging without query strings: whatever a client puts in a URL (a token, a
customer's words) never reaches a log. `python -m api serve` runs uvicorn with `log_config()`;
it is plain JSON, so `uvicorn --log-config FILE` can take the same."""

from __future__ import annotations

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG


def path_only(value: object) -> object:
    """A request target without its query string; anything else as it is."""
    if isinstance(value, str) and value.startswith("/") and "?" in value:
        return value.split("?", 1)[0]
    return value


class WithoutQueryString(logging.Filter):
    """Cut the query string off the paths in a record's arguments: uvicorn's access lines
    (`"GET /path?query HTTP/1.1" 200`) and its WebSocket lines (`"WebSocket /path?query"`)
    both pass the path with its query string as an argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(path_only(arg) for arg in record.args)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with the filter on each of its handlers."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"without_query_string": {"()": f"{__name__}.WithoutQueryString"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["without_query_string"]
    return config
