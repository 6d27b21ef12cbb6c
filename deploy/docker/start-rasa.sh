#!/bin/sh
# Starts the Rasa server of the bot image the way the scaled mode runs it: HTTP API on,
# guarded by a JWT signed with NORDHEM_RASA_JWT_SECRET (HS256, as core/signing.py signs),
# the baked-in model, and bot/endpoints-scaled.yml (PostgreSQL tracker store, Redis lock
# store), whose ${VARIABLES} Rasa fills in from the environment. Extra arguments are
# passed on to `rasa run`.
set -eu
: "${NORDHEM_RASA_JWT_SECRET:?must be set: the HTTP API of Rasa needs it}"
exec rasa run --enable-api --interface 0.0.0.0 --port "${RASA_PORT:-5005}" \
  --jwt-secret="$NORDHEM_RASA_JWT_SECRET" --jwt-method HS256 \
  --model models/current.tar.gz --credentials bot/credentials.yml \
  --endpoints bot/endpoints-scaled.yml "$@"
