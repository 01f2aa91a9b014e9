"""The use cases (bot/usecases) on a real SQLite store: each does the whole operation and writes its one audit
line, worded as the admin page's audit log shows it. Publishing builds real indexes with the fake embedder;
the resident's channel is a fake notifier."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.settings import Settings
from bot.handoff.notify import Delivery
from bot.indexing.publish import Busy, Publisher
from bot.store.accounts import Accounts
from bot.store.knowledge import Conflict, KnowledgeStore, NotFound, ValidationFailed
from bot.store.question_log import Events
from bot.store.tickets import TicketClosed, Tickets
from bot.usecases.entries import EntryChanges
from bot.usecases.releases import BACKGROUND, WAIT, Releases
from bot.usecases.sessions import sign_in, sign_out
from bot.usecases.tickets import INBOX, NOT_SENT, SENT, TicketDesk
from bot.usecases.users import add_user, set_disabled
from tests.conftest import make_entry

AUTHOR = "ngoc-anh"
RAW = {
    "id": "vneid-doi-anh", "title": "Đổi ảnh trên VNeID",
    "questions": ["đổi ảnh vneid", "doi anh vneid", "thay ảnh căn cước điện tử", "cap nhat anh vneid"],
    "answer": "Ảnh lấy từ dữ liệu căn cước; muốn đổi ảnh, bạn làm thủ tục tại Công an xã/phường.",
    "source": "https://vneid.gov.vn/", "checked": "2026-11-20",
}


@pytest.fixture
def store(tmp_path, small_entries) -> KnowledgeStore:
    store = KnowledgeStore.open(f"sqlite:///{tmp_path / 'store.db'}")
    store.import_entries(small_entries, "seed", action="seed")
    return store


@pytest.fixture
def accounts(store) -> Accounts:
    return Accounts(store.engine)


def audit(accounts: Accounts, n: int = 1) -> list[tuple[str, str, str, str]]:
    """The newest n audit lines, newest first."""
    return [(r.username, r.action, r.target, r.detail) for r in accounts.audit_log(limit=n)]


def publisher(store: KnowledgeStore, tmp_path, embedder) -> Publisher:
    settings = replace(Settings.from_env(), index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")
    return Publisher(store, settings, embedder=embedder)


# ---------------------------------------------------------------------------------------------- entries
def test_add_edit_retire_reactivate_and_restore_an_entry(store, accounts):
    events = Events(store.engine)
    for text in ("doi anh vneid the nao", "thay anh can cuoc dien tu"):
        events.record_question("declined", text)
    asked = [q.id for q in events.unanswered()]
    changes = EntryChanges(store, accounts, AUTHOR, events)

    created = changes.create(RAW, "mục mới", resolves=asked)
    assert created.revision == 1 and events.unanswered() == []
    assert audit(accounts) == [(AUTHOR, "create", "vneid-doi-anh", "từ 2 câu hỏi chưa trả lời")]
    assert store.history("vneid-doi-anh")[0].comment == "mục mới"  # the comment is the revision's, not the log's

    edited = changes.edit({**RAW, "answer": "Câu trả lời mới."}, 1, "sửa")
    assert edited.revision == 2 and audit(accounts) == [(AUTHOR, "edit", "vneid-doi-anh", "bản 2")]
    with pytest.raises(Conflict):
        changes.edit({**RAW, "answer": "Bản cũ hơn."}, 1)
    assert changes.retire("vneid-doi-anh", 2).status == "retired"
    assert audit(accounts) == [(AUTHOR, "retire", "vneid-doi-anh", "bản 3")]

    again = changes.reactivate("vneid-doi-anh", 3)
    assert again.status == "active" and again.entry.answer == "Câu trả lời mới."
    assert audit(accounts) == [(AUTHOR, "restore", "vneid-doi-anh", "dùng lại (bản 2 → bản 4)")]
    restored = changes.restore("vneid-doi-anh", 1)
    assert restored.revision == 5 and restored.entry.answer == RAW["answer"]
    assert audit(accounts) == [(AUTHOR, "restore", "vneid-doi-anh", "bản 1 → bản 5")]
    with pytest.raises(NotFound):
        changes.reactivate("khong-co-muc-nay")


def test_nothing_saved_nothing_logged_when_the_store_refuses(store, accounts):
    changes = EntryChanges(store, accounts, AUTHOR)
    with pytest.raises(ValidationFailed):
        changes.create({**RAW, "source": "không phải link"})
    changes.create(RAW)
    with pytest.raises(Conflict):
        changes.create(RAW)
    assert [r.action for r in accounts.audit_log()] == ["create"]
    with pytest.raises(ValueError, match="question log"):
        EntryChanges(store, accounts, AUTHOR).create({**RAW, "id": "vneid-khac"}, resolves=[1])


def test_an_import_is_one_audit_line_with_its_counts(store, accounts, small_entries):
    changed = replace(small_entries[0], answer="Đã đổi.")
    new = make_entry("vneid-moi", "Mục mới", ["mot", "hai", "ba"])
    report = EntryChanges(store, accounts, "cli:root").import_entries([changed, new, *small_entries[1:]], "a.yml")
    assert (report["created"], report["updated"]) == (["vneid-moi"], [changed.id])
    assert audit(accounts) == [("cli:root", "import", "a.yml", f"1 mục mới, 1 mục sửa, {len(small_entries) - 1} "
                                                                "không đổi")]


# ---------------------------------------------------------------------------------------------- releases
def test_publish_and_wait_then_in_the_background(store, accounts, tmp_path, fake_embedder):
    releases = Releases(store, publisher(store, tmp_path, fake_embedder), accounts, AUTHOR)
    first = releases.publish_and_wait(progress_bar=False)
    assert first.status == "live" and store.live_release().id == first.id
    assert audit(accounts) == [(AUTHOR, "publish", f"bản #{first.id}", f"{first.entries} mục")]
    second = releases.publish()
    assert second.status == "building"
    assert audit(accounts) == [(AUTHOR, "publish", f"bản #{second.id}", f"{second.entries} mục")]
    releases.publisher.wait(60)
    assert store.live_release().id == second.id


class BrokenEmbedder:
    name = "broken"

    def encode_queries(self, texts, progress=False):
        raise FileNotFoundError("no model at /nonexistent/model")

    encode_passages = encode_queries


def test_a_failed_publish_says_why_in_the_audit_log(store, accounts, tmp_path):
    failed = Releases(store, publisher(store, tmp_path, BrokenEmbedder()), accounts, AUTHOR).publish_and_wait()
    assert failed.status == "failed"
    (line,) = audit(accounts)
    assert line[:3] == (AUTHOR, "publish", f"bản #{failed.id}") and "không thành công: no model" in line[3]


def test_roll_back_to_a_release_then_publish_it(store, accounts, tmp_path, fake_embedder):
    releases = Releases(store, publisher(store, tmp_path, fake_embedder), accounts, AUTHOR)
    first = releases.publish_and_wait(progress_bar=False)
    EntryChanges(store, accounts, AUTHOR).create(RAW)
    heard = []
    rolled = releases.roll_back(first.id, WAIT, announce=heard.append)
    assert heard == [{"restored": [], "retired": ["vneid-doi-anh"]}]
    assert rolled.release.status == "live" and "vneid-doi-anh" not in store.live_release().snapshot
    assert audit(accounts) == [(AUTHOR, "rollback", f"bản #{first.id}",
                                f"khôi phục 0, ngừng 1 mục; xuất bản thành bản #{rolled.release.id}")]

    EntryChanges(store, accounts, AUTHOR).reactivate("vneid-doi-anh")
    assert releases.roll_back(first.id).release is None
    assert audit(accounts)[0][3] == "khôi phục 0, ngừng 1 mục; chưa xuất bản"
    with pytest.raises(NotFound):
        releases.roll_back(999, BACKGROUND)
    assert audit(accounts)[0][1] == "rollback" and len(accounts.audit_log()) == 5


def test_roll_back_while_a_build_runs(store, accounts, tmp_path, fake_embedder, monkeypatch):
    releases = Releases(store, publisher(store, tmp_path, fake_embedder), accounts, AUTHOR)
    first = releases.publish_and_wait(progress_bar=False)
    EntryChanges(store, accounts, AUTHOR).create(RAW)
    logged = len(accounts.audit_log())
    monkeypatch.setattr(releases.publisher, "_progress", replace(releases.publisher.progress, state="building"))
    with pytest.raises(Busy):  # a build is running here: nothing is rolled back
        releases.roll_back(first.id, BACKGROUND)
    assert store.get("vneid-doi-anh").status == "active" and len(accounts.audit_log()) == logged
    monkeypatch.undo()

    def busy(author):
        raise Busy("another process")

    monkeypatch.setattr(releases.publisher, "publish", busy)
    rolled = releases.roll_back(first.id, BACKGROUND)  # rolled back, but someone started publishing meanwhile
    assert rolled.busy and store.get("vneid-doi-anh").status == "retired"
    assert audit(accounts)[0][3] == "khôi phục 0, ngừng 1 mục; chưa xuất bản (đang bận)"


# ---------------------------------------------------------------------------------------------- accounts
def test_users_are_added_disabled_and_enabled(accounts):
    user = add_user(accounts, accounts, "cli:root", "can-bo", "mot-mat-khau-dai", "editor")
    assert user.role == "editor" and audit(accounts) == [("cli:root", "user", "can-bo", "editor")]
    with pytest.raises(ValueError):
        add_user(accounts, accounts, "cli:root", "ngan", "ngan", "editor")
    token, _ = accounts.start_session(accounts.authenticate("can-bo", "mot-mat-khau-dai"))
    assert set_disabled(accounts, accounts, AUTHOR, "can-bo", True, "10.0.0.7").disabled
    assert accounts.session(token) is None
    assert audit(accounts) == [(AUTHOR, "user_disable", "can-bo", "10.0.0.7")]
    set_disabled(accounts, accounts, "cli:root", "can-bo", False)
    assert audit(accounts) == [("cli:root", "user_enable", "can-bo", "")]
    with pytest.raises(KeyError):
        set_disabled(accounts, accounts, AUTHOR, "khong-ai", True)
    assert len(accounts.audit_log()) == 3


def test_sign_in_and_out(accounts):
    accounts.add_user("can-bo", "mot-mat-khau-dai", "editor")
    assert sign_in(accounts, accounts, "can-bo", "sai", "10.0.0.7") is None
    assert sign_in(accounts, accounts, "0912345678", "sai", "10.0.0.7") is None  # a phone number in the name box
    assert sign_in(accounts, accounts, "", "sai", "10.0.0.7") is None
    token, session = sign_in(accounts, accounts, "can-bo", "mot-mat-khau-dai", "10.0.0.8")
    assert accounts.session(token).user.username == "can-bo" == session.user.username
    sign_out(accounts, accounts, token, "can-bo")
    assert accounts.session(token) is None
    assert audit(accounts, 5) == [("can-bo", "logout", "", ""), ("can-bo", "login", "10.0.0.8", ""),
                                  ("(trống)", "login_failed", "10.0.0.7", ""),
                                  ("[số điện thoại]", "login_failed", "10.0.0.7", ""),
                                  ("can-bo", "login_failed", "10.0.0.7", "")]


# ---------------------------------------------------------------------------------------------- tickets
class FakeNotifier:
    """Records what would reach the resident; `delivery` is what each send reports."""

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self.sent: list[tuple[str, str]] = []

    async def resident(self, sender_id: str, text: str) -> Delivery:
        self.sent.append((sender_id, text))
        return self.delivery


@pytest.fixture
def tickets(store) -> Tickets:
    return Tickets(store.engine)


def test_a_ticket_is_answered_then_closed(tickets, accounts):
    ticket = tickets.create("tg-4301", "telegram", "Phường Hoàn Kiếm", "vneid", [("resident", "cho gap can bo")])
    notifier = FakeNotifier(Delivery(True))
    desk = TicketDesk(tickets, accounts, notifier, AUTHOR)

    answered = desk.answer(ticket.code, "Bạn mang căn cước ra công an phường nhé.")
    assert answered.outcome == SENT and notifier.sent[-1][0] == "tg-4301"
    assert ticket.code in notifier.sent[-1][1] and "căn cước" in notifier.sent[-1][1]
    assert all(m.delivered for m in tickets.messages(ticket.id) if m.to_resident)
    assert audit(accounts) == [(AUTHOR, "ticket_reply", ticket.code, f"{len(answered.message.text)} ký tự; sent")]

    closed = desk.close(ticket.code, "Đã hướng dẫn làm lại căn cước.")
    assert closed.ticket.status == "closed" and closed.message.text == notifier.sent[-1][1]
    assert audit(accounts) == [(AUTHOR, "ticket_close", ticket.code, "Đã hướng dẫn làm lại căn cước.")]
    with pytest.raises(TicketClosed):
        desk.answer(ticket.code, "Thêm một câu.")
    assert len(notifier.sent) == 2 and len(accounts.audit_log()) == 2


@pytest.mark.parametrize("delivery, outcome", [(Delivery(False, waits_in_inbox=True), INBOX),
                                               (Delivery(False, detail="Telegram không nhận tin"), NOT_SENT)])
def test_a_reply_not_sent_stays_undelivered(tickets, accounts, delivery, outcome):
    ticket = tickets.create("web-00112233445566778899aabb", "web", "", "", [])
    answered = TicketDesk(tickets, accounts, FakeNotifier(delivery), AUTHOR).answer(ticket.code, "Chào bạn.")
    assert answered.outcome == outcome and not any(m.delivered for m in tickets.messages(ticket.id))
    assert audit(accounts)[0][1:] == ("ticket_reply", ticket.code, f"{len(answered.message.text)} ký tự; {outcome}")


def test_the_notifier_runs_through_the_runner_given(tickets, accounts):
    ticket = tickets.create("tg-4302", "telegram", "", "", [])
    ran = []

    def runner(fn, *args):
        ran.append(args)
        return Delivery(True)

    TicketDesk(tickets, accounts, FakeNotifier(Delivery(False)), AUTHOR, run=runner).close(ticket.code, "Xong.")
    assert ran[0][0] == "tg-4302" and ticket.code in ran[0][1]
    assert all(m.delivered for m in tickets.messages(ticket.id) if m.to_resident)
