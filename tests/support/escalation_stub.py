"""A stand-in for the escalation service's hook, on a real socket: it checks the
HMAC signature, records what it received and answers with queue figures."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ContextManager, Dict, Iterator, List

from core.signing import sign as signature
from tests.support.servers import Bot, running_bot

SECRET = "test-secret"


class EscalationStub:
    def __init__(self, answer: Dict[str, Any]) -> None:
        self.answer = answer
        self.received: List[Dict[str, Any]] = []
        self.bad_signatures = 0
        self.url = ""


@contextmanager
def escalation_stub(answer: Dict[str, Any]) -> Iterator[EscalationStub]:
    stub = EscalationStub(answer)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path != "/hooks/escalations" or \
                    self.headers.get("X-Signature") != signature(body, SECRET):
                stub.bad_signatures += 1
                self.send_response(401)
                self.end_headers()
                return
            stub.received.append(json.loads(body))
            payload = json.dumps(stub.answer).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()


def bot_escalating_to(stub: EscalationStub, workdir: Path) -> ContextManager[Bot]:
    """The running bot whose action server hands off to this stand-in, with its secret."""
    return running_bot(workdir, {"ESCALATION_URL": stub.url, "ESCALATION_HOOK_SECRET": SECRET})
