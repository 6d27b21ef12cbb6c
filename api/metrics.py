"""Prometheus metrics of the service (own registry, so tests can create many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()
CONVERSATIONS = Counter("nordhem_conversations_started_total", "conversations started",
                        registry=REGISTRY)
MESSAGES = Counter("nordhem_messages_total", "messages by sender", ["sender"], registry=REGISTRY)
# the customers' ratings (CSAT): score 1-5 or "skipped", reason "bot_only" without a hand-off
CSAT = Counter("nordhem_csat_ratings_total", "customer ratings of conversations",
               ["language", "handled_by", "reason", "score"], registry=REGISTRY)
# customer messages refused at once because Rasa had no free slot (api/services/admission.py)
REFUSED_BUSY = Counter("nordhem_refused_busy_total", "customer messages refused with 503: "
                       "Rasa busy", registry=REGISTRY)
HANDOFFS = Counter("nordhem_handoffs_total", "hand-offs by reason", ["reason"], registry=REGISTRY)
QUEUE_LENGTH = Gauge("nordhem_queue_length", "escalations waiting for an agent",
                     registry=REGISTRY)
AGENTS_CONNECTED = Gauge("nordhem_agents_connected", "agent consoles connected", registry=REGISTRY)
CONTAINMENT = Gauge("nordhem_containment_rate", "share of conversations never escalated",
                    registry=REGISTRY)
WAIT_SECONDS = Histogram("nordhem_wait_seconds", "escalation created to claimed",
                         buckets=(10, 30, 60, 120, 300, 600, 1200, 3600), registry=REGISTRY)
BOT_LATENCY = Histogram("nordhem_bot_latency_seconds", "customer message to bot reply",
                        buckets=(.025, .05, .1, .2, .5, 1, 2, 5), registry=REGISTRY)
OUTBOX_PARKED = Counter("nordhem_outbox_parked_total",
                        "webhook events given up after their attempts (alert on any)",
                        registry=REGISTRY)
