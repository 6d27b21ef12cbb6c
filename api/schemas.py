"""Request and response bodies of the public contract, with examples for the OpenAPI page."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache
from typing import Annotated, Any, Literal, Optional, cast
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from api.models import (
    AGENT_LANGUAGES,
    DEFAULT_CONVERSATIONS,
    MAX_CONVERSATIONS,
    MIN_CONVERSATIONS,
    Presence,
)
from core.languages import LANGUAGES
from core.vocabulary import ConversationStatus, EscalationStatus, Priority

# the languages of core/languages.py, spelled out for the OpenAPI schema (a test keeps them equal)
Language = Literal["nb", "da", "sv"]
Sender = Literal["customer", "bot", "agent", "system"]
# the languages an agent may serve: api/models.py AGENT_LANGUAGES (a test keeps them equal)
AgentLanguage = Literal["nb", "da", "sv", "en"]
# the languages the console is written in: api/models.py CONSOLE_LANGUAGES (tested equal)
ConsoleLanguage = Literal["nb", "da", "sv", "en"]


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


# the client's id for one customer message: 8-64 letters, digits, "-" or "_" (a UUID fits)
CLIENT_MESSAGE_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


class CustomerMessage(BaseModel):
    text: Optional[PlainText] = Field(None, description="what the customer typed")
    payload: Optional[str] = Field(None, description="a button's payload, e.g. /track_order")
    client_message_id: Optional[str] = Field(
        None, min_length=8, max_length=64, pattern=CLIENT_MESSAGE_ID_PATTERN,
        description="the client's own id for this message (e.g. a UUID), the same on every "
                    "retry of it: the message is stored and answered once, a repeat gets the "
                    "first answer again (409 with Retry-After while that is still being made; "
                    "409 if the id was used for a different message)")
    model_config = ConfigDict(json_schema_extra={"example": {
        "text": "Var är mitt paket?", "client_message_id": "3f1c2a9e-7b4d-4e0a-9c51-2d8f6b0e4a17"}})


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
    agent_name: Optional[str] = Field(default=None, description="the agent who has it already "
                                      "(given to them at once by auto-assignment)")


CsatState = Literal["asked", "answered", "skipped"]


class CsatOut(BaseModel):
    """Whether the customer was asked to rate the conversation, and what they said."""

    state: CsatState
    score: Optional[int] = None


class MessagesReply(BaseModel):
    messages: list[MessageOut]
    status: ConversationStatus
    escalation: Optional[EscalationInfo] = None
    csat: Optional[CsatOut] = Field(None, description="asked: show the rating question")
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
    csat: Optional[CsatOut] = Field(None, description="asked: show the rating question")


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
    answered: list[Annotated[PlainText, Field(max_length=60)]] = Field(
        default_factory=list, max_length=100,
        description="the topics the bot answered before the hand-off, so that the agent does "
                    "not repeat them (optional: older bots do not send it)")
    model_config = ConfigDict(json_schema_extra={"example": {
        "event_id": "5f0c7d1e2a9b4c3d", "sent_at": 1764093780.0, "conversation_id": "c_abc",
        "language": "nb", "reason": "request_human", "priority": "normal",
        "summary": "Customer writes nb; hand-off because: request human.",
        "topics": ["shipping_cost", "track_order"], "answered": ["shipping_cost"],
        "details": {"order_number": "10483921"},
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
    summary: str = Field(description="written for the agent in their console language (for "
                         "a helpdesk: in English) from the reason, facts and topics")
    bot_summary: str = Field(description="the bot's own summary, as it sent it")
    status: EscalationStatus
    created_at: dt.datetime
    wait_seconds: int
    agent_name: Optional[str] = None


class EscalationDetail(EscalationSummary):
    topics: list[str]
    answered: list[str] = Field(default_factory=list, description="the topics the bot "
                                "answered before the hand-off")
    details: dict[str, Any]
    transcript: list[dict[str, Any]]
    messages: list[MessageOut]
    scorecard: Optional[dict[str, Any]]
    csat_score: Optional[int] = Field(None, description="the customer's rating 1-5 after it")


class AgentText(BaseModel):
    text: PlainText = Field(min_length=1)


class Resolve(BaseModel):
    return_to_bot: bool = False


def agent_languages(languages: list[str]) -> list[str]:
    """Each language once, in AGENT_LANGUAGES' order; at least one."""
    unknown = [language for language in languages if language not in AGENT_LANGUAGES]
    if unknown:
        raise ValueError(f"unknown language {unknown[0]!r}: an agent serves "
                         f"{', '.join(AGENT_LANGUAGES)}")
    if not languages:
        raise ValueError(f"an agent serves at least one language ({', '.join(AGENT_LANGUAGES)})")
    return [language for language in AGENT_LANGUAGES if language in languages]


def agent_name(name: str) -> str:
    """The name customers see when the agent joins: 1-100 printable characters."""
    name = encodable(name).strip()
    if not 1 <= len(name) <= 100:
        raise ValueError("an agent's name is 1-100 characters")
    if not name.isprintable():
        raise ValueError("an agent's name has no control characters (line breaks, tabs)")
    return name


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone(name: str) -> str:
    """An IANA time zone name this machine knows (Europe/Oslo), for the console's times."""
    if name not in _time_zones():
        raise ValueError(f"unknown time zone {name!r}: give an IANA name such as "
                         "Europe/Oslo, Europe/Copenhagen or Europe/Stockholm")
    return name


AgentLanguages = Annotated[list[AgentLanguage], AfterValidator(agent_languages)]
TimeZone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(time_zone)]
AgentName = Annotated[str, AfterValidator(agent_name)]
Conversations = Annotated[int, Field(strict=True, ge=MIN_CONVERSATIONS, le=MAX_CONVERSATIONS,
                                     description="how many conversations the agent holds "
                                                 "at once; no new ones are offered beyond")]


class AgentOut(BaseModel):
    """An agent's profile: who they are, what they take and whether they take it now."""

    id: int
    name: str
    languages: list[AgentLanguage] = Field(description="the escalations they are offered are "
                                           "in these languages (and any the service's "
                                           "language fallback adds)")
    max_conversations: int
    presence: Presence = Field(description="online: takes conversations; away: at work, "
                               "offered none (may still claim); offline: not at work")
    is_admin: bool
    active: bool = Field(description="a deactivated agent cannot sign in")
    open_conversations: int = Field(description="escalations they hold now (with_agent)")
    console_language: ConsoleLanguage = Field(description="the language they read the "
                                              "console and the summaries in")
    time_zone: str = Field(description="the IANA time zone the console shows times in")
    model_config = ConfigDict(json_schema_extra={"example": {
        "id": 3, "name": "Kari", "languages": ["nb", "da"], "max_conversations": 3,
        "presence": "online", "is_admin": False, "active": True, "open_conversations": 1,
        "console_language": "nb", "time_zone": "Europe/Oslo"}})


class AgentWithToken(AgentOut):
    """A new agent, or one whose token was rotated: the token is shown this once only."""

    token: str = Field(description="the agent's bearer token; stored only as a hash")


class Preferences(BaseModel):
    """How an agent reads the console: its language and the time zone of its times; what is
    left out stays as it is."""

    console_language: Optional[ConsoleLanguage] = None
    time_zone: Optional[TimeZone] = None
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "console_language": "sv", "time_zone": "Europe/Stockholm"}})

    @model_validator(mode="after")
    def changes_something(self) -> "Preferences":
        if self.console_language is None and self.time_zone is None:
            raise ValueError("nothing to change: give console_language or time_zone")
        return self


class PresenceChange(BaseModel):
    presence: Presence
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"example": {"presence": "away"}})


class NewAgent(BaseModel):
    name: AgentName
    languages: AgentLanguages = Field(
        default_factory=lambda: list(cast(tuple[AgentLanguage, ...], LANGUAGES)),
        description="default: every language customers write in")
    max_conversations: Conversations = DEFAULT_CONVERSATIONS
    is_admin: StrictBool = False
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "name": "Kari", "languages": ["nb", "da"], "max_conversations": 4, "is_admin": False}})


class AgentChange(BaseModel):
    """What an admin changes of an agent; what is left out stays as it is."""

    languages: Optional[AgentLanguages] = None
    max_conversations: Optional[Conversations] = None
    active: Optional[StrictBool] = Field(None, description="false: the agent can no longer "
                                         "sign in (refused while they hold open conversations)")
    is_admin: Optional[StrictBool] = None
    console_language: Optional[ConsoleLanguage] = None
    time_zone: Optional[TimeZone] = None
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "languages": ["sv"], "max_conversations": 5}})

    @model_validator(mode="after")
    def changes_something(self) -> "AgentChange":
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise ValueError("nothing to change: give languages, max_conversations, active, "
                             "is_admin, console_language or time_zone")
        return self


class HelpdeskReply(BaseModel):
    """A reply written in the company's own helpdesk, posted back to the customer."""

    event_id: str = Field(min_length=8, max_length=64)
    reference: str
    agent_name: str = Field(min_length=1, max_length=100)
    text: PlainText = Field(min_length=1)


class LanguageLabel(BaseModel):
    badge: str
    name: str


class LoginLabels(BaseModel):
    """The console's texts before an agent logs in (content/console.yml `ui`)."""

    language: ConsoleLanguage
    ui: dict[str, str] = Field(description="every fixed text of the console, by key")
    console_languages: dict[str, str] = Field(description="the languages the console is "
                                              "written in, each by its own name")


class ConsoleLabels(LoginLabels):
    """What the agent console calls reasons, priorities, statuses, languages, principles and
    topics, and its own texts, in one console language (content/console.yml)."""

    reasons: dict[str, str]
    priorities: dict[str, str] = Field(description="in queue order, most urgent first")
    statuses: dict[str, str]
    languages: dict[str, LanguageLabel]
    principles: dict[str, str]
    erasure: dict[str, str] = Field(default_factory=dict, description="the erasure request's "
                                    "button, its question and what it says when done")
    order: dict[str, str] = Field(default_factory=dict, description="the order panel: its "
                                  "heading, notes and the names of the order's details")
    csat: dict[str, str] = Field(default_factory=dict, description="the customer's rating")
    details: dict[str, str] = Field(default_factory=dict, description="what the customer gave")
    topics: dict[str, str] = Field(default_factory=dict, description="the shop topics")
    order_statuses: dict[str, str] = Field(default_factory=dict)
    payment_methods: dict[str, str] = Field(default_factory=dict)
    model_config = ConfigDict(json_schema_extra={"example": {
        "language": "en", "ui": {"logout": "Log out"},
        "console_languages": {"nb": "Norsk (bokmål)", "en": "English"},
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



class CsatAnswer(BaseModel):
    """The customer's rating of the conversation: 1-5 (5 best) with an optional comment,
    or `skipped`. Asked once; the comment is masked like every customer text."""

    score: Optional[int] = Field(None, ge=1, le=5)
    comment: Optional[PlainText] = Field(None, max_length=1000)
    skipped: bool = False
    model_config = ConfigDict(json_schema_extra={"example": {"score": 5, "comment": "Rask hjelp!"}})

    @model_validator(mode="after")
    def score_or_skipped(self) -> "CsatAnswer":
        if self.skipped and (self.score is not None or self.comment):
            raise ValueError("a skipped rating has no score or comment")
        if not self.skipped and self.score is None:
            raise ValueError("give a score of 1-5, or skipped: true")
        return self



class CsatFigures(BaseModel):
    """Ratings of one group: how many were asked, answered and skipped, the mean score and
    the share of 4s and 5s (the usual CSAT %), None without answers."""

    asked: int
    answered: int
    skipped: int
    average: Optional[float]
    satisfied_share: Optional[float]
    scores: dict[str, int] = Field(description="how many of each score, '1'..'5'")


class CsatReport(BaseModel):
    overall: CsatFigures
    by_language: dict[str, CsatFigures]
    by_reason: dict[str, CsatFigures] = Field(description="hand-off reason; 'bot_only' without one")
    by_handling: dict[str, CsatFigures] = Field(description="'agent' or 'bot'")


class SuggestionOut(BaseModel):
    """An answer the agent may put into their reply: a FAQ answer the bot gives, or a canned
    response of the agents (content/canned.yml), in the customer's language."""

    kind: Literal["faq", "canned"]
    key: str = Field(description="faq: the topic (or <topic>__<aspect> for a follow-up); "
                                 "canned: its key in content/canned.yml")
    title: str = Field(description="in the customer's language")
    text: str = Field(description="the answer in the customer's language, for their country")
    topic: Optional[str] = Field(description="the topic it is about, one the bot saw if any")
    model_config = ConfigDict(json_schema_extra={"example": {
        "kind": "faq", "key": "return_policy", "title": "Returnering og fortrydelsesret",
        "text": "Du har 14 dages fortrydelsesret fra den dag, du modtager varerne, ...",
        "topic": "return_policy"}})
