# syntax=docker/dockerfile:1
# The Rasa SDK action server (Python 3.10): `rasa run actions` on port 5055.
#
#   docker build -f deploy/docker/actions.Dockerfile -t nordhem-actions .   (from the repo root)
#
# Its dependencies are the project's `bot` extra pinned by requirements/bot.lock, the same
# stage as the bot image's, so a builder that made one reuses it for the other.
# No secrets in the image: ESCALATION_HOOK_SECRET (and NORDHEM_ORDERS_TOKEN for a shop's
# order API) come from the environment at run time.

FROM python:3.10-slim-bookworm AS deps
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY requirements/bot.lock requirements/bot.lock
RUN pip install -c requirements/bot.lock ".[bot]" \
 && pip uninstall -y nordhem-assistant

FROM python:3.10-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RASA_TELEMETRY_ENABLED=false \
    HOME=/home/nordhem \
    SANIC_HOST=0.0.0.0 \
    NORDHEM_ORDERS_DB=/app/var/orders.db
# /app/var holds the embedded demo order store (seeded on first use) when no shop's order
# API is configured (NORDHEM_ORDERS_URL); mount a volume there to keep it across restarts.
RUN groupadd --gid 10001 nordhem \
 && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/nordhem --shell /usr/sbin/nologin nordhem \
 && mkdir -p /app/var \
 && chown 10001:10001 /app/var
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY core/ core/
COPY content/ content/
COPY actions/ actions/
# core/principles.py reads the PrinciplesPolicy thresholds for the hand-off scorecard
COPY bot/config.yml bot/config.yml
COPY deploy/healthcheck.py deploy/healthcheck.py
USER 10001:10001
EXPOSE 5055
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "deploy/healthcheck.py", "http://127.0.0.1:5055/health"]
CMD ["rasa", "run", "actions", "--actions", "actions", "--port", "5055"]
