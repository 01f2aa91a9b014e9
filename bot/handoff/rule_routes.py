"""Which action the rules in data/rules.yml give an intent: for a turn that reached action_relay_to_staff although
the resident's ticket had been closed meanwhile. The action clears `ticket_open` and follows up with the action the
rules would have chosen without it, read from the same file Rasa trains on (no second list to keep in step).

A rule counts when it starts with `intent: X` then `action: A`; rules conditioned on the ticket or on a form are
skipped; among the rules whose slot conditions hold, the one with the most conditions wins (as in RulePolicy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.core.settings import ROOT

RULES_FILE = ROOT / "data" / "rules.yml"
FALLBACK_ACTION = "action_answer_question"  # retrieval decides, and declines politely when unsure
SKIPPED_SLOTS = ("ticket_open",)


@dataclass(frozen=True)
class Route:
    intent: str
    action: str
    conditions: tuple[tuple[str, Any], ...]  # (slot, value) from slot_was_set

    def holds(self, slots: Mapping[str, Any]) -> bool:
        for slot, value in self.conditions:
            current = slots.get(slot)
            if isinstance(value, bool):
                if bool(current) is not value:
                    return False
            elif current is None:  # text slots featurise as "set or not", whatever the value in the rule
                return False
        return True


def routes(data: Mapping[str, Any]) -> list[Route]:
    """The single-intent routes of a rules file's data."""
    found = []
    for rule in data.get("rules") or []:
        steps = rule.get("steps") or []
        if len(steps) < 2 or "intent" not in steps[0] or "action" not in steps[1]:
            continue
        conditions: list[tuple[str, Any]] = []
        skip = False
        for condition in rule.get("condition") or []:
            if "active_loop" in condition:
                skip = True
            for item in condition.get("slot_was_set") or []:
                for slot, value in (item.items() if isinstance(item, Mapping) else [(item, True)]):
                    skip |= slot in SKIPPED_SLOTS
                    conditions.append((slot, value))
        if not skip:
            found.append(Route(str(steps[0]["intent"]), str(steps[1]["action"]), tuple(conditions)))
    return found


_cache: dict[Path, tuple[float, list[Route]]] = {}


def load(path: Path = RULES_FILE) -> list[Route]:
    """The routes of a rules file, re-read when it changes."""
    mtime = path.stat().st_mtime
    cached = _cache.get(path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, routes(yaml.safe_load(path.read_text(encoding="utf-8")) or {}))
        _cache[path] = cached
    return cached[1]


def action_for(intent: str | None, slots: Mapping[str, Any], path: Path = RULES_FILE) -> str:
    """The action the rules choose for `intent` given these slots; retrieval when no rule names the intent."""
    try:
        candidates = [r for r in load(path) if r.intent == intent and r.holds(slots)]
    except (OSError, yaml.YAMLError):
        return FALLBACK_ACTION
    if not candidates:
        return FALLBACK_ACTION
    return max(candidates, key=lambda r: len(r.conditions)).action
