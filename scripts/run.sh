#!/usr/bin/env bash
# Start the action server and Rasa; Ctrl+C stops both.
#   scripts/run.sh          Rasa server with the REST channel (make run)
#   scripts/run.sh shell    talk to the bot in this terminal (make shell)
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
RASA_PORT=${RASA_PORT:-5005}
# Only this machine by default; RASA_HOST=0.0.0.0 lets phones on the LAN open the web chat page.
RASA_HOST=${RASA_HOST:-127.0.0.1}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
# endpoints.yml reads the action server's URL and token from here: one source for the port. The action server
# listens on 127.0.0.1 (ACTIONS_HOST) and, as this script starts both sides, gets a fresh token per run unless set.
export ACTION_SERVER_URL=${ACTION_SERVER_URL:-http://127.0.0.1:$ACTIONS_PORT/webhook}
if [ -z "${ACTION_SERVER_TOKEN:-}" ]; then
  ACTION_SERVER_TOKEN=$(.venv-actions/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')
fi
export ACTION_SERVER_TOKEN
# Each process logs to its own file here, masked and rotated at BOT_LOG_MAX_BYTES (10 MB) keeping BOT_LOG_BACKUPS
# (5) older ones (bot/core/logs.py; Rasa through logging.yml). *.out keeps what a process prints outside logging (its
# start-up, a crash before logging starts) and is emptied at each start.
export BOT_LOG_DIR=${BOT_LOG_DIR:-$PWD/.cache/logs}
mkdir -p "$BOT_LOG_DIR"

# The store at the newest migration before any server opens it: Rasa only checks it (bot/store/schema_version.py).
.venv-actions/bin/python -m bot.store.migrate upgrade

.venv-actions/bin/python -m bot.action_server --actions actions --port "$ACTIONS_PORT" \
  > "$BOT_LOG_DIR/actions.out" 2>&1 &
actions_pid=$!
trap 'kill $actions_pid 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$ACTIONS_PORT/health" >/dev/null 2>&1 && break
  kill -0 $actions_pid 2>/dev/null || { echo "action server failed; see $BOT_LOG_DIR/actions.out and actions.log" >&2; exit 1; }
  sleep 0.5
done

# Load the model now, while Rasa starts, not when the first resident asks.
.venv-actions/bin/python -m tools.warmup "http://127.0.0.1:$ACTIONS_PORT/webhook" &

# The admin page too, when the office has switched it on (BOT_ADMIN_ENABLED=1 and an account: docs/admin.md).
admin_msg="  Admin page: off (docs/admin.md: BOT_ADMIN_ENABLED=1 and 'make kb ARGS=\"user add NAME --role publisher\"')"
if [ "${BOT_ADMIN_ENABLED:-}" = 1 ] && [ "${1:-}" != "shell" ]; then
  .venv-actions/bin/python -m bot.admin.web > "$BOT_LOG_DIR/admin.out" 2>&1 &
  admin_pid=$!
  trap 'kill $actions_pid $admin_pid 2>/dev/null || true' EXIT INT TERM
  admin_msg="  Admin page: http://${BOT_ADMIN_HOST:-127.0.0.1}:${BOT_ADMIN_PORT:-5080}/ (log: $BOT_LOG_DIR/admin.log)"
fi

if [ "${1:-}" = "shell" ]; then
  .venv-rasa/bin/rasa shell --logging-config-file logging.yml --model models --endpoints endpoints.yml --interface 127.0.0.1 --port "$RASA_PORT"
  exit
fi

# The Telegram relay (make telegram, its own process) speaks to Rasa's relay door with the shared RELAY_SECRET.
relay_msg="  Telegram relay door: off (export the same RELAY_SECRET here and for make telegram: docs/telegram.md)"
[ -n "${RELAY_SECRET:-}" ] && relay_msg="  Telegram relay door: on (/webhooks/relay/webhook, RELAY_SECRET set)"

cat <<MSG

  The bot is starting on http://127.0.0.1:$RASA_PORT (ready when Rasa prints "Rasa server is up").
  Open the web chat page: http://127.0.0.1:$RASA_PORT/webhooks/webchat/
  or talk to it over REST:
    curl -s localhost:$RASA_PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
         -d '{"sender": "me", "message": "quen mat khau vneid"}'   (the conversation is web-me)
  or stop it and run: make shell
  Logs (rotated, masked): $BOT_LOG_DIR/{actions,rasa,admin}.log
$admin_msg
$relay_msg

MSG
# Rasa's HTTP API (conversations, model) only with a token: it would expose every conversation.
api=()
[ -n "${RASA_API_TOKEN:-}" ] && api=(--enable-api --auth-token "$RASA_API_TOKEN")
.venv-rasa/bin/rasa run --logging-config-file logging.yml --model models --endpoints endpoints.yml --credentials credentials.yml \
  --interface "$RASA_HOST" --port "$RASA_PORT" "${api[@]}"
