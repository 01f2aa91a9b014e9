"""Publishing: serve the active entries as a new release (its index built in the background, or waited for),
and going back to what an earlier release served, then publishing that. Only the publisher builds
(bot.indexing.publish); a failed build leaves the previous release serving, and says why in the release.

Audit lines: `publish`, `bản #N`, "K mục" (and why it failed, when the caller waited for the build);
`rollback`, `bản #N`, what was restored and retired, and which release now serves it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.indexing.publish import Busy, Publisher
from bot.store.knowledge import KnowledgeStore, Release
from bot.usecases.audit import AuditWriter, release_ref

BACKGROUND, WAIT = "background", "wait"


@dataclass(frozen=True)
class RolledBack:
    """What a rollback changed, and the release that serves it (None: not published, see `busy`)."""

    report: dict[str, list[str]]  # restored, retired: entry ids
    release: Release | None = None
    busy: bool = False  # another publish started at the same moment: publish again later


def published(release: Release) -> str:
    """The audit detail of a publish: how many entries, and why it failed when it is known to have."""
    if release.status == "failed":
        return f"{release.entries} mục; không thành công: {release.message}"
    return f"{release.entries} mục"


def rolled_back(outcome: RolledBack) -> str:
    """The audit detail of a rollback."""
    done = f"khôi phục {len(outcome.report['restored'])}, ngừng {len(outcome.report['retired'])} mục"
    if outcome.busy:
        return done + "; chưa xuất bản (đang bận)"
    if outcome.release is None:
        return done + "; chưa xuất bản"
    if outcome.release.status == "failed":
        return done + f"; xuất bản {release_ref(outcome.release.id)} không thành công: {outcome.release.message}"
    return done + f"; xuất bản thành {release_ref(outcome.release.id)}"


class Releases:
    """The publishing use cases for one author."""

    def __init__(self, store: KnowledgeStore, publisher: Publisher, audit: AuditWriter, author: str) -> None:
        self.store, self.publisher, self.audit, self.author = store, publisher, audit, author

    def publish(self) -> Release:
        """Start a release; its index builds in the background (Busy while another one builds)."""
        release = self.publisher.publish(self.author)
        self.audit.log(self.author, "publish", release_ref(release.id), published(release))
        return release

    def publish_and_wait(self, progress_bar: bool = True) -> Release:
        """Publish and block until the release serves or failed."""
        release = self.publisher.publish_and_wait(self.author, progress_bar=progress_bar)
        self.audit.log(self.author, "publish", release_ref(release.id), published(release))
        return release

    def roll_back(self, release_id: int, publish: str | None = None,
                  announce: Callable[[dict[str, list[str]]], None] | None = None) -> RolledBack:
        """Bring the entries back to what release `release_id` served (NotFound when there is none), then
        publish them when asked: BACKGROUND (Busy, and nothing changed, when a build is already running here)
        or WAIT (`announce` hears what was restored before the build starts). One audit line for it all."""
        if publish == BACKGROUND and self.publisher.progress.state == "building":
            raise Busy("đang xuất bản một bản khác, vui lòng đợi xong")
        self.store.release(release_id)
        report = self.store.rollback_to_release(release_id, self.author)
        outcome = RolledBack(report)
        if announce:
            announce(report)
        if publish == BACKGROUND:
            try:
                outcome = RolledBack(report, self.publisher.publish(self.author))
            except Busy:  # someone published at the same moment: the entries are rolled back, publish again later
                outcome = RolledBack(report, busy=True)
        elif publish == WAIT:
            outcome = RolledBack(report, self.publisher.publish_and_wait(self.author, progress_bar=True))
        self.audit.log(self.author, "rollback", release_ref(release_id), rolled_back(outcome))
        return outcome
