"""`python -m bot.action_server [rasa_sdk's options]`: the action server, closed to everyone but Rasa.

rasa_sdk listens on 0.0.0.0 with no authentication: anyone who reaches the port can list the actions and post a
forged tracker to /webhook (tickets, team notices, helper mode for any sender). This launcher
- binds ACTIONS_HOST, 127.0.0.1 unless set (several machines: the address Rasa reaches it on);
- when ACTION_SERVER_TOKEN is set, refuses every request but GET /health without `?token=<it>` (401), compared in
  constant time: Rasa sends it from `token:` of the action_endpoint in endpoints*.yml;
- refuses to start on a non-loopback address without a token;
- logs each worker process to its own masked, rotating file when BOT_LOG_DIR is set (bot/core/logs.py);
- adds POST /screens/read (bot/screens_route.py): a screenshot's bytes in, its masked text out, for the channels,
  which cannot run OCR in Rasa's environment;
- adds POST /search/warm (actions/warm_route.py): a typed message Rasa has just read, searched ahead of the action.
Everything else is rasa_sdk's own server (same options: --actions, --port, ...).
"""

from __future__ import annotations

import hmac
import importlib
import ipaddress
import os
import sys
from typing import Any

from rasa_sdk import endpoint
from rasa_sdk.__main__ import main_from_args
from sanic import Sanic, response
from sanic.request import Request

from bot.core import logs
from bot.screens_route import add_screen_route

HOST_ENV, TOKEN_ENV = "ACTIONS_HOST", "ACTION_SERVER_TOKEN"
DEFAULT_HOST = "127.0.0.1"
OPEN_PATHS = frozenset({"/health"})  # a load balancer's probe; it tells nothing about the actions
MIN_TOKEN_CHARS = 16
_sdk_app = endpoint.create_app_for_serve  # rasa_sdk's factory, kept before main() swaps in ours


def token_accepted(supplied: str | None, token: str) -> bool:
    """Whether a request carried the token (constant time; any text compares, as bytes)."""
    if not supplied:
        return False
    return hmac.compare_digest(supplied.encode("utf-8", "replace"), token.encode("utf-8"))


def guarded_app(*args: Any, **kwargs: Any) -> Sanic:
    """rasa_sdk's app, plus the token check when ACTION_SERVER_TOKEN is set (built again in every worker process,
    so it reads the token from the environment there)."""
    app = _sdk_app(*args, **kwargs)
    # Sanic's workers are spawned afresh: none inherits the main process's logging (root had no handler, so
    # warnings went unmasked to stderr). The main process keeps rasa_sdk's start-up lines on stderr.
    name = logs.worker_log_name("actions", os.environ.get("SANIC_WORKER_NAME"))
    if name:
        logs.configure(name)
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:

        @app.on_request
        async def require_token(request: Request) -> response.HTTPResponse | None:
            if request.path in OPEN_PATHS or token_accepted(request.args.get("token"), token):
                return None
            return response.json({"error": "a valid token is required"}, status=401)

    add_screen_route(app)
    # The search's head start (actions/warm_route.py); imported here, in the worker, where the actions live.
    importlib.import_module("actions.warm_route").add_warm_route(app)
    return app


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def problem(host: str, token: str) -> str | None:
    """Why the server must not start with these settings; None when it may."""
    if token and len(token) < MIN_TOKEN_CHARS:
        return f"{TOKEN_ENV} must be at least {MIN_TOKEN_CHARS} characters"
    if not is_loopback(host) and not token:
        return (f"{HOST_ENV}={host} opens the action server to other machines: set {TOKEN_ENV} (and the same value "
                "in Rasa's environment, for `token:` in endpoints.scaled.yml)")
    return None


def main(argv: list[str] | None = None) -> int:
    """Check the settings, then run rasa_sdk's server with our factory on the chosen address."""
    host = os.environ.get(HOST_ENV, "").strip() or DEFAULT_HOST
    token = os.environ.get(TOKEN_ENV, "").strip()
    why = problem(host, token)
    if why:
        print(f"action server: {why}", file=sys.stderr)
        return 2
    args = endpoint.create_argument_parser().parse_args(argv)
    os.environ["SANIC_HOST"] = host  # what rasa_sdk's run() binds
    # One torch thread per worker unless the operator says otherwise: on 2 shared cores torch's default (a thread per
    # core) made each query embedding fight Rasa and the other requests, about 8x the CPU per message under load
    # (make bench-load: 2.5 msg/s at 1 resident with the default, 11 with one thread). Read by torch at import, in
    # the worker processes Sanic spawns, which inherit this environment.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    os.environ.setdefault("BOT_EMBED_THREADS", "2")  # the ONNX query embedder: see bot/search/onnx_embedder.py
    # By its importable name (not __main__), so the worker processes Sanic spawns can unpickle the factory.
    endpoint.create_app_for_serve = importlib.import_module("bot.action_server").guarded_app
    main_from_args(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
