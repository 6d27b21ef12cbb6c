"""The principles scorecard over Rasa's tracker store, from the command line.

    python -m bot.scorecard --db .rasa/trackers.db             # every conversation + total
    python -m bot.scorecard --db .rasa/trackers.db --json ID   # one conversation as JSON

The events are read from Rasa's SQL tracker store (table `events`), SQLite or PostgreSQL;
the scoring itself is core/scorecard.py, shared with the action server and the service.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text

from core.principles import principles_config
from core.scorecard import aggregate, score_conversation


def read_tracker_store(url: Text) -> Dict[Text, List[Dict[Text, Any]]]:
    """Events per conversation from Rasa's SQL tracker store (SQLAlchemy URL or SQLite path)."""
    import sqlalchemy

    if "://" not in url:
        if not Path(url).is_file():
            raise FileNotFoundError(f"no such file: {url}")
        url = f"sqlite:///{Path(url).resolve()}"
    engine = sqlalchemy.create_engine(url)
    conversations: Dict[Text, List[Dict[Text, Any]]] = {}
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text(
            "SELECT sender_id, data FROM events ORDER BY id"))
        for sender_id, data in rows:
            conversations.setdefault(sender_id, []).append(json.loads(data))
    return conversations


def main(argv: Optional[Sequence[Text]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=".rasa/trackers.db",
                        help="Rasa's SQL tracker store: SQLite file or SQLAlchemy URL")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("conversation", nargs="?", help="only this conversation id")
    args = parser.parse_args(argv)
    try:
        conversations = read_tracker_store(args.db)
    except Exception as error:  # noqa: BLE001 - any store problem is reported the same way
        print(f"cannot read the tracker store {args.db}: {error}", file=sys.stderr)
        return 2
    if args.conversation:
        if args.conversation not in conversations:
            print(f"no conversation {args.conversation!r} in {args.db}", file=sys.stderr)
            return 2
        conversations = {args.conversation: conversations[args.conversation]}
    config = principles_config()
    cards = [score_conversation(cid, events, config) for cid, events in conversations.items()]
    if args.json:
        print(json.dumps({"conversations": [c.as_dict() for c in cards],
                          "total": aggregate(c.as_dict() for c in cards)}, indent=2, ensure_ascii=False))
        return 0
    print(f"{'conversation':<24} msgs welcomed clarified checked handoff owned expect score")
    mark = {True: "yes", False: "NO", None: "-"}
    for c in cards:
        print(f"{c.conversation_id[:24]:<24} {c.customer_messages:>4} {mark[c.welcomed]:>8} "
              f"{mark[c.clarified_when_ambiguous]:>9} {mark[c.checked_after_answer]:>7} "
              f"{mark[c.handed_off]:>7} {mark[c.handoff_owned_with_summary]:>5} "
              f"{mark[c.expectations_set]:>6} {c.score if c.score is not None else '-':>5}")
    print("total:", json.dumps(aggregate(c.as_dict() for c in cards), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
