"""`python -m bot.knowledge.validate [FOLDER]`: check the knowledge files, exit 1 on any problem."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from bot.knowledge.loader import KnowledgeError, load_entries


def main(argv: list[str] | None = None) -> int:
    """Validate and print a one-line summary, or every problem found."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "knowledge")
    try:
        entries = load_entries(folder)
    except KnowledgeError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        print(f"{len(err.problems)} problem(s) in {folder}", file=sys.stderr)
        return 1
    topics = Counter(e.topic for e in entries)
    print(f"{len(entries)} entries OK: " + ", ".join(f"{t} {n}" for t, n in sorted(topics.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
