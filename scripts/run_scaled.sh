#!/usr/bin/env bash
# The scaled set-up on one machine (make run-scaled; docs/scaling.md): HAProxy (deploy/haproxy.cfg, a foreground
# child, not the system service) in front of two Rasa servers on endpoints.scaled.yml (tracker store on PostgreSQL,
# lock store on Redis) and two action servers sharing the knowledge store on PostgreSQL. Ctrl+C stops everything.
# Needs PostgreSQL (TRACKER_DB_HOST/PORT/USER/PASSWORD, default 127.0.0.1:5432 as postgres), Redis (REDIS_HOST/PORT,
# default 127.0.0.1:6379) and haproxy (scripts/setup.sh installs it). The databases TRACKER_DB (default bot_tracker)
# and SCALED_STORE_DB (default bot_knowledge) are created when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# Logs, the index of the shared store and HAProxy's stats socket (tools/scaled.py)
export SCALED_DIR=${SCALED_DIR:-$PWD/.cache/scaled}
exec .venv-actions/bin/python -m tools.scaled
