"""The FastAPI app: widget gateway, escalation hooks, agent console."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse

from api.db import Database
from api.events import EventBus
from api.migrate import upgrade
from api.routers import conversations, escalations, hooks, ops, ws
from api.services.hub import Hub
from api.services.outbox import deliver_forever
from api.services.rasa_client import RasaClient
from api.settings import Settings, get_settings

STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upgrade(settings.database_url)
        hub = Hub(settings, Database(settings.database_url), EventBus(),
                  RasaClient(settings.rasa_url, settings.rasa_timeout_seconds))
        app.state.hub = hub
        delivery = asyncio.create_task(deliver_forever(
            hub.database.sessions, settings.webhook_secret, settings.webhook_max_attempts))
        yield
        delivery.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await delivery
        await hub.rasa.close()
        hub.database.engine.dispose()

    app = FastAPI(title="Nordhem escalation service", version="0.1.0", lifespan=lifespan,
                  description="Front door for the chat widget and hub between the bot "
                              "and human agents. See README.md.")
    app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origin_list,
                       allow_methods=["GET", "POST"],
                       allow_headers=["Authorization", "Content-Type"])
    for router in (conversations.router, escalations.router, hooks.router, ws.router, ops.router):
        app.include_router(router)

    @app.get("/agent", include_in_schema=False)
    def agent_console() -> FileResponse:
        return FileResponse(STATIC / "agent.html")

    @app.get("/", include_in_schema=False)
    def demo_shop() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/widget.js", include_in_schema=False)
    def widget_script() -> FileResponse:
        return FileResponse(STATIC / "widget.js", media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=300"})

    @app.get("/widget.css", include_in_schema=False)
    def widget_styles() -> FileResponse:
        return FileResponse(STATIC / "widget.css", media_type="text/css",
                            headers={"Cache-Control": "public, max-age=300"})

    return app
