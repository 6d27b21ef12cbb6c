"""The FastAPI app: widget gateway, escalation hooks, agent console."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import ObjectDeletedError

from api.db import DATABASE_RETRY_SECONDS, DATABASE_UNAVAILABLE, Database
from api.errors import ServiceError, validation_details
from api.events import Events
from api.limits import BodySizeLimit
from api.listeners import wire
from api.migrate import upgrade
from api.openapi import declare_models
from api.rate_limits import RateLimited, RateLimitMiddleware, RateLimits, too_many_requests
from api.relay import event_bus
from api.routers import agents, conversations, escalations, hooks, ops, suggestions, ws
from api.services.admission import Busy
from api.services.hub import Hub
from api.services.job_lock import JobLock
from api.services.outbox import deliver_forever
from api.services.rasa_client import RasaClient
from api.services.retention import purge_forever
from api.settings import Settings, get_settings
from api.state import TransitionError
from api.texts import widget_script

logger = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
SHORT_CACHE = {"Cache-Control": "public, max-age=300"}


def create_app(settings: Settings | None = None,
               clock: Callable[[], dt.datetime] | None = None) -> FastAPI:
    """The service; `clock` (tests) replaces the wall clock for waits and opening hours."""
    settings = settings or get_settings()
    rate_limits = RateLimits(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await rate_limits.open()
        upgrade(settings.database_url)
        bus = event_bus(settings.bus_url, settings.bus_channel)
        await bus.start()
        hub = Hub(settings, Database(settings.database_url), Events(), bus,
                  RasaClient(settings.rasa_url_list, settings.rasa_timeout_seconds,
                             settings.rasa_jwt_secret, settings.rasa_down_seconds))
        if clock is not None:
            hub.clock = clock
        wire(hub)
        app.state.hub = hub
        delivery = asyncio.create_task(deliver_forever(
            hub.database.sessions, settings.webhook_secret, settings.webhook_max_attempts,
            lock=JobLock(hub.database.engine, "outbox"))) \
            if settings.outbox_worker else None
        # retention and empty conversations (api/services/retention.py); 0: cron does it
        purging = asyncio.create_task(purge_forever(hub, settings.purge_interval_seconds)) \
            if settings.purge_interval_seconds > 0 else None
        yield
        for job in (delivery, purging):
            if job is not None:
                job.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await job
        await hub.rasa.close()
        await bus.close()
        await rate_limits.close()
        hub.database.engine.dispose()

    app = FastAPI(title="Nordhem escalation service", version="0.1.0", lifespan=lifespan,
                  description="Front door for the chat widget and hub between the bot "
                              "and human agents. See README.md.")
    app.state.rate_limits = rate_limits
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # per-IP limits before anything is parsed or authenticated; inside CORS, so that the
    # widget on the shop's page can read a 429 and its Retry-After
    app.add_middleware(RateLimitMiddleware, limits=rate_limits)
    app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origin_list,
                       allow_methods=["GET", "POST"],
                       allow_headers=["Authorization", "Content-Type"],
                       expose_headers=["Retry-After"])
    for router in (conversations.router, agents.router, escalations.router, hooks.router,
                   suggestions.router, ws.router, ops.router):
        app.include_router(router)
    declare_models(app, hooks.BODIES)

    @app.exception_handler(ServiceError)
    async def refused(request: Request, error: ServiceError) -> JSONResponse:
        return JSONResponse({"detail": error.detail}, status_code=error.status_code)

    @app.exception_handler(RateLimited)
    async def limited(request: Request, error: RateLimited) -> JSONResponse:
        return too_many_requests(error)

    @app.exception_handler(Busy)
    async def busy(request: Request, error: Busy) -> JSONResponse:
        # overload is turned away at once and honestly, never queued for seconds
        return JSONResponse({"detail": "many customers are writing right now; nothing was "
                                       "stored: send the message again in a moment",
                             "code": "busy"}, status_code=503,
                            headers={"Retry-After": str(error.retry_after)})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_details(error.errors())}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        # the safety net: a bug is logged with its trace and answered plainly, never with
        # internals; every known bad input has its own 4xx above
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    async def database_unavailable(request: Request, error: Exception) -> JSONResponse:
        # the database is restarting or out of reach: a 503 to retry shortly, not a 500;
        # the pool checks each connection before use, so the first request after it is back works
        logger.warning("database unavailable on %s %s (%s)", request.method, request.url.path,
                       type(error).__name__)
        return JSONResponse({"detail": "the database is not answering right now; try again in "
                                       "a few seconds"}, status_code=503,
                            headers={"Retry-After": str(DATABASE_RETRY_SECONDS)})

    for unavailable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unavailable, database_unavailable)

    @app.exception_handler(ObjectDeletedError)
    async def gone(request: Request, error: ObjectDeletedError) -> JSONResponse:
        # erased (or purged) while this request was working on it
        return JSONResponse({"detail": "it was erased meanwhile"}, status_code=404)

    @app.exception_handler(IntegrityError)
    async def clashed(request: Request, error: IntegrityError) -> JSONResponse:
        # a change at the same moment took the row away or took its place first
        logger.warning("integrity conflict on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "it changed at the same moment; reload and try again"},
                            status_code=409)

    @app.exception_handler(TransitionError)
    async def conflict(request: Request, error: TransitionError) -> JSONResponse:
        # a move the state machine does not allow is the client's conflict, not our failure
        return JSONResponse({"detail": error.detail}, status_code=409)

    @app.get("/agent", include_in_schema=False)
    def agent_console() -> FileResponse:
        # the console shows customers' words: no framing, no scripts but its own
        return FileResponse(STATIC / "agent.html", headers={
            "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                       "frame-ancestors 'none'; "
                                       "object-src 'none'; base-uri 'none'",
            "X-Frame-Options": "DENY"})

    @app.get("/agent.js", include_in_schema=False)
    def agent_script() -> FileResponse:
        return FileResponse(STATIC / "agent.js", media_type="text/javascript",
                            headers=SHORT_CACHE)

    @app.get("/suggestions.js", include_in_schema=False)
    def suggestions_script() -> FileResponse:
        # the console's suggested answers (GET /api/escalations/{id}/suggestions)
        return FileResponse(STATIC / "suggestions.js", media_type="text/javascript",
                            headers=SHORT_CACHE)

    @app.get("/", include_in_schema=False)
    def demo_shop() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> Response:
        """The widget, with its texts from content/widget.yml."""
        return Response(widget_script(), media_type="text/javascript", headers=SHORT_CACHE)

    @app.get("/widget.css", include_in_schema=False)
    def widget_styles() -> FileResponse:
        return FileResponse(STATIC / "widget.css", media_type="text/css", headers=SHORT_CACHE)

    return app
