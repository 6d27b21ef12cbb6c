"""All configuration of the escalation service, from the environment (prefix NORDHEM_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from limits import parse_many
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.models import AGENT_LANGUAGES
from core.languages import LANGUAGES
from core.limits import MAX_MESSAGE_LENGTH

ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Read from environment variables, e.g. NORDHEM_DATABASE_URL."""

    model_config = SettingsConfigDict(env_prefix="NORDHEM_", env_file=ROOT / ".env",
                                      extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'var' / 'escalations.db'}",
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://... for PostgreSQL",
    )
    rasa_url: str = "http://localhost:5005"
    rasa_urls: str = Field(default="", description="comma-separated Rasa servers sharing one "
                           "tracker and lock store (make run-scaled); each conversation goes to "
                           "one by consistent hashing, and to the next when it is down; empty: "
                           "NORDHEM_RASA_URL alone")
    rasa_down_seconds: float = Field(default=5.0, gt=0, description="a Rasa server that could "
                                     "not be reached is tried last for this long")
    bus_url: str = Field(default="", description="redis://host:port/db: WebSocket events "
                         "reach the customer's or agent's socket whichever service process "
                         "holds it (needed with more than one process); empty: in-process only")
    bus_channel: str = Field(default="nordhem:live", description="the Redis channel of those "
                             "events: one per deployment sharing a Redis server")
    actions_url: str = "http://localhost:5055"
    rasa_timeout_seconds: float = 10.0
    # the load this process puts on Rasa (api/services/admission.py): messages at Rasa at
    # once, how many more may wait for a slot and how long, and the Retry-After beyond that
    # Off by default (limits nothing reaches): with 8 / 32 the bench at 200 conversations fell
    # from 43 to 3.4 good msg/s (docs/benchmarks.md); to be tuned with issue 15
    rasa_max_in_flight: int = Field(default=1000, ge=1, le=1000)
    rasa_max_waiting: int = Field(default=10000, ge=0, le=10000)
    rasa_wait_seconds: float = Field(default=1.0, ge=0, le=30)
    busy_retry_seconds: int = Field(default=2, ge=1, le=60)
    rasa_jwt_secret: str = Field(default="", description="Rasa's --jwt-secret: the service "
                                 "signs short-lived tokens for Rasa's HTTP API with it")
    hook_secret: str = Field(default="", description="shared secret of POST /hooks/escalations")
    hook_max_age_seconds: int = 300
    helpdesk_secret: str = Field(default="", description="secret of the inbound helpdesk hook")
    webhook_urls: str = Field(default="", description="comma-separated helpdesk webhook URLs")
    webhook_secret: str = ""
    webhook_max_attempts: int = 8
    outbox_worker: bool = Field(default=True, description="deliver the helpdesk webhooks from "
                                "this process (off: another process, or a test, delivers them)")
    cors_origins: str = Field(default="http://localhost:8000",
                              description="comma-separated allowed origins")
    wait_window_minutes: int = Field(default=60, description="how far back the rate at which "
                                     "the queue is served is measured, for waiting times")
    wait_min_served: int = Field(default=3, description="escalations taken in that window "
                                 "before a waiting time is given at all")
    wait_floor_minutes: int = Field(default=2, description="the shortest wait ever promised")
    max_message_length: int = Field(default=MAX_MESSAGE_LENGTH, ge=1, le=MAX_MESSAGE_LENGTH,
                                    description="longest message a customer or agent may "
                                    "send; never more than Rasa's channel takes "
                                    "(core.limits.MAX_MESSAGE_LENGTH)")
    agent_token_days: int = Field(default=90, description="an agent token expires this many days "
                                  "after it was issued; `python -m api agents rotate` issues anew")
    tracker_store_url: str = Field(
        default=f"sqlite:///{ROOT / '.rasa' / 'trackers.db'}",
        description="SQLAlchemy URL of Rasa's tracker store (bot/endpoints.yml), where erasing "
                    "a conversation also deletes its events; a SQLite file that does not exist "
                    "holds nothing to erase")
    retention_days: int = Field(default=90, ge=1, description="a conversation without activity "
                                "for this many days is erased (python -m api purge, and the "
                                "service's purge job)")
    empty_conversation_minutes: int = Field(
        default=60, ge=1, description="a conversation in which the customer wrote nothing (a "
        "widget that was only opened) is deleted this many minutes after it started")
    purge_interval_seconds: float = Field(
        default=600, ge=0, description="how often the service runs the purge (retention and "
        "empty conversations); 0: not at all (cron runs `python -m api purge` instead)")
    max_body_bytes: int = Field(default=65_536, description="larger request bodies are refused "
                                "with 413 before they are read")
    rate_limit_storage: str = Field(
        default="memory://", description="where rate limits are counted: memory:// (each "
        "process on its own) or redis://host:port/db (shared by every instance of the service)")
    rate_limit_prefix: str = Field(default="nordhem-rate-limits",
                                   description="prefix of the rate limits' keys in Redis")
    rate_limit_requests: str = Field(
        default="600/minute", description="per client IP: requests to /api/, /ws/ and /health "
        "(anything that reaches the database, Rasa or a token check); e.g. '600/minute' or "
        "'600/minute;5000/hour'; empty: no limit")
    rate_limit_new_conversations: str = Field(
        default="20/minute", description="per client IP: new conversations (POST /api/conversations)")
    rate_limit_messages: str = Field(
        default="30/minute", description="per conversation: messages its customer sends")
    rate_limit_retry_seconds: float = Field(
        default=30, gt=0, description="after Redis failed to answer, limits are counted in the "
        "process's memory for this long before Redis is tried again")
    metrics_token: str = Field(default="", description="bearer token for GET /metrics; without "
                               "one, /metrics answers only callers on this machine")
    typing_interval_seconds: float = Field(
        default=2.0, ge=0, description="typing signals (the customer's over the WebSocket, the "
        "agent's POST /api/escalations/{id}/typing) are relayed at most once per this many "
        "seconds per conversation and sender; the others are dropped unread (the customer's "
        "before any database query, the agent's right after the token check)")
    ws_auth_seconds: float = Field(default=10.0, gt=0, description="a WebSocket must send its "
                                   "auth frame within this many seconds, or it is closed (4408)")
    ws_recheck_seconds: float = Field(default=30.0, gt=0, description="an agent's open socket "
                                      "checks its token again this often: a revoked or expired "
                                      "token closes it (4401)")

    language_fallback: str = Field(
        default="", description="escalations of one language that agents serving another "
        "may also take, as FROM:TO pairs: 'nb:da,da:nb' lets Danish-serving agents take "
        "Norwegian escalations and the other way round; empty: each language's own agents only")
    auto_assign: bool = Field(
        default=False, description="give the next matching queued escalation to an online "
        "agent with free capacity (fewest open conversations first) when one is created, when "
        "an agent's load drops or when an agent comes online; off: agents claim from the queue")

    @field_validator("language_fallback")
    @classmethod
    def language_fallback_parses(cls, value: str) -> str:
        for pair in (part.strip() for part in value.split(",")):
            source, _, target = pair.partition(":")
            if not pair:
                continue
            if source.strip() not in LANGUAGES or target.strip() not in AGENT_LANGUAGES \
                    or source.strip() == target.strip():
                raise ValueError(
                    f"{pair!r} is not a fallback such as 'nb:da': an escalation language "
                    f"({', '.join(LANGUAGES)}), a colon, and another language agents serve "
                    f"({', '.join(AGENT_LANGUAGES)})")
        return value

    @field_validator("rate_limit_requests", "rate_limit_new_conversations", "rate_limit_messages")
    @classmethod
    def rate_limit_parses(cls, value: str) -> str:
        if value.strip():
            try:
                parse_many(value)
            except ValueError as error:
                raise ValueError(f"{value!r} is not a rate limit such as '20/minute' or "
                                 "'20/minute;200/hour'") from error
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def rate_limit_storage_known(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://")):
            raise ValueError("rate limit storage must be memory:// or redis://host:port/db")
        return value

    @model_validator(mode="after")
    def webhooks_are_signed(self) -> "Settings":
        if self.webhook_url_list and not self.webhook_secret:
            raise ValueError("NORDHEM_WEBHOOK_URLS is set but NORDHEM_WEBHOOK_SECRET is empty: "
                             "helpdesk webhooks are always signed")
        return self

    @field_validator("bus_url")
    @classmethod
    def bus_is_redis(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("the bus must be Redis: redis://host:port/db")
        return value

    @property
    def rasa_url_list(self) -> list[str]:
        """The Rasa servers, NORDHEM_RASA_URLS or else NORDHEM_RASA_URL."""
        urls = [url.strip() for url in self.rasa_urls.split(",") if url.strip()]
        return urls or [self.rasa_url]

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def language_fallbacks(self) -> dict[str, frozenset[str]]:
        """Escalation language -> the other languages whose agents may also take it."""
        fallbacks: dict[str, set[str]] = {}
        for pair in self.language_fallback.split(","):
            source, _, target = pair.partition(":")
            if source.strip() and target.strip():
                fallbacks.setdefault(source.strip(), set()).add(target.strip())
        return {source: frozenset(targets) for source, targets in fallbacks.items()}

    @property
    def webhook_url_list(self) -> list[str]:
        return [url.strip() for url in self.webhook_urls.split(",") if url.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
