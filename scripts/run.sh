#!/usr/bin/env bash
# Starts the action server, the Rasa server and the escalation service, waits until all
# answer, prints where to go, and stops everything on Ctrl-C.
set -euo pipefail
# secrets, logs and databases are readable by this user only, on every run
umask 077
rasa_port=${1:-5005}
actions_port=${2:-5055}
api_port=${3:-8000}
mkdir -p .rasa/logs var
chmod -R go-rwx .rasa var .env 2>/dev/null || true

new_secrets=false
. "$(dirname "${BASH_SOURCE[0]}")/secrets.sh"
set -a; . ./.env; set +a
export NORDHEM_RASA_URL="http://127.0.0.1:$rasa_port" NORDHEM_ACTIONS_URL="http://127.0.0.1:$actions_port"
# the tracker store of bot/endpoints.yml: erasure and retention delete conversations there too
export NORDHEM_TRACKER_STORE_URL="${NORDHEM_TRACKER_STORE_URL:-sqlite:///$PWD/.rasa/trackers.db}"
export ESCALATION_URL="http://localhost:$api_port" ESCALATION_HOOK_SECRET="$NORDHEM_HOOK_SECRET"
export NORDHEM_CORS_ORIGINS="${NORDHEM_CORS_ORIGINS:-http://localhost:$api_port}"
export PYTHONPATH="$PWD"

.venv-api/bin/python -m api migrate >/dev/null
# The order system: the shop's own API (NORDHEM_ORDERS_URL + NORDHEM_ORDERS_TOKEN), or the
# embedded demo store, seeded once with about 200 orders dated from today.
if [ -z "${NORDHEM_ORDERS_URL:-}" ]; then .venv/bin/python -m actions.orders seed >/dev/null; fi
order_system=$(.venv/bin/python -m actions.orders info)
order_system=${order_system#order system: }
# The demo agent: created once, with the token kept in .env.
.venv-api/bin/python -m tools.demo_agent

# Only the service is public: Rasa and the action server listen on loopback
# (RASA_INTERFACE / ACTIONS_INTERFACE change that explicitly), and Rasa's HTTP API needs a
# JWT signed with NORDHEM_RASA_JWT_SECRET. Its REST channel stays open to local callers.
export RASA_TELEMETRY_ENABLED=false
# Each server runs under tools/supervise.py: when it exits unasked it is started again after
# 1 s, 2 s, 4 s ... (at most 30 s; a run of 30 s resets that), while the others keep running.
# Restarts are logged in .rasa/logs/supervise.log; after five crashes in a row it gives up.
supervise() {
  local name=$1; shift
  .venv-api/bin/python tools/supervise.py --name "$name" --log ".rasa/logs/$name.log" \
    --events .rasa/logs/supervise.log --give-up-after 5 -- "$@" &
}
supervise actions env SANIC_HOST="${ACTIONS_INTERFACE:-127.0.0.1}" .venv/bin/rasa run actions \
  --actions actions --port "$actions_port"
actions_pid=$!
supervise rasa .venv/bin/rasa run --enable-api --interface "${RASA_INTERFACE:-127.0.0.1}" \
  --port "$rasa_port" --jwt-secret="$NORDHEM_RASA_JWT_SECRET" --jwt-method HS256 \
  --model models/current.tar.gz --credentials bot/credentials.yml --endpoints bot/endpoints.yml
rasa_pid=$!
supervise api .venv-api/bin/python -m api serve --host 0.0.0.0 --port "$api_port"
api_pid=$!
# Ctrl-C or TERM: each supervisor stops its server (TERM, then KILL after 10 s)
stop() { trap - EXIT INT TERM; kill $actions_pid $rasa_pid $api_pid 2>/dev/null; wait 2>/dev/null || true; }
trap stop EXIT
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

echo "==> starting the action server (:$actions_port), Rasa (:$rasa_port) and the escalation service (:$api_port); logs in .rasa/logs/"
start=$(date +%s)
until curl -sf "http://localhost:$rasa_port/" >/dev/null \
   && curl -sf "http://localhost:$actions_port/health" >/dev/null \
   && curl -sf "http://localhost:$api_port/health" >/dev/null; do
  for pid in $actions_pid $rasa_pid $api_pid; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "a server keeps stopping while starting; see .rasa/logs/" >&2; tail -n 20 .rasa/logs/*.log >&2; exit 1
    fi
  done
  sleep 1; printf '.'
done
echo
echo "==> ready after $(( $(date +%s) - start )) s"
# the demo token is shown once, when it is made; afterwards it stays in .env
if $new_secrets; then demo_token=$NORDHEM_DEMO_AGENT_TOKEN; else demo_token="NORDHEM_DEMO_AGENT_TOKEN in .env"; fi
cat <<MSG
Agent console:     http://localhost:$api_port/agent    (demo agent token: $demo_token)
Orders:            $order_system
API and its docs:  http://localhost:$api_port/docs
Talk to the bot through the service:
  curl -s -X POST localhost:$api_port/api/conversations -H 'Content-Type: application/json' -d '{"language": "nb"}'
  curl -s -X POST localhost:$api_port/api/conversations/<conversation_id>/messages \\
       -H 'Authorization: Bearer <customer_token>' -H 'Content-Type: application/json' -d '{"text": "hvor er pakken min?"}'
Or Rasa's REST channel directly: curl -s localhost:$rasa_port/webhooks/rest/webhook -d '{"sender": "me", "message": "hej"}'
More agents: PYTHONPATH=. .venv-api/bin/python -m api agents create NAME
Press Ctrl-C to stop.
MSG
# a server that crashes is restarted by its supervisor; one that keeps crashing is given up
# (the supervisor says so), and the others keep running until Ctrl-C
wait
