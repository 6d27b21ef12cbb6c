"""All configuration of the escalation service, from the environment (prefix NORDHEM_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    actions_url: str = "http://localhost:5055"
    rasa_timeout_seconds: float = 10.0
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
    max_message_length: int = 2000
    agent_token_days: int = Field(default=90, description="an agent token expires this many days "
                                  "after it was issued; `python -m api agents rotate` issues anew")
    max_body_bytes: int = Field(default=65_536, description="larger request bodies are refused "
                                "with 413 before they are read")
    metrics_token: str = Field(default="", description="bearer token for GET /metrics; without "
                               "one, /metrics answers only callers on this machine")

    @model_validator(mode="after")
    def webhooks_are_signed(self) -> "Settings":
        if self.webhook_url_list and not self.webhook_secret:
            raise ValueError("NORDHEM_WEBHOOK_URLS is set but NORDHEM_WEBHOOK_SECRET is empty: "
                             "helpdesk webhooks are always signed")
        return self

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def webhook_url_list(self) -> list[str]:
        return [url.strip() for url in self.webhook_urls.split(",") if url.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
