"""Checks on what a client posts, before Rasa sees it (pure: no Rasa import, tested on its own)."""

from __future__ import annotations

import json

MAX_MESSAGE_CHARS = 10_000  # far above any real question; stops a megabyte of text reaching NLU


def rest_body_problem(raw: bytes) -> str | None:
    """Why a REST webhook body is unacceptable, in plain words; None when it is fine."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return "the body must be UTF-8 encoded JSON"
    except json.JSONDecodeError:
        return "the body must be JSON: {\"sender\": \"...\", \"message\": \"...\"}"
    if not isinstance(body, dict):
        return "the body must be a JSON object with 'sender' and 'message'"
    if not isinstance(body.get("message"), str):
        return "'message' must be a text"
    if "sender" in body and not isinstance(body["sender"], (str, int)):
        return "'sender' must be a text"
    if "metadata" in body and body["metadata"] is not None and not isinstance(body["metadata"], dict):
        return "'metadata' must be a JSON object"
    if len(body["message"]) > MAX_MESSAGE_CHARS:
        return f"'message' is longer than {MAX_MESSAGE_CHARS} characters"
    return None
