#!/usr/bin/env bash
# Starts the action server and the Rasa server, waits until both answer, prints where
# to talk to the bot, and stops both on Ctrl-C.
set -euo pipefail
rasa_port=${1:-5005}
actions_port=${2:-5055}
bin=.venv/bin
mkdir -p .rasa/logs

"$bin/rasa" run actions --actions actions --port "$actions_port" >.rasa/logs/actions.log 2>&1 &
actions_pid=$!
"$bin/rasa" run --enable-api --port "$rasa_port" --model models/current.tar.gz \
  --credentials bot/credentials.yml --endpoints bot/endpoints.yml >.rasa/logs/rasa.log 2>&1 &
rasa_pid=$!
trap 'kill $actions_pid $rasa_pid 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

echo "==> starting the action server (:$actions_port) and the Rasa server (:$rasa_port); logs in .rasa/logs/"
start=$(date +%s)
until curl -sf "http://localhost:$rasa_port/status" >/dev/null && curl -sf "http://localhost:$actions_port/health" >/dev/null; do
  if ! kill -0 $rasa_pid 2>/dev/null || ! kill -0 $actions_pid 2>/dev/null; then
    echo "a server stopped while starting; see .rasa/logs/" >&2; tail -n 20 .rasa/logs/*.log >&2; exit 1
  fi
  sleep 1; printf '.'
done
echo
echo "==> ready after $(( $(date +%s) - start )) s"
cat <<MSG
Talk to the bot (REST channel; "language" is an optional hint: nb, da or sv):
  curl -s localhost:$rasa_port/webhooks/rest/webhook -H 'Content-Type: application/json' \\
       -d '{"sender": "me", "message": "hvor lang tid tar leveringen?", "metadata": {"language": "nb"}}'
Rasa HTTP API:   http://localhost:$rasa_port/   (e.g. POST /model/parse {"text": "..."})
Action server:   http://localhost:$actions_port/health
Press Ctrl-C to stop.
MSG
wait -n $actions_pid $rasa_pid
