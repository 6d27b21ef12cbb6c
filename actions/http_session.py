"""One pooled aiohttp session per event loop, for the action server's HTTP clients (the
escalation service, a shop's order system): the action server runs one loop, tests run many."""

from __future__ import annotations

import asyncio
from typing import Optional

import aiohttp


class LoopSession:
    """A `ClientSession` with a total timeout, made anew when the loop changes or it closed."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._http: Optional[aiohttp.ClientSession] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    async def get(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._http is None or self._http.closed or self._loop is not loop:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._loop = loop
        return self._http

    async def close(self) -> None:
        if self._http is not None and not self._http.closed:
            await self._http.close()
        self._http = None
