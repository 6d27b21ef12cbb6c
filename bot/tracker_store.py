"""Rasa's SQL tracker store with SQLite tuned for a chat server, whose cost per message
does not grow with the conversation.

Rasa opens SQLite with its defaults: a rollback journal and a full fsync on every
commit, which under load made saving and reading trackers a third of the server's
CPU time (docs/benchmarks.md). Write-ahead logging with synchronous=NORMAL survives a
crash of the process; only an OS crash or power cut can lose the last commits.
PostgreSQL (dialect: postgresql) is passed through unchanged.

Customers' messages are stored with their personal data masked (core/personal_data.py):
traffic through the escalation service arrives masked already, and this covers anything
that reaches Rasa's REST channel directly.

Rasa reads every event of the session and replays it on each message, featurizes the
whole history for every prediction and replays it again to copy the tracker for every
action, so message 60 of a conversation cost several times message 1
(docs/benchmarks.md, "Cost per message against conversation length"). Here:

- the store keeps the trackers it read or wrote in an LRU (`cache_size` conversations),
  each an exact replay of the stored (masked) events, and hands out cheap clones. Before
  using one it asks the database how many events the conversation has and their largest
  id, so another Rasa process's writes (or an erasure, or retention) are never missed; the
  Redis lock store serialises one conversation's messages across processes;
- the trackers it hands out (`IncrementalTracker`) copy themselves from that replay plus
  the new events, and compute `applied_events` and the policies' `past_states` from the
  replay's memoised results plus the new events. Each result is exactly what Rasa computes
  (tests/test_tracker_cost.py compares them); only the work is bounded.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import operator
from collections import OrderedDict, deque
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core import constants as core_constants
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
    deserialise_events,
)
from rasa.shared.core.trackers import AnySlotDict, DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import event

from core.personal_data import mask

DEFAULT_CACHE_SIZE = 1000
# (number of a conversation's stored events, their largest id)
StoredKey = Tuple[int, Optional[int]]
State = Dict[str, Any]


def _tune_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def masked_values(value: Any) -> Any:
    """Every string in a (nested) value with its personal data masked."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: masked_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked_values(item) for item in value]
    return value


def masked_event(event: Event) -> Event:
    """A customer's message as it may be stored: its text and parse data masked."""
    if not isinstance(event, UserUttered) or not event.text:
        return event
    stored = copy.copy(event)
    stored.text = mask(event.text)
    stored.parse_data = masked_values(event.parse_data)
    return stored


# --- trackers whose copies and history features cost what the new events cost ---

def _clone(tracker: DialogueStateTracker, cls: Any) -> Any:
    """A tracker of class `cls` in the state of `tracker`, sharing its event objects (as a
    replay would: events are applied by reference)."""
    other = cls.__new__(cls)
    other.__dict__.update(tracker.__dict__)
    other.events = deque(tracker.events, tracker._max_event_history)
    slots = {name: copy.copy(slot) for name, slot in tracker.slots.items()}
    other.slots = AnySlotDict(slots) if isinstance(tracker.slots, AnySlotDict) else slots
    if tracker.active_loop is not None:
        other.active_loop = dataclasses.replace(tracker.active_loop)
    if isinstance(tracker.latest_action, dict):
        other.latest_action = dict(tracker.latest_action)
    return other


def _starts_with(items: Sequence[Any], prefix: Sequence[Any]) -> bool:
    """Whether `items` begins with the very objects of `prefix`."""
    return len(items) >= len(prefix) and all(
        map(operator.is_, itertools.islice(items, len(prefix)), prefix))


@dataclasses.dataclass(frozen=True)
class _AppliedFold:
    """`applied_events()` of a list of events; valid for a longer list while no new loop
    name appears (Rasa's fold looks at the loop names of all events)."""

    events: Tuple[Event, ...]
    loop_names: frozenset
    applied: Tuple[Event, ...]

    @classmethod
    def of(cls, events: Sequence[Event]) -> "_AppliedFold":
        return cls((), _loop_names(events), ()).advanced(events)

    def advanced(self, new_events: Sequence[Event]) -> "_AppliedFold":
        applied = list(self.applied)
        for item in new_events:
            _apply_step(applied, item, self.loop_names)
        return _AppliedFold(self.events + tuple(new_events), self.loop_names, tuple(applied))

    def continues_to(self, events: Sequence[Event]) -> bool:
        return (_starts_with(events, self.events)
                and _loop_names(itertools.islice(events, len(self.events), None))
                <= self.loop_names)


def _loop_names(events: Iterable[Event]) -> frozenset:
    return frozenset(e.name for e in events if isinstance(e, ActiveLoop) and e.name)


def _apply_step(applied: List[Event], item: Event, loop_names: frozenset) -> None:
    """One step of DialogueStateTracker.applied_events (Rasa 3.6)."""
    tracker_class = DialogueStateTracker
    if isinstance(item, (Restarted, SessionStarted)):
        applied.clear()
    elif isinstance(item, ActionReverted):
        tracker_class._undo_till_previous(ActionExecuted, applied)
    elif isinstance(item, UserUtteranceReverted):
        tracker_class._undo_till_previous(UserUttered, applied)
        tracker_class._undo_till_previous(ActionExecuted, applied)
    elif (isinstance(item, ActionExecuted) and item.action_name in loop_names
          and not tracker_class._first_loop_execution_or_unhappy_path(
              tracker_class.__new__(tracker_class), item.action_name, applied)):
        tracker_class._undo_till_previous_loop_execution(item.action_name, applied)
    else:
        applied.append(item)


@dataclasses.dataclass
class _StatesFold:
    """Domain.states_for_tracker_history (Rasa 3.6) over a prefix of the applied events,
    kept before its final state so that it can go on with more events."""

    domain: Domain
    omit_unset_slots: bool
    ignore_rule_only_turns: bool
    rule_only_data: Optional[Dict[str, Any]]
    applied: Tuple[Event, ...]
    replayed: DialogueStateTracker
    states: List[State]
    last_ml_action_sub_state: Optional[Dict[str, Any]] = None
    turn_was_hidden: bool = False

    def advanced(self, applied: Sequence[Event]) -> "_StatesFold":
        """This fold carried on over `applied` (which starts with its own events)."""
        fold = dataclasses.replace(self, replayed=_clone(self.replayed, DialogueStateTracker),
                                   states=list(self.states), applied=tuple(applied))
        for item in itertools.islice(applied, len(self.applied), None):
            if isinstance(item, ActionExecuted):
                fold._turn(item.hide_rule_turn)
            fold.replayed.update(item)
        return fold

    def final_states(self) -> List[State]:
        """The states, with the current one; safe for the caller to change."""
        fold = dataclasses.replace(self, states=list(self.states))
        fold._turn(False)
        return _copied_states(fold.states)

    def _turn(self, hide_rule_turn: bool) -> None:
        domain, tracker = self.domain, self.replayed
        if self.ignore_rule_only_turns:
            if not self.turn_was_hidden:
                self.last_ml_action_sub_state = domain._get_prev_action_sub_state(tracker)
            if (not tracker.followup_action
                    and tracker.latest_action_name != tracker.active_loop_name):
                self.turn_was_hidden = hide_rule_turn
            if self.turn_was_hidden:
                return
        state = domain.get_active_state(tracker, omit_unset_slots=self.omit_unset_slots)
        if self.ignore_rule_only_turns:
            domain._remove_rule_only_features(state, self.rule_only_data)
            if self.states:
                domain._substitute_rule_only_user_input(state, self.states[-1])
            if self.last_ml_action_sub_state:
                state[core_constants.PREVIOUS_ACTION] = self.last_ml_action_sub_state
        self.states.append(domain._clean_state(state))


def _copied_states(states: List[State]) -> List[State]:
    """The states with their sub-states copied (callers change them), sharing sub-states
    between states as Rasa's own do."""
    copies: Dict[int, Any] = {}
    copied = []
    for state in states:
        new = {}
        for name, sub_state in state.items():
            sub_copy = copies.get(id(sub_state))
            if sub_copy is None:
                sub_copy = copies[id(sub_state)] = copy.copy(sub_state)
            new[name] = sub_copy
        copied.append(new)
    return copied


def _fold_key(domain: Domain, omit_unset_slots: bool, ignore_rule_only_turns: bool,
              rule_only_data: Optional[Dict[str, Any]]) -> Tuple[Any, ...]:
    return (id(domain), omit_unset_slots, ignore_rule_only_turns,
            json.dumps(rule_only_data, sort_keys=True, default=str))


class IncrementalTracker(DialogueStateTracker):
    """A DialogueStateTracker that remembers the exact replay it was cloned from (its
    origin), so that copying it, `applied_events` and `past_states` cost what its new
    events cost. Any other use behaves as DialogueStateTracker; where its events no longer
    start with its origin's, it falls back to Rasa's own computation."""

    _origin: Optional["IncrementalTracker"] = None
    _applied_fold: Optional[_AppliedFold] = None
    _states_folds: Optional[Dict[Tuple[Any, ...], _StatesFold]] = None

    def clone(self) -> "IncrementalTracker":
        """A tracker for the caller to change, with this one as its origin."""
        other: IncrementalTracker = _clone(self, IncrementalTracker)
        other._origin, other._applied_fold, other._states_folds = self, None, None
        return other

    def extended(self, new_events: Sequence[Event]) -> "IncrementalTracker":
        """A new origin: this replay with `new_events` applied, its memoised results
        carried on over them."""
        other = self.clone()
        other._origin = None
        for item in new_events:
            other.update(item)
        if self._applied_fold is not None and self._applied_fold.continues_to(other.events):
            other._applied_fold = self._applied_fold.advanced(new_events)
            applied = other._applied_fold.applied
            other._states_folds = {
                key: fold.advanced(applied)
                for key, fold in (self._states_folds or {}).items()
                if _starts_with(applied, fold.applied)}
        return other

    def _own_applied_fold(self) -> _AppliedFold:
        if self._applied_fold is None or len(self._applied_fold.events) != len(self.events):
            self._applied_fold = _AppliedFold.of(list(self.events))
        return self._applied_fold

    def _usable_origin(self) -> Optional["IncrementalTracker"]:
        origin = self._origin
        if origin is None or not _starts_with(self.events, origin.events):
            return None
        return origin

    def copy(self) -> DialogueStateTracker:
        origin = self._usable_origin()
        if origin is None:
            return super().copy()
        replica = origin.clone()
        for item in itertools.islice(self.events, len(origin.events), None):
            replica.update(item)
        return replica

    def applied_events(self) -> List[Event]:
        origin = self._usable_origin()
        if origin is None:
            return super().applied_events()
        fold = origin._own_applied_fold()
        if not fold.continues_to(self.events):
            return super().applied_events()
        return list(fold.advanced(list(self.events)[len(fold.events):]).applied)

    def past_states(self, domain: Domain, omit_unset_slots: bool = False,
                    ignore_rule_only_turns: bool = False,
                    rule_only_data: Optional[Dict[str, Any]] = None) -> List[State]:
        origin = self._usable_origin()
        if origin is None:
            return super().past_states(domain, omit_unset_slots, ignore_rule_only_turns,
                                       rule_only_data)
        base = origin._states_fold(domain, omit_unset_slots, ignore_rule_only_turns,
                                   rule_only_data)
        applied = self.applied_events()
        if not _starts_with(applied, base.applied):
            return super().past_states(domain, omit_unset_slots, ignore_rule_only_turns,
                                       rule_only_data)
        return base.advanced(applied).final_states()

    def _states_fold(self, domain: Domain, omit_unset_slots: bool,
                     ignore_rule_only_turns: bool,
                     rule_only_data: Optional[Dict[str, Any]]) -> _StatesFold:
        """The fold over this (origin's) own applied events, computed once."""
        if self._states_folds is None:
            self._states_folds = {}
        key = _fold_key(domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        fold = self._states_folds.get(key)
        if fold is None:
            empty = _StatesFold(domain, omit_unset_slots, ignore_rule_only_turns,
                                rule_only_data, (), self.init_copy(), [])
            fold = empty.advanced(self._own_applied_fold().applied)
            self._states_folds[key] = fold
        return fold


# --- the store ---

@dataclasses.dataclass(frozen=True)
class _Cached:
    key: StoredKey
    tracker: IncrementalTracker  # an origin: never handed out, never changed


class TunedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose SQLite connections use WAL and synchronous=NORMAL, whose
    stored customer messages have their personal data masked, and which keeps the
    trackers of up to `cache_size` recent conversations in memory, checked against the
    database on every read."""

    def __init__(self, *args: Any, cache_size: int = DEFAULT_CACHE_SIZE,
                 **kwargs: Any) -> None:
        self._cache: "OrderedDict[str, _Cached]" = OrderedDict()
        self.cache_size = int(cache_size)
        self.cache_hits = self.cache_misses = 0  # reads answered from memory / the database
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _tune_sqlite)
            self.engine.dispose()  # connections opened while creating tables are replaced

    @property
    def domain(self) -> Domain:
        return self._domain

    @domain.setter
    def domain(self, domain: Optional[Domain]) -> None:
        # trackers replayed with another domain's slots are not this domain's
        TrackerStore.domain.fset(self, domain)
        self._cache.clear()

    def cached_senders(self) -> List[str]:
        """The conversations kept in memory, least recently used first."""
        return list(self._cache)

    def _stored_key(self, session: Any, sender_id: str) -> StoredKey:
        """How many events of the conversation the database holds, and the largest id:
        any write or deletion by anyone changes it. An index lookup, no event is read."""
        table = self.SQLEvent
        count, largest_id = (session.query(sa.func.count(table.id), sa.func.max(table.id))
                             .filter(table.sender_id == sender_id).one())
        return int(count or 0), largest_id

    def _remember(self, sender_id: str, cached: _Cached) -> None:
        self._cache[sender_id] = cached
        self._cache.move_to_end(sender_id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The latest session's tracker: from memory when the database still holds
        exactly what was remembered, else read and replayed (and remembered)."""
        with self.session_scope() as session:
            key = self._stored_key(session, sender_id)
            cached = self._cache.get(sender_id)
            if cached is not None and cached.key == key:
                self._cache.move_to_end(sender_id)
                self.cache_hits += 1
                return cached.tracker.clone()
            self.cache_misses += 1
            # read after the key: a write in between makes the key stale, never the events
            rows = self._event_query(session, sender_id,
                                     fetch_events_from_all_sessions=False).all()
            data = [json.loads(row.data) for row in rows]
        self._cache.pop(sender_id, None)
        if not self.domain or not data:
            return None
        tracker = IncrementalTracker.from_dict(sender_id, data, self.domain.slots)
        assert isinstance(tracker, IncrementalTracker)
        self._remember(sender_id, _Cached(key, tracker))
        return tracker.clone()

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events the database does not have yet (masked), and remember the
        tracker as the database now holds it."""
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        cached = self._cache.pop(sender_id, None)
        with self.session_scope() as session:
            before = self._stored_key(session, sender_id)
            if cached is not None and cached.key != before:
                cached = None  # written by someone else since it was read
            if cached is not None and _starts_with(tracker.events, cached.tracker.events):
                stored_count = len(cached.tracker.events)
            else:
                cached = None
                stored_count = self._event_query(
                    session, sender_id, fetch_events_from_all_sessions=False).count()
            new_events = list(itertools.islice(tracker.events, stored_count, None))
            rows = [self._row(sender_id, masked_event(item)) for item in new_events]
            session.add_all(rows)
            session.flush()
            ids = [row.id for row in rows]
            stored_data = [row.data for row in rows]
            session.commit()
        if cached is None or any(isinstance(item, SessionStarted) for item in new_events):
            return  # read from the database next time (a new session starts short)
        after = (before[0] + len(ids), max([i for i in [before[1], *ids] if i is not None],
                                           default=None))
        stored = deserialise_events([json.loads(data) for data in stored_data])
        self._remember(sender_id, _Cached(after, cached.tracker.extended(stored)))

    def _row(self, sender_id: str, item: Event) -> Any:
        data = item.as_dict()
        return self.SQLEvent(
            sender_id=sender_id, type_name=item.type_name, timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"), data=json.dumps(data))
