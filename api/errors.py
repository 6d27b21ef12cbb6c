"""Refusals a client can act on, raised by services and answered by handlers in api/main.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class ServiceError(Exception):
    """A request the service refuses; `status_code` says which 4xx, `detail` why."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


def validation_details(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What was wrong with a request, without echoing its input: the input may be what
    made it wrong (a lone surrogate, NaN) and cannot always be written back as JSON."""
    return [{"loc": list(error.get("loc", ())), "msg": str(error.get("msg", "")),
             "type": str(error.get("type", ""))} for error in errors]
