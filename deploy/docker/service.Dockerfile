# syntax=docker/dockerfile:1
# The escalation service (Python 3.11, FastAPI on uvicorn): `python -m api serve` on port
# 8000; `python -m api migrate` (the same image) brings the database to the newest schema.
#
#   docker build -f deploy/docker/service.Dockerfile -t nordhem-service .   (from the repo root)
#
# No secrets in the image: the database URL, NORDHEM_RASA_JWT_SECRET, NORDHEM_HOOK_SECRET and
# NORDHEM_WEBHOOK_SECRET come from the environment at run time (.env is not in the build
# context: .dockerignore).

FROM python:3.11-slim-bookworm AS deps
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Only what the dependencies depend on, so that a code change reuses this layer; the
# project itself is installed only to read its `api` extra, then removed (code runs from /app).
COPY pyproject.toml README.md ./
COPY requirements/api.lock requirements/api.lock
RUN pip install -c requirements/api.lock ".[api]" \
 && pip uninstall -y nordhem-assistant

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/home/nordhem
RUN groupadd --gid 10001 nordhem \
 && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/nordhem --shell /usr/sbin/nologin nordhem
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY core/ core/
COPY content/ content/
COPY api/ api/
# core/principles.py reads the PrinciplesPolicy thresholds (scorecard) from here
COPY bot/config.yml bot/config.yml
COPY deploy/healthcheck.py deploy/healthcheck.py
USER 10001:10001
EXPOSE 8000
# /health: 200 while the database answers (its body names a part that is down), else 503
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "deploy/healthcheck.py", "http://127.0.0.1:8000/health"]
CMD ["python", "-m", "api", "serve", "--host", "0.0.0.0", "--port", "8000"]
