"""Rasa's check of each action server answer, with one validator built once instead of one per answer.

Rasa 3.6 checks every answer of the action server against its JSON schema (`RemoteAction._validate_action_result`)
with `jsonschema.validate`, which first checks the schema itself against JSON Schema's meta-schema, every time: about
10-20 ms of CPU per action call, a third of the Rasa server's CPU per message under load (bench/profile.md, py-spy).
The schema is Rasa's own constant, so a validator built once gives the same verdicts in about 0.3 ms; an answer it
rejects still goes through Rasa's own check, which raises Rasa's own error. Installed as the channels are built
(bot/rasa_side/channels/rest.py, zalo.py), like the action timeout (deadline.py).
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)
_MARK = "_checked_by_one_validator"


def check_answers_with_one_validator() -> bool:
    """Make Rasa's RemoteAction check answers with a validator built once; True when it is (or already was) so."""
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    if getattr(original, _MARK, False):
        return True
    schema = RemoteAction.action_response_format_spec()
    validator = jsonschema.validators.validator_for(schema)(schema)  # the class jsonschema.validate would pick
    spec = RemoteAction.action_response_format_spec

    def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        if type(self).action_response_format_spec is spec and validator.is_valid(result):
            return True
        return original(self, result)  # Rasa's own check: the same verdict, and its error when invalid

    setattr(validate_action_result, _MARK, True)
    RemoteAction._validate_action_result = validate_action_result
    return True
