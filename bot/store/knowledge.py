"""Knowledge entries with revisions: every change is a new revision (who, when, what), any entry or
the whole base can go back to an earlier revision, and two editors never silently overwrite each other.

Writes use optimistic concurrency: an edit names the revision it started from, and the update only
succeeds if that is still the latest (`UPDATE ... WHERE revision = base`), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import builtins  # KnowledgeStore.list shadows the builtin in annotations below it
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from bot.core.localtime import utcnow
from bot.core.text import plain
from bot.knowledge.loader import Problem, check_entry
from bot.knowledge.model import TOPICS, Entry, topic_of
from bot.store.schema import as_utc, engine_for, entries, releases, revisions

ACTIVE, RETIRED = "active", "retired"
SEED_AUTHOR = "seed"  # revisions written by the seed sync from knowledge/*.yml


class Conflict(Exception):
    """Someone else saved this entry since the editor opened it (or the id is already taken)."""

    def __init__(self, message: str, current: int | None = None) -> None:
        super().__init__(message)
        self.current = current


class ValidationFailed(ValueError):
    """The entry breaks the rules; `problems` says which field and why (in Vietnamese)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class NotFound(KeyError):
    """No such entry, revision or release."""


@dataclass(frozen=True)
class StoredEntry:
    """An entry in the working copy with its bookkeeping."""

    entry: Entry
    status: str
    revision: int
    updated_at: dt.datetime
    updated_by: str

    @property
    def id(self) -> str:
        return self.entry.id


@dataclass(frozen=True)
class Revision:
    """One saved state of an entry."""

    entry_id: str
    number: int
    status: str
    data: dict
    action: str
    author: str
    at: dt.datetime
    comment: str


@dataclass(frozen=True)
class Release:
    """One publish: which revisions the bot serves, and whether its index build succeeded."""

    id: int
    created_at: dt.datetime
    author: str
    status: str
    snapshot: dict[str, int]
    entries: int
    message: str
    index_name: str
    finished_at: dt.datetime | None


def _dump(entry: Entry) -> str:
    return json.dumps(entry.to_dict(), ensure_ascii=False, sort_keys=True)


def _contains_all(haystack: str, words: list[str]) -> bool:
    return all(w in haystack for w in words)


def _stored(row) -> StoredEntry:
    return StoredEntry(Entry.from_dict(json.loads(row.data), row.topic), row.status, row.revision,
                       as_utc(row.updated_at), row.updated_by)


def _release(row) -> Release:
    return Release(row.id, as_utc(row.created_at), row.author, row.status, json.loads(row.snapshot), row.entries,
                   row.message, row.index_name, as_utc(row.finished_at))


def validate(raw: dict) -> Entry:
    """Check a raw entry (as the admin form or an import gives it); raise ValidationFailed."""
    eid = raw.get("id") if isinstance(raw, dict) else None
    topic = topic_of(eid) if isinstance(eid, str) else None
    if eid and topic is None:
        raise ValidationFailed([Problem("id", "phải bắt đầu bằng một chủ đề: " + ", ".join(f"{t}-" for t in TOPICS))])
    entry, problems = check_entry(raw, topic or "")
    if problems or entry is None:
        raise ValidationFailed(problems)
    return entry


class KnowledgeStore:
    """Entries, their revisions and releases in one database."""

    def __init__(self, engine: Engine | None = None, url: str | None = None) -> None:
        self._engine, self._url = engine, url

    @property
    def engine(self) -> Engine:
        """Opened on first use: the action server's search service holds a store it only reads from a background
        thread, and must start (and answer from its index on disk) while the database is down."""
        if self._engine is None:
            self._engine = engine_for(self._url)
        return self._engine

    @classmethod
    def open(cls, url: str) -> KnowledgeStore:
        """The store at a SQLAlchemy URL (sqlite:///path or postgresql://...), schema created on first use."""
        return cls(url=url)

    # ------------------------------------------------------------------ reading
    def list(self, topic: str | None = None, text: str | None = None, status: str | None = None) -> list[StoredEntry]:
        """Entries, optionally by topic, status and words (accents and case ignored), sorted by id."""
        query = select(entries).order_by(entries.c.id)
        if topic:
            query = query.where(entries.c.topic == topic)
        if status:
            query = query.where(entries.c.status == status)
        with self.engine.connect() as conn:
            found = [_stored(r) for r in conn.execute(query)]
        if text:
            wanted = plain(text).split()
            found = [s for s in found
                     if _contains_all(plain(json.dumps(s.entry.to_dict(), ensure_ascii=False)), wanted)]
        return found

    def get(self, entry_id: str) -> StoredEntry | None:
        """One entry of the working copy, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(entries).where(entries.c.id == entry_id)).first()
        return _stored(row) if row else None

    def active_entries(self) -> builtins.list[Entry]:
        """The entries a publish would serve now."""
        return [s.entry for s in self.list(status=ACTIVE)]

    def count(self) -> int:
        """How many entries (any status) the store holds."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(entries)).scalar_one()

    def history(self, entry_id: str) -> builtins.list[Revision]:
        """Every revision of an entry, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(revisions).where(revisions.c.entry_id == entry_id).order_by(revisions.c.number.desc())
            ).all()
        return [Revision(r.entry_id, r.number, r.status, json.loads(r.data), r.action, r.author, as_utc(r.at),
                         r.comment) for r in rows]

    def revision(self, entry_id: str, number: int) -> Revision:
        """One revision; NotFound if it does not exist."""
        found = next((r for r in self.history(entry_id) if r.number == number), None)
        if found is None:
            raise NotFound(f"{entry_id} bản {number}")
        return found

    # ------------------------------------------------------------------ writing
    def _check_related(self, conn: Connection, entry: Entry) -> None:
        if not entry.related:
            return
        known = {r.id for r in conn.execute(select(entries.c.id).where(entries.c.status == ACTIVE))}
        missing = [r for r in entry.related if r not in known and r != entry.id]
        if missing:
            raise ValidationFailed([Problem("related", "không có mục đang dùng: " + ", ".join(missing))])

    def _write(self, conn: Connection, entry: Entry, status: str, action: str, author: str, base: int | None,
               comment: str = "") -> StoredEntry:
        now = utcnow()
        data = _dump(entry)
        current = conn.execute(select(entries.c.revision).where(entries.c.id == entry.id)).scalar()
        if base is None:  # creating
            if current is not None:
                raise Conflict(f"đã có mục với mã '{entry.id}'", current)
            number = 1
            conn.execute(insert(entries).values(id=entry.id, topic=entry.topic, status=status, revision=1, data=data,
                                                updated_at=now, updated_by=author))
        else:
            if current is None:
                raise NotFound(entry.id)
            number = base + 1
            done = conn.execute(
                update(entries)
                .where(and_(entries.c.id == entry.id, entries.c.revision == base))
                .values(topic=entry.topic, status=status, revision=number, data=data, updated_at=now, updated_by=author)
            )
            if done.rowcount != 1:
                current = conn.execute(select(entries.c.revision).where(entries.c.id == entry.id)).scalar()
                raise Conflict(f"mục '{entry.id}' vừa được người khác sửa (bản {current}); bạn đang sửa bản {base}",
                               current)
        conn.execute(insert(revisions).values(entry_id=entry.id, number=number, status=status, data=data,
                                              action=action, author=author, at=now, comment=comment))
        return StoredEntry(entry, status, number, now, author)

    def create(self, raw: dict, author: str, comment: str = "") -> StoredEntry:
        """Add a new entry; ValidationFailed or Conflict (id taken)."""
        entry = validate(raw)
        with self.engine.begin() as conn:
            self._check_related(conn, entry)
            return self._write(conn, entry, ACTIVE, "create", author, None, comment)

    def edit(self, raw: dict, author: str, base_revision: int, comment: str = "") -> StoredEntry:
        """Save a new revision of an existing entry, started from `base_revision`."""
        entry = validate(raw)
        with self.engine.begin() as conn:
            self._check_related(conn, entry)
            status = conn.execute(select(entries.c.status).where(entries.c.id == entry.id)).scalar()
            return self._write(conn, entry, status or ACTIVE, "edit", author, base_revision, comment)

    def retire(self, entry_id: str, author: str, base_revision: int, comment: str = "") -> StoredEntry:
        """Stop serving an entry (it stays in history and can be restored)."""
        current = self.get(entry_id)
        if current is None:
            raise NotFound(entry_id)
        with self.engine.begin() as conn:
            return self._write(conn, current.entry, RETIRED, "retire", author, base_revision, comment)

    def restore(self, entry_id: str, number: int, author: str, base_revision: int | None = None) -> StoredEntry:
        """Make an old revision the latest again (as a new revision: history is never rewritten)."""
        old = self.revision(entry_id, number)
        current = self.get(entry_id)
        if current is None:
            raise NotFound(entry_id)
        entry = Entry.from_dict(old.data, topic_of(entry_id))
        with self.engine.begin() as conn:
            return self._write(conn, entry, old.status, "restore", author,
                               current.revision if base_revision is None else base_revision,
                               f"khôi phục bản {number}")

    def import_entries(self, items: Iterable[Entry], author: str, action: str = "import",
                       keep_edited: bool = False) -> dict[str, builtins.list[str]]:
        """Save many entries in one transaction (all or nothing): new ones created, changed ones revised,
        identical ones left alone. With keep_edited, entries a person changed since the last import by
        the same author are left as the person made them (reported as 'kept')."""
        items = list(items)
        report: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": [], "kept": []}
        with self.engine.begin() as conn:
            rows = {r.id: r for r in conn.execute(select(entries))}
            for entry in items:
                row = rows.get(entry.id)
                if row is None:
                    self._write(conn, entry, ACTIVE, action, author, None)
                    report["created"].append(entry.id)
                elif row.data == _dump(entry) and row.status == ACTIVE:
                    report["unchanged"].append(entry.id)
                elif keep_edited and row.updated_by != author:
                    report["kept"].append(entry.id)
                else:
                    self._write(conn, entry, ACTIVE, action, author, row.revision)
                    report["updated"].append(entry.id)
            known = {r.id for r in conn.execute(select(entries.c.id).where(entries.c.status == ACTIVE))}
            missing = sorted({r for e in items for r in e.related if r not in known})
            if missing:
                raise ValidationFailed([Problem("related", "không có mục: " + ", ".join(missing))])
        return report

    # ------------------------------------------------------------------ releases
    def start_release(self, author: str) -> Release:
        """Record a release of the current active entries, status 'building'."""
        with self.engine.begin() as conn:
            active = conn.execute(select(entries.c.id, entries.c.revision).where(entries.c.status == ACTIVE)).all()
            snapshot = {r.id: r.revision for r in active}
            rid = conn.execute(insert(releases).values(
                created_at=utcnow(), author=author, status="building", snapshot=json.dumps(snapshot, sort_keys=True),
                entries=len(snapshot), message="", index_name="",
            )).inserted_primary_key[0]
        return self.release(rid)

    def finish_release(self, release_id: int, ok: bool, message: str = "", index_name: str = "") -> Release:
        """Mark a release live (its index is serving) or failed (the previous one keeps serving)."""
        with self.engine.begin() as conn:
            conn.execute(update(releases).where(releases.c.id == release_id).values(
                status="live" if ok else "failed", message=message, index_name=index_name, finished_at=utcnow()))
        return self.release(release_id)

    def release(self, release_id: int) -> Release:
        """One release; NotFound if absent."""
        with self.engine.connect() as conn:
            row = conn.execute(select(releases).where(releases.c.id == release_id)).first()
        if row is None:
            raise NotFound(f"release {release_id}")
        return _release(row)

    def releases(self, limit: int = 50) -> builtins.list[Release]:
        """Recent releases, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(releases).order_by(releases.c.id.desc()).limit(limit)).all()
        return [_release(r) for r in rows]

    def live_release(self) -> Release | None:
        """The newest release whose index was built and published."""
        with self.engine.connect() as conn:
            row = conn.execute(select(releases).where(releases.c.status == "live")
                               .order_by(releases.c.id.desc()).limit(1)).first()
        return _release(row) if row else None

    def release_entries(self, release: Release) -> builtins.list[Entry]:
        """The entries exactly as a release froze them."""
        out = []
        with self.engine.connect() as conn:
            for eid, number in sorted(release.snapshot.items()):
                data = conn.execute(select(revisions.c.data).where(
                    and_(revisions.c.entry_id == eid, revisions.c.number == number))).scalar_one()
                out.append(Entry.from_dict(json.loads(data), topic_of(eid)))
        return out

    def rollback_to_release(self, release_id: int, author: str) -> dict[str, builtins.list[str]]:
        """Bring the working copy back to what a release served: entries changed since are restored to
        the release's revision, entries added since are retired. New revisions; publish to serve it."""
        release = self.release(release_id)
        report: dict[str, list[str]] = {"restored": [], "retired": []}
        with self.engine.begin() as conn:
            for row in conn.execute(select(entries)).all():
                number = release.snapshot.get(row.id)
                if number is None:
                    if row.status == ACTIVE:
                        entry = Entry.from_dict(json.loads(row.data), row.topic)
                        self._write(conn, entry, RETIRED, "retire", author, row.revision,
                                    f"quay về bản xuất bản #{release_id}")
                        report["retired"].append(row.id)
                    continue
                old = conn.execute(select(revisions).where(
                    and_(revisions.c.entry_id == row.id, revisions.c.number == number))).first()
                if old.data != row.data or row.status != ACTIVE:
                    entry = Entry.from_dict(json.loads(old.data), row.topic)
                    self._write(conn, entry, ACTIVE, "restore", author, row.revision,
                                f"khôi phục bản {number} (bản xuất bản #{release_id})")
                    report["restored"].append(row.id)
        return report
