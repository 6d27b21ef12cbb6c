# syntax=docker/dockerfile:1
# The Rasa server (Python 3.10, Rasa 3.6.21) of the scaled mode, with its model BAKED IN:
# the `train` stage builds the domain and trains the model from the repository's bot/,
# core/, content/ and data/ exactly as `make train` does (same fingerprint name), so an
# image is one tested pair of code and model, and a new model is a new image tag.
#
#   docker build -f deploy/docker/bot.Dockerfile -t nordhem-bot .      (from the repo root)
#
# No secrets in the image: NORDHEM_RASA_JWT_SECRET, TRACKER_DB_PASSWORD and the rest come
# from the environment at run time (docker-compose.yml, deploy/k8s/rasa.yaml).

FROM python:3.10-slim-bookworm AS deps
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Only what the dependencies depend on, so that a code change reuses this (large) layer.
# The project itself is installed only to read its `bot` extra, then removed: the code
# runs from /app (PYTHONPATH), where core/ finds content/ beside it.
COPY pyproject.toml README.md ./
COPY requirements/bot.lock requirements/bot.lock
RUN pip install -c requirements/bot.lock ".[bot]" \
 && pip uninstall -y nordhem-assistant

FROM deps AS train
ENV PYTHONPATH=/src \
    RASA_TELEMETRY_ENABLED=false
COPY bot/ bot/
COPY core/ core/
COPY content/ content/
COPY data/ data/
COPY tools/ tools/
RUN python tools/build_domain.py \
 && fingerprint="$(python tools/fingerprint.py)" \
 && rasa train --config bot/config.yml --domain build/domain --data data \
      --out models --fixed-model-name "nordhem-${fingerprint}" \
 && ln -s "nordhem-${fingerprint}.tar.gz" models/current.tar.gz

FROM python:3.10-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RASA_TELEMETRY_ENABLED=false \
    HOME=/home/nordhem \
    MPLCONFIGDIR=/tmp/matplotlib
RUN groupadd --gid 10001 nordhem \
 && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/nordhem --shell /usr/sbin/nologin nordhem
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY core/ core/
COPY content/ content/
COPY bot/ bot/
COPY deploy/healthcheck.py deploy/healthcheck.py
COPY deploy/docker/start-rasa.sh deploy/docker/start-rasa.sh
COPY --from=train /src/models/ models/
USER 10001:10001
EXPOSE 5005
# /status answers 200 only with the model loaded, and only to a JWT signed with the secret
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "deploy/healthcheck.py", "http://127.0.0.1:5005/status", "--jwt-secret-env", "NORDHEM_RASA_JWT_SECRET"]
ENTRYPOINT ["sh", "deploy/docker/start-rasa.sh"]
