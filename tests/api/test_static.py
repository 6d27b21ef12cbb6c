"""What the widget and the console are served: texts and labels from content/, the console's
script as its own file, and no copy of the server's rules in the browser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import yaml
from fastapi.testclient import TestClient

from api.schemas import Sender
from api.texts import WIDGET_TEXTS_MARK, console_labels, missing_console_labels, widget_texts
from core.vocabulary import ORDER_DETAIL_FIELDS, EscalationStatus, HandoffReason, Priority
from tests.support.api import auth

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"


def test_widget_is_served_with_its_texts_from_content(client: TestClient) -> None:
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert WIDGET_TEXTS_MARK not in response.text
    assert "Chatta med oss" in response.text.encode().decode("unicode_escape")
    texts = widget_texts()
    assert set(texts) == {"nb", "da", "sv"}
    assert texts["da"]["launcher"] == "Chat med os" and texts["nb"]["min1"] == "minutt"


def test_every_widget_text_is_used_and_every_text_used_exists() -> None:
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    keys = set(widget_texts()["nb"])
    used = set(re.findall(r"\bt\('(\w+)'", source))
    assert used <= keys, used - keys
    for key in keys:
        assert f"'{key}'" in source, f"{key} is in content/widget.yml but not used"
    assert "const nb = {" not in source


def test_console_script_is_its_own_file(client: TestClient) -> None:
    page = client.get("/agent").text
    assert '<script src="/agent.js"></script>' in page
    assert re.search(r"<script>\s*\S", page) is None  # no inline script
    script = client.get("/agent.js")
    assert script.status_code == 200 and "function connectWs" in script.text
    # the queue's order is the server's, the names come from /api/labels
    assert "PRIORITIES" not in script.text and "REASONS" not in script.text
    assert ".sort(" not in script.text.replace("[...S.msgs.values()].sort(", "")


def test_console_labels_name_every_reason_priority_and_status(client: TestClient,
                                                              agent_token: str) -> None:
    assert client.get("/api/labels").status_code == 401
    labels = client.get("/api/labels", headers=auth(agent_token)).json()
    assert set(labels["reasons"]) >= {reason.value for reason in HandoffReason}
    assert list(labels["priorities"]) == [priority.value for priority in Priority]
    assert set(labels["statuses"]) == {status.value for status in EscalationStatus}
    assert labels["languages"]["sv"] == {"badge": "SE", "name": "Swedish"}
    assert labels["reasons"]["request_human"] == "Asked for a person"


def test_the_console_shows_every_order_detail_a_hand_off_sends_in_its_panel(
        client: TestClient, agent_token: str) -> None:
    """agent.js keeps its own list of the order panel's details (ORDER_KEYS); it must be the
    one the hand-off sends (core ORDER_DETAIL_FIELDS), or a new fact lands under Details."""
    script = client.get("/agent.js").text
    listed = re.search(r"const ORDER_KEYS = \[([^\]]*)\]", script)
    assert listed is not None
    assert tuple(re.findall(r"'([a-z_]+)'", listed.group(1))) == ORDER_DETAIL_FIELDS
    order = client.get("/api/labels", headers=auth(agent_token)).json()["order"]
    assert order["verified_order"] == "Order number" and order["panel"] == "Order"


def test_content_has_a_console_label_for_everything_the_service_sends() -> None:
    assert missing_console_labels() == []


def test_a_value_without_a_label_is_shown_by_its_name_and_reported(tmp_path: Path) -> None:
    source = yaml.safe_load((Path(__file__).resolve().parents[2] / "content" / "console.yml")
                            .read_text(encoding="utf-8"))
    del source["reasons"]["abuse"]
    del source["ui"]["logout"]["sv"]
    del source["languages"]["da"]["name"]["nb"]
    (tmp_path / "console.yml").write_text(yaml.safe_dump(source), encoding="utf-8")
    assert missing_console_labels(tmp_path) == ["reasons.abuse", "languages.da.nb", "ui.logout.sv"]
    swedish = console_labels("sv", tmp_path)
    assert swedish["reasons"]["abuse"] == "Abuse"
    assert swedish["ui"]["logout"] == "Log out"  # in English until it is translated
    assert console_labels("nb", tmp_path)["languages"]["da"]["name"] == "Danish"


def test_every_console_text_is_used_and_every_text_used_exists(client: TestClient) -> None:
    """agent.html (data-t, data-t-label) and the console's scripts (ui('...')) take every
    fixed text from the labels' `ui`, and every `ui` text is shown somewhere."""
    page = client.get("/agent").text
    scripts = [(STATIC / name).read_text(encoding="utf-8")
               for name in ("agent.js", "suggestions.js") if (STATIC / name).exists()]
    used = set(re.findall(r'data-t(?:-label)?="(\w+)"', page))
    for script in scripts:
        used |= set(re.findall(r"\b(?:ui|setConn)\('(\w+)'", script))
    keys = set(console_labels("sv")["ui"])
    assert used <= keys, used - keys
    # shown by a value: senders (sender_customer, ...) and the scorecard's yes, no, n/a
    shown_by_value = {f"sender_{sender}" for sender in get_args(Sender)} | {
        "yes", "no", "not_applicable"}
    assert "'sender_' + m.sender" in scripts[0]
    unused = {key for key in keys - used - shown_by_value
              if not any(f"'{key}'" in script for script in scripts)}
    assert unused == set(), unused
    # no English left in the script: what it shows comes from the labels
    for english in ("'Not claimed'", "'No summary.'", "'None'", "'Customer'", "(you)",
                    "'Claimed by '", "'Loading…'"):
        assert english not in scripts[0], english
