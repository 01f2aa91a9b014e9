"""Write entries back in the seed format (`knowledge/<topic>.yml`): what the store exports and imports,
so export then import changes nothing."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import yaml

from bot.knowledge.model import TOPICS, Entry


class _Dumper(yaml.SafeDumper):
    """Block style for long texts so the files stay readable and diffable."""


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def topic_yaml(topic: str, entries: list[Entry]) -> str:
    """One topic file's text."""
    doc = {"topic": topic, "entries": [e.to_dict() for e in sorted(entries, key=lambda e: e.id)]}
    return yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=110)


def export_entries(entries: list[Entry], folder: Path) -> list[Path]:
    """Write one `<topic>.yml` per topic into folder (created if needed); return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    by_topic: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        by_topic[e.topic].append(e)
    written = []
    for topic in TOPICS:
        if by_topic.get(topic):
            path = folder / f"{topic}.yml"
            path.write_text(topic_yaml(topic, by_topic[topic]), encoding="utf-8")
            written.append(path)
    return written
