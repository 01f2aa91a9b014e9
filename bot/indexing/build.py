"""`python -m bot.indexing.build`: bring the knowledge store up to date with the seed files in knowledge/
and publish it (build the search index, or reuse it when nothing changed).

Seed entries that an admin has since changed on the admin page are kept as the admin left them."""

from __future__ import annotations

import sys

from bot.core.settings import Settings
from bot.indexing.publish import Publisher
from bot.knowledge.loader import KnowledgeError, load_entries
from bot.store.knowledge import SEED_AUTHOR, KnowledgeStore, ValidationFailed


def main() -> int:
    """Sync the seed into the store, then publish if the store differs from what is serving."""
    settings = Settings.from_env()
    try:
        seed = load_entries(settings.knowledge_dir)
    except KnowledgeError as err:
        print("\n".join(err.problems), file=sys.stderr)
        return 1
    store = KnowledgeStore.open(settings.store_url)
    try:
        report = store.import_entries(seed, SEED_AUTHOR, action="seed", keep_edited=True)
    except ValidationFailed as err:
        print(f"knowledge store: {err}", file=sys.stderr)
        return 1
    print(f"knowledge store: {len(report['created'])} new, {len(report['updated'])} updated from knowledge/, "
          f"{len(report['unchanged'])} unchanged")
    if report["kept"]:
        print(f"kept as edited on the admin page (seed change not applied): {', '.join(report['kept'])}")
    publisher = Publisher(store, settings)
    if publisher.is_current():
        print(f"index up to date: release #{store.live_release().id}")
        return 0
    release = publisher.publish_and_wait(SEED_AUTHOR)
    if release.status != "live":
        print(f"publish failed: {release.message}", file=sys.stderr)
        return 1
    print(f"index ready: release #{release.id}, {release.entries} entries, {settings.index_dir / release.index_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
