"""Changing the knowledge base's entries: add, edit, retire, restore an old revision, serve a retired entry
again, import many at once. Each saves through the store (which checks the revision the change was based on
and the entry's rules) and writes one audit line; the bot serves the change after the next publish.

Errors are the store's: ValidationFailed (nothing saved), Conflict (someone saved in between, or the id is
taken), NotFound."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.knowledge.model import Entry
from bot.store.knowledge import ACTIVE, KnowledgeStore, NotFound, StoredEntry
from bot.store.question_log import Events
from bot.usecases.audit import AuditWriter


class EntryChanges:
    """The entry use cases for one author (an admin account, or `cli:<user>`)."""

    def __init__(self, store: KnowledgeStore, audit: AuditWriter, author: str, events: Events | None = None) -> None:
        self.store, self.audit, self.author = store, audit, author
        self.events = events  # the question log, for questions a new entry now answers

    def create(self, raw: dict, comment: str = "", resolves: Sequence[int] = ()) -> StoredEntry:
        """A new entry (revision 1); the unanswered questions it was written for leave that list."""
        stored = self.store.create(raw, self.author, comment)
        if resolves:
            if self.events is None:
                raise ValueError("resolving questions needs the question log (events)")
            self.events.mark_resolved(list(resolves), stored.id)
        self.audit.log(self.author, "create", stored.id,
                       f"từ {len(resolves)} câu hỏi chưa trả lời" if resolves else "")
        return stored

    def edit(self, raw: dict, base_revision: int, comment: str = "") -> StoredEntry:
        """A new revision of raw['id'], based on the revision the author started from."""
        stored = self.store.edit(raw, self.author, base_revision, comment)
        self.audit.log(self.author, "edit", stored.id, f"bản {stored.revision}")
        return stored

    def retire(self, entry_id: str, base_revision: int, comment: str = "") -> StoredEntry:
        """Stop serving an entry (a new, retired revision)."""
        stored = self.store.retire(entry_id, self.author, base_revision, comment)
        self.audit.log(self.author, "retire", stored.id, f"bản {stored.revision}")
        return stored

    def restore(self, entry_id: str, number: int, base_revision: int | None = None) -> StoredEntry:
        """Revision `number`'s content saved again as the newest revision."""
        stored = self.store.restore(entry_id, number, self.author, base_revision)
        self.audit.log(self.author, "restore", entry_id, f"bản {number} → bản {stored.revision}")
        return stored

    def reactivate(self, entry_id: str, base_revision: int | None = None) -> StoredEntry:
        """Serve a retired entry again: its last active revision becomes the newest. NotFound when the entry
        never was active (or does not exist)."""
        last_active = next((r for r in self.store.history(entry_id) if r.status == ACTIVE), None)
        if last_active is None:
            raise NotFound(entry_id)
        stored = self.store.restore(entry_id, last_active.number, self.author, base_revision)
        self.audit.log(self.author, "restore", entry_id, f"dùng lại (bản {last_active.number} → bản {stored.revision})")
        return stored

    def import_entries(self, entries: Iterable[Entry], source: str) -> dict[str, list[str]]:
        """Save many validated entries in one transaction (all or nothing); `source` names where they came from
        (files, folders). Returns the store's report: created, updated, unchanged, kept."""
        report = self.store.import_entries(entries, self.author)
        self.audit.log(self.author, "import", source, imported(report))
        return report


def imported(report: dict[str, list[str]]) -> str:
    """An import's counts, as the audit log and the command line say them."""
    return (f"{len(report['created'])} mục mới, {len(report['updated'])} mục sửa, "
            f"{len(report['unchanged'])} không đổi")
