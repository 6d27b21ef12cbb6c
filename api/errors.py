"""Refusals a client can act on, raised by services and answered by handlers in api/main.py."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the service refuses; `status_code` says which 4xx, `detail` why."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
