"""Agents: who they are, the languages they serve, how many conversations they hold at
once, and whether they take conversations now (presence).

Which escalations an agent takes: those in a language they serve, and those in a language
whose escalations NORDHEM_LANGUAGE_FALLBACK lets agents of one of their languages take
("nb:da": Danish-serving agents also take Norwegian ones). The same rule decides the queue
they see, what they may claim, what is auto-assigned to them, and which agents a waiting
customer is told about (`staffing`).

Presence: an agent sets it in the console or through the API (PUT /api/agents/me/presence,
for agents who work in a helpdesk). Besides, the console's socket counts as being at work:
when it connects, an offline agent becomes online (an away agent stays away), and when the
agent's last console socket on this service instance closes, an online agent becomes offline,
so that customers are not told of an agent who has gone. An agent working only through the
API opens no socket, and only they change their presence. With several instances of the
service, the sockets are counted per instance: an agent with consoles on two instances goes
offline when either instance's last one closes, and online again when a console reconnects.

Claiming is an agent's own act and needs no presence (an away agent may still take one);
only auto-assignment and what customers are told count online agents.

Names are unique among active agents, checked here rather than by a database index: a
database from before migration 0005 may hold two active agents of the same name (the old
command line allowed it), and the migration must not fail on it or deactivate one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.errors import ServiceError
from api.models import FALLBACK_CONSOLE_LANGUAGE, Agent, Escalation, Presence, utcnow
from api.schemas import AgentChange, AgentOut, Preferences, agent_languages
from api.security import hash_token, new_token
from core.languages import LANGUAGES
from core.vocabulary import EscalationStatus

Fallbacks = Mapping[str, frozenset[str]]


class AgentError(ServiceError):
    """A change of an agent the service refuses (404, 409, 422)."""


# ---------- which escalations an agent takes ----------

def languages_taken(languages: Iterable[str], fallbacks: Fallbacks) -> frozenset[str]:
    """The escalation languages an agent serving `languages` takes: their own, and those
    whose fallback names one of theirs."""
    own = frozenset(languages)
    return frozenset(language for language in LANGUAGES
                     if language in own or fallbacks.get(language, frozenset()) & own)


def takes(agent: Agent, language: str, fallbacks: Fallbacks) -> bool:
    return language in languages_taken(agent.languages, fallbacks)


def open_conversations(session: Session, agent_id: int) -> int:
    """The escalations the agent holds now."""
    return session.scalar(select(func.count()).select_from(Escalation).where(
        Escalation.agent_id == agent_id, Escalation.status == EscalationStatus.WITH_AGENT)) or 0


def loads(session: Session) -> dict[int, int]:
    """Agent id -> the escalations they hold now (agents holding none are left out)."""
    rows = session.execute(select(Escalation.agent_id, func.count())
                           .where(Escalation.status == EscalationStatus.WITH_AGENT,
                                  Escalation.agent_id.is_not(None))
                           .group_by(Escalation.agent_id)).all()
    return {agent_id: count for agent_id, count in rows if agent_id is not None}


def has_room(session: Session, agent: Agent) -> bool:
    return open_conversations(session, agent.id) < agent.max_conversations


@dataclass(frozen=True)
class Staffing:
    """Who is there for a language's waiting customers: agents online, active and taking
    the language; and of those, the ones with room for another conversation."""

    online: int
    free: int


NOBODY = Staffing(0, 0)


def staffing(session: Session, fallbacks: Fallbacks) -> dict[str, Staffing]:
    """Each customer language's staffing now, read from the database (two queries)."""
    online = list(session.scalars(select(Agent).where(Agent.active.is_(True),
                                                      Agent.presence == Presence.ONLINE)))
    held = loads(session) if online else {}
    result = {}
    for language in LANGUAGES:
        serving = [agent for agent in online if takes(agent, language, fallbacks)]
        result[language] = Staffing(
            len(serving), sum(1 for agent in serving
                              if held.get(agent.id, 0) < agent.max_conversations))
    return result


@dataclass
class Candidate:
    """An online agent who may be given conversations, as auto-assignment weighs them."""

    id: int
    languages: frozenset[str]  # the escalation languages they take
    room: int
    load: int
    last_assigned: Optional[dt.datetime]

    def order(self) -> tuple[int, float, int]:
        """Fewest open conversations first; then the one who waited longest for their last."""
        since = self.last_assigned.timestamp() if self.last_assigned else float("-inf")
        return (self.load, since, self.id)


def candidates(session: Session, fallbacks: Fallbacks) -> list[Candidate]:
    """The online, active agents with room for another conversation."""
    online = list(session.scalars(select(Agent).where(Agent.active.is_(True),
                                                      Agent.presence == Presence.ONLINE)))
    if not online:
        return []
    held = loads(session)
    last = dict(session.execute(select(Escalation.agent_id, func.max(Escalation.claimed_at))
                                .where(Escalation.agent_id.in_([a.id for a in online]))
                                .group_by(Escalation.agent_id)).all())
    found = []
    for agent in online:
        load = held.get(agent.id, 0)
        claimed = last.get(agent.id)
        if claimed is not None and claimed.tzinfo is None:  # SQLite drops the zone of max()
            claimed = claimed.replace(tzinfo=dt.timezone.utc)
        if load < agent.max_conversations:
            found.append(Candidate(agent.id, languages_taken(agent.languages, fallbacks),
                                   agent.max_conversations - load, load, claimed))
    return found


# ---------- profiles ----------

def console_language(agent: Agent) -> str:
    """The language the agent reads the console in: their choice; else the first customer
    language they serve (an agent serving Danish customers reads Danish); else English."""
    if agent.console_language:
        return agent.console_language
    return next((language for language in agent.languages if language in LANGUAGES),
                FALLBACK_CONSOLE_LANGUAGE)


def profile(session: Session, agent: Agent, load: Optional[int] = None) -> AgentOut:
    return AgentOut(id=agent.id, name=agent.name, languages=agent.languages,
                    max_conversations=agent.max_conversations, presence=agent.presence,
                    is_admin=agent.is_admin, active=agent.active,
                    open_conversations=open_conversations(session, agent.id)
                    if load is None else load,
                    console_language=console_language(agent), time_zone=agent.time_zone)


def profiles(session: Session) -> list[AgentOut]:
    """Every agent, active ones first, then by name."""
    held = loads(session)
    agents = session.scalars(select(Agent).order_by(Agent.active.desc(), Agent.name, Agent.id))
    return [profile(session, agent, held.get(agent.id, 0)) for agent in agents]


def get(session: Session, agent_id: int) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise AgentError(404, f"no agent {agent_id}")
    return agent


def by_name(session: Session, name: str) -> Optional[Agent]:
    """The agent called `name`: the active one if there is one, else the latest."""
    return session.scalar(select(Agent).where(Agent.name == name)
                          .order_by(Agent.active.desc(), Agent.id.desc()).limit(1))


def parse_languages(text: str) -> list[str]:
    """'nb,da' -> ['nb', 'da'] (ValueError with a reason otherwise)."""
    return agent_languages([part.strip() for part in text.split(",") if part.strip()])


def _refuse_name_taken(session: Session, name: str, except_id: Optional[int] = None) -> None:
    query = select(Agent.id).where(Agent.active.is_(True),
                                   func.lower(Agent.name) == name.lower())
    if except_id is not None:
        query = query.where(Agent.id != except_id)
    if session.scalar(query.limit(1)) is not None:
        raise AgentError(409, f"an active agent is already called {name!r}; choose another "
                              "name (customers see it when the agent joins)")


# ---------- changes ----------

def create(session: Session, name: str, languages: Sequence[str], max_conversations: int,
           is_admin: bool = False) -> tuple[Agent, str]:
    """A new agent (offline until they open the console) and its token, shown only once."""
    _refuse_name_taken(session, name)
    token = new_token()
    agent = Agent(name=name, token_hash=hash_token(token),
                  languages=agent_languages(list(languages)),
                  max_conversations=max_conversations, is_admin=is_admin)
    session.add(agent)
    session.commit()
    return agent, token


def rotate_token(agent: Agent) -> str:
    """A new token for the agent; the old one stops working at once."""
    token = new_token()
    agent.token_hash = hash_token(token)
    agent.token_issued_at = utcnow()
    agent.revoked_at = None
    return token


def revoke_token(agent: Agent) -> None:
    agent.revoked_at = utcnow()


def deactivate(session: Session, agent: Agent) -> None:
    """The agent can no longer sign in; refused while they hold open conversations, which
    would otherwise wait for someone who is not coming back."""
    held = open_conversations(session, agent.id)
    if held:
        raise AgentError(409, f"{agent.name} holds {held} open conversation"
                              f"{'s' if held != 1 else ''}; they must be resolved before "
                              "the agent is deactivated (revoking the token stops them "
                              "signing in meanwhile)")
    agent.active = False
    agent.presence = Presence.OFFLINE


def activate(session: Session, agent: Agent) -> None:
    if not agent.active:
        _refuse_name_taken(session, agent.name, except_id=agent.id)
        agent.active = True


def change(session: Session, agent: Agent, wanted: AgentChange,
           by: Optional[Agent] = None) -> Agent:
    """Apply an admin's change (`by`: the admin; None from the command line) and commit."""
    if by is not None and by.id == agent.id and (wanted.active is False
                                                 or wanted.is_admin is False):
        raise AgentError(409, "an admin cannot deactivate themselves or take away their own "
                              "admin right; another admin can")
    if wanted.languages is not None:
        agent.languages = list(wanted.languages)
    if wanted.max_conversations is not None:
        agent.max_conversations = wanted.max_conversations
    if wanted.is_admin is not None:
        agent.is_admin = wanted.is_admin
    _prefer(agent, wanted.console_language, wanted.time_zone)
    if wanted.active is False:
        deactivate(session, agent)
    elif wanted.active:
        activate(session, agent)
    session.commit()
    return agent


def set_preferences(session: Session, agent: Agent, wanted: Preferences) -> None:
    """The agent's own choice of console language and time zone (validated by the schema)."""
    _prefer(agent, wanted.console_language, wanted.time_zone)
    session.commit()


def _prefer(agent: Agent, language: Optional[str], time_zone: Optional[str]) -> None:
    if language is not None:
        agent.console_language = language
    if time_zone is not None:
        agent.time_zone = time_zone


def set_presence(session: Session, agent: Agent, presence: Presence) -> bool:
    """Set the agent's presence; True when they came online (auto-assignment may start)."""
    came_online = presence == Presence.ONLINE and agent.presence != Presence.ONLINE
    agent.presence = presence
    session.commit()
    return came_online


# ---------- the console's socket ----------

@dataclass
class OpenConsoles:
    """How many console sockets each agent has open on this instance of the service.
    Counted on the event loop only (the socket handlers), so no lock is needed."""

    sockets: dict[int, int] = field(default_factory=dict)

    def opened(self, agent_id: int) -> None:
        self.sockets[agent_id] = self.sockets.get(agent_id, 0) + 1

    def closed(self, agent_id: int) -> bool:
        """True when this was the agent's last socket here."""
        left = self.sockets.get(agent_id, 1) - 1
        if left > 0:
            self.sockets[agent_id] = left
            return False
        self.sockets.pop(agent_id, None)
        return True


def _move_presence(sessions: sessionmaker[Session], agent_id: int, source: Presence,
                   target: Presence) -> bool:
    """`source` -> `target` if the agent is still `source` (a change made meanwhile, say to
    away, is kept); True when it moved."""
    with sessions() as session:
        moved = cast(CursorResult[Any], session.execute(
            update(Agent).where(Agent.id == agent_id, Agent.presence == source)
            .values(presence=target)))
        session.commit()
        return moved.rowcount == 1


def console_connected(sessions: sessionmaker[Session], agent_id: int) -> bool:
    """An offline agent who opens the console is online; True when they came online."""
    return _move_presence(sessions, agent_id, Presence.OFFLINE, Presence.ONLINE)


def console_gone(sessions: sessionmaker[Session], agent_id: int) -> None:
    """The agent's last console socket here closed: an online agent is offline."""
    _move_presence(sessions, agent_id, Presence.ONLINE, Presence.OFFLINE)
