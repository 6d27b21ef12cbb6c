#!/usr/bin/env bash
# make run-scaled RASA=N API=M: N Rasa servers (each with its action server) sharing a
# PostgreSQL tracker store and a Redis lock store, M service processes on PostgreSQL and
# Redis, HAProxy in front on API_PORT (tools/scaled.py). Stops everything on Ctrl-C.
# PostgreSQL and Redis: NORDHEM_SCALED_POSTGRES (a libpq string of a user who may create
# databases) and NORDHEM_SCALED_REDIS; by default those on this machine.
set -euo pipefail
umask 077
rasa=${1:-2}
api=${2:-2}
port=${3:-8000}
mkdir -p .rasa/logs/scaled var
chmod -R go-rwx .rasa var .env 2>/dev/null || true
new_secrets=false
. "$(dirname "${BASH_SOURCE[0]}")/secrets.sh"
set -a; . ./.env; set +a
export PYTHONPATH="$PWD" RASA_TELEMETRY_ENABLED=false
exec .venv-api/bin/python -m tools.scaled --rasa "$rasa" --api "$api" --port "$port"
