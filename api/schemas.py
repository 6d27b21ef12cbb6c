"""Request and response bodies of the public contract, with examples for the OpenAPI page."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Optional
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from core.vocabulary import ConversationStatus, EscalationStatus, Priority

# the languages of core/languages.py, spelled out for the OpenAPI schema (a test keeps them equal)
Language = Literal["nb", "da", "sv"]
Sender = Literal["customer", "bot", "agent", "system"]


def encodable(text: str) -> str:
    """Refuse text that cannot be stored or sent as UTF-8 (an unpaired surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("text is not valid Unicode (an unpaired surrogate)") from error
    return text


# text a person wrote: anything, as long as it is real Unicode
PlainText = Annotated[str, AfterValidator(encodable)]


class StartConversation(BaseModel):
    language: Optional[Language] = Field(None, description="hint: the page's language")
    page: Optional[PlainText] = Field(None, max_length=500, description="URL the widget is on")

    @field_validator("page")
    @classmethod
    def page_is_a_url(cls, page: Optional[str]) -> Optional[str]:
        if page:
            try:
                urlsplit(page)
            except ValueError as error:
                raise ValueError("page must be a URL") from error
        return page
    model_config = ConfigDict(json_schema_extra={"example": {"language": "sv",
                                                             "page": "https://shop.example/"}})


class ConversationStarted(BaseModel):
    conversation_id: str
    customer_token: str = Field(description="Bearer token for this conversation only")
    status: ConversationStatus = ConversationStatus.BOT


class Button(BaseModel):
    title: str
    payload: str


class CustomerMessage(BaseModel):
    text: Optional[PlainText] = Field(None, description="what the customer typed")
    payload: Optional[str] = Field(None, description="a button's payload, e.g. /track_order")
    model_config = ConfigDict(json_schema_extra={"example": {"text": "Var är mitt paket?"}})


class MessageOut(BaseModel):
    id: Optional[int] = None
    sender: Sender
    text: str
    buttons: Optional[list[Button]] = None
    agent_name: Optional[str] = None
    created_at: Optional[dt.datetime] = None


class EscalationInfo(BaseModel):
    """Where a waiting customer stands: place, a credible wait or none, opening hours."""

    reference: str
    position: Optional[int] = None
    eta_minutes: Optional[int] = Field(default=None, description="the wait's lower bound; "
                                       "none without a basis (too few served lately)")
    eta_max_minutes: Optional[int] = None
    next_open: Optional[str] = None
    open_now: Optional[bool] = None
    agents_available: Optional[int] = Field(default=None, description="agents free to take it "
                                            "now; none when unknown (agents work in a helpdesk)")


class MessagesReply(BaseModel):
    messages: list[MessageOut]
    status: ConversationStatus
    escalation: Optional[EscalationInfo] = None
    model_config = ConfigDict(json_schema_extra={"example": {
        "messages": [{"sender": "bot", "text": "Du är nummer 2 i kön..."}],
        "status": "queued",
        "escalation": {"reference": "NH-7Q2K4M", "position": 2, "eta_minutes": 4,
                       "next_open": None}}})


class History(BaseModel):
    messages: list[MessageOut]
    status: ConversationStatus
    language: Optional[Language]
    escalation: Optional[EscalationInfo] = None


class TranscriptLine(BaseModel):
    sender: str
    text: PlainText
    timestamp: Optional[float] = None


class EscalationHook(BaseModel):
    """What the action server sends when the bot hands over."""

    event_id: str = Field(min_length=8, max_length=64, description="unique; replays are refused")
    sent_at: float = Field(description="unix time the hook was signed", allow_inf_nan=False)
    conversation_id: str = Field(min_length=1, max_length=40)
    language: Language
    reason: str = Field(min_length=1, max_length=40)
    priority: Priority = Priority.NORMAL
    summary: PlainText = Field("", max_length=4000)
    topics: list[str] = []
    details: dict[str, Any] = {}
    transcript: list[TranscriptLine] = []
    scorecard: Optional[dict[str, Any]] = None
    model_config = ConfigDict(json_schema_extra={"example": {
        "event_id": "5f0c7d1e2a9b4c3d", "sent_at": 1764093780.0, "conversation_id": "c_abc",
        "language": "nb", "reason": "request_human", "priority": "normal",
        "summary": "Customer writes nb; hand-off because: request human.",
        "topics": ["track_order"], "details": {"order_number": "10483921"},
        "transcript": [{"sender": "customer", "text": "hvor er pakken min?"}]}})


class EscalationReceipt(EscalationInfo):
    """What the bot is told about a new (or the open) escalation of its conversation."""

    agents_online: int


class EscalationSummary(BaseModel):
    id: int
    reference: str
    conversation_id: str
    language: str
    reason: str
    priority: Priority
    summary: str
    status: EscalationStatus
    created_at: dt.datetime
    wait_seconds: int
    agent_name: Optional[str] = None


class EscalationDetail(EscalationSummary):
    topics: list[str]
    details: dict[str, Any]
    transcript: list[dict[str, Any]]
    messages: list[MessageOut]
    scorecard: Optional[dict[str, Any]]


class AgentText(BaseModel):
    text: PlainText = Field(min_length=1)


class Resolve(BaseModel):
    return_to_bot: bool = False


class AgentOut(BaseModel):
    id: int
    name: str


class HelpdeskReply(BaseModel):
    """A reply written in the company's own helpdesk, posted back to the customer."""

    event_id: str = Field(min_length=8, max_length=64)
    reference: str
    agent_name: str = Field(min_length=1, max_length=100)
    text: PlainText = Field(min_length=1)


class LanguageLabel(BaseModel):
    badge: str
    name: str


class ConsoleLabels(BaseModel):
    """What the agent console calls reasons, priorities, statuses, languages and principles
    (content/console.yml)."""

    reasons: dict[str, str]
    priorities: dict[str, str] = Field(description="in queue order, most urgent first")
    statuses: dict[str, str]
    languages: dict[str, LanguageLabel]
    principles: dict[str, str]
    erasure: dict[str, str] = Field(default_factory=dict, description="the erasure request's "
                                    "button, its question and what it says when done")
    order: dict[str, str] = Field(default_factory=dict, description="the order panel: its "
                                  "heading, notes and the names of the order's details")
    model_config = ConfigDict(json_schema_extra={"example": {
        "reasons": {"request_human": "Asked for a person"},
        "priorities": {"urgent": "Urgent", "high": "High", "normal": "Normal"},
        "statuses": {"queued": "Queued"}, "languages": {"nb": {"badge": "NO", "name": "Norwegian"}},
        "principles": {"welcomed": "Welcomed the customer"}}})


class ErasureOut(BaseModel):
    """What an erasure removed: counts and the references, nothing of the conversation."""

    references: list[str] = Field(description="the conversation's escalations, e.g. NH-7KQ2MX")
    requested_by: Literal["agent", "operator", "retention"]
    erased_at: dt.datetime
    messages: int
    escalations: int
    outbox_events: int = Field(description="helpdesk webhook events about it")
    tracker_events: int = Field(description="its events in Rasa's tracker store")
    model_config = ConfigDict(json_schema_extra={"example": {
        "references": ["NH-7KQ2MX"], "requested_by": "agent",
        "erased_at": "2026-11-30T10:00:00Z", "messages": 6, "escalations": 1,
        "outbox_events": 0, "tracker_events": 41}})
