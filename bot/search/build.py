"""`python -m bot.search.build`: validate the knowledge base and build (or reuse) the search index."""

from __future__ import annotations

import sys

from bot.knowledge.loader import KnowledgeError, load_entries
from bot.search.embedder import E5Embedder
from bot.search.index import build_index
from bot.settings import Settings


def main() -> int:
    """Build the index for the current knowledge files and publish it."""
    settings = Settings.from_env()
    try:
        entries = load_entries(settings.knowledge_dir)
    except KnowledgeError as err:
        print("\n".join(err.problems), file=sys.stderr)
        return 1
    embedder = E5Embedder(settings.model_dir)
    path = build_index(entries, embedder, embedder.fingerprint(), settings.index_dir, progress=True)
    print(f"index ready: {path} ({len(entries)} entries)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
