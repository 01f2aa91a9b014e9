"""The handoff and ticket actions with a fresh tracker each time, on a temporary store, with the team's Telegram
group on the fake Bot API."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff as handoff_actions, services
from actions.handoff import ActionAskCommune, ActionHandoff, ValidateHandoffForm
from actions.tickets import ActionLeaveTicket, ActionRelayToStaff
from bot.core.settings import Settings, TelegramSettings
from bot.handoff.directory import UNKNOWN
from bot.handoff.replies import LEAVE_BUTTON, ambiguous_commune
from bot.handoff.teams import COMMUNE, PROVINCE
from bot.handoff.tickets import BUTTON_PRESSED, NO_TICKET, TOO_MANY_TICKETS
from bot.replies.safety import SECRET_WARNING
from bot.store.accounts import Accounts
from bot.store.teams import TeamContacts
from bot.store.tickets import Tickets
from bot.usecases.teams import TeamForm, save_team
from tests.fakes.telegram_api import FakeTelegram
from tests.telegram_support import token

TOKEN = token(42)
GROUP = -1004200
HK = "Phường Hoàn Kiếm, Thành phố Hà Nội"
CONTACTS = {
    "people": [{"name": "Tổ công nghệ số cộng đồng", "how": "hỏi trưởng thôn"},
               {"name": "Công an xã/phường", "how": "VNeID mức 2"}],
    "office_hours": "giờ hành chính",
    "hotlines": {"vneid": "Tổng đài 1900 0368", "dich-vu-cong": "cuối trang https://dichvucong.gov.vn",
                 "default": "Tổng đài 1900 0368"},
    "communes": [
        {"name": "Phường Hoàn Kiếm", "province": "Thành phố Hà Nội", "office_hours": "7h30–17h, thứ Hai–thứ Sáu",
         "people": [{"name": "Tổ CNS phường Hoàn Kiếm", "how": "gọi chị Lan"}],
         "notify": {"telegram_chat": str(GROUP)}},
        {"name": "Xã Tân Lập", "province": "Tỉnh Đồng Nai"},
        {"name": "Phường Tân Lập", "province": "Tỉnh Thái Nguyên"},
    ],
}


@pytest.fixture
def telegram():
    with FakeTelegram() as fake:
        fake.add_bot(TOKEN)
        fake.send_text(TOKEN, GROUP, "nhóm tổ công nghệ số", chat_type="supergroup")
        yield fake


@pytest.fixture
def site(tmp_path, monkeypatch, telegram):
    contacts = tmp_path / "contacts.yml"
    contacts.write_text(yaml.safe_dump(CONTACTS, allow_unicode=True), encoding="utf-8")
    settings = replace(Settings.from_env(), store_url=f"sqlite:///{tmp_path / 'store.db'}", contacts_file=contacts,
                       telegram=TelegramSettings(token=TOKEN, api_base_url=telegram.url), admin_url="https://qt.example.vn")
    monkeypatch.setattr(services, "settings", lambda: settings)
    return Tickets.open(settings.store_url)


def tracker(text="", intent="request_human", slots=None, events=None, sender="tg-4201") -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return Tracker(sender, slots or {}, latest, events or [], False, None, {}, "action_listen")


async def run(action, t: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return events, dispatcher.messages


async def notices_sent() -> None:
    await asyncio.gather(*list(handoff_actions._background))


HISTORY = [
    {"event": "user", "text": "quen mat khau vneid, sdt 0912345678", "input_channel": "rest"},
    {"event": "bot", "text": "Bạn lấy lại mật khẩu ngay trên ứng dụng: ..."},
    {"event": "user", "text": "lam roi van khong duoc, cho gap can bo", "input_channel": "rest"},
    {"event": "bot", "text": "Để chuyển bạn tới cán bộ hỗ trợ ... xã/phường nào?"},
    {"event": "user", "text": "phuong hoan kiem", "input_channel": "rest"},
]


async def test_asking_for_a_person_opens_a_ticket_and_tells_the_team(site, telegram):
    t = tracker(slots={"commune": HK, "last_entry": "vneid-quen-mat-khau"}, events=HISTORY)
    events, messages = await run(ActionHandoff(), t)
    await notices_sent()
    assert events == [{"event": "slot", "timestamp": None, "name": "ticket_open", "value": True}]
    ticket = site.open_for("tg-4201")
    assert ticket.channel == "telegram" and ticket.commune == HK and ticket.topic == "vneid"
    reply = messages[0]
    for part in (ticket.code, "Phường Hoàn Kiếm", "7h30–17h", "Tổ CNS phường Hoàn Kiếm: gọi chị Lan", "1900 0368"):
        assert part in reply["text"]
    assert reply["buttons"] == [LEAVE_BUTTON]
    assert messages[1]["custom"] == {"ticket": {"code": ticket.code, "status": "open"}}
    kept = site.messages(ticket.id)
    assert [m.kind for m in kept] == ["resident", "bot", "resident", "bot", "resident"]
    assert "0912345678" not in " ".join(m.text for m in kept)
    [notice] = telegram.sent_messages(TOKEN, GROUP)
    assert ticket.code in notice["text"] and HK in notice["text"] and "cho gap can bo" in notice["text"]
    assert notice["text"].endswith(f"https://qt.example.vn/tickets/{ticket.code}")

    # asking again while it is open: the same ticket, no second notice
    events, messages = await run(ActionHandoff(), tracker(slots={"commune": HK}))
    await notices_sent()
    assert ticket.code in messages[0]["text"] and "vẫn đang mở" in messages[0]["text"]
    assert len(site.summaries()) == 1 and len(telegram.sent_messages(TOKEN, GROUP)) == 1
    assert site.messages(ticket.id)[-1].kind == "system"


async def test_unknown_commune_gets_the_default_contacts(site, telegram):
    _, messages = await run(ActionHandoff(), tracker(slots={"commune": UNKNOWN, "last_entry": "dich-vu-cong-x"},
                                                     sender="web-0123456789abcdef01234567"))
    await notices_sent()
    text = messages[0]["text"]
    assert "Tổ công nghệ số cộng đồng" in text and "Công an xã/phường" in text and "dichvucong.gov.vn" in text
    ticket = site.open_for("web-0123456789abcdef01234567")
    assert ticket.commune == "" and ticket.channel == "webchat"
    assert telegram.sent_messages(TOKEN, GROUP) == []  # no default target configured: nobody to tell


async def test_a_fourth_ticket_in_a_day_gets_a_polite_reply_with_the_contacts_and_no_notice(site, telegram):
    for _ in range(3):
        await run(ActionHandoff(), tracker(slots={"commune": HK}))
        site.close(site.open_for("tg-4201").code, "can-bo", "đã gọi lại", "")
    await notices_sent()
    events, messages = await run(ActionHandoff(), tracker(slots={"commune": HK}))
    await notices_sent()
    assert events == [] and messages[0]["text"].startswith(TOO_MANY_TICKETS)
    assert "Tổ CNS phường Hoàn Kiếm: gọi chị Lan" in messages[0]["text"]  # the contacts still help
    assert site.open_for("tg-4201") is None and len(telegram.sent_messages(TOKEN, GROUP)) == 3
    _, messages = await run(ActionHandoff(), tracker(slots={"commune": HK}, sender="tg-4202"))
    assert site.open_for("tg-4202") is not None  # another resident is not affected


async def test_without_a_store_the_resident_still_gets_the_contacts(site, monkeypatch):
    broken = replace(services.settings(), store_url="sqlite:////dev/null/cannot/store.db")
    monkeypatch.setattr(services, "settings", lambda: broken)
    events, messages = await run(ActionHandoff(), tracker(slots={"commune": HK}))
    assert events == [] and "Tổ CNS phường Hoàn Kiếm" in messages[0]["text"]


async def test_the_resident_writes_to_the_staff_and_hears_once_per_staff_reply(site):
    await run(ActionHandoff(), tracker(slots={"commune": HK}))
    ticket = site.open_for("tg-4201")
    relay = ActionRelayToStaff()
    events, messages = await run(relay, tracker("ma otp la [mã số]", "share_secret", {"ticket_open": True}))
    assert events == [] and messages[0]["text"] == SECRET_WARNING  # even to staff, an OTP is never to be shared
    assert ticket.code in messages[1]["text"] and messages[1]["buttons"] == [LEAVE_BUTTON]
    assert messages[-1]["custom"] == {"ticket": {"code": ticket.code, "status": "relayed"}}
    _, messages = await run(relay, tracker("con nua", "ask_question", {"ticket_open": True}))
    assert [m.get("text") for m in messages] == [None]  # quiet: only the marker
    _, messages = await run(relay, tracker('/feedback{"helpful":"yes"}', "feedback", {"ticket_open": True}))
    assert [m.get("text") for m in messages] == [None]
    site.reply(ticket.code, "lan", "Chào bác")
    _, messages = await run(relay, tracker("da mo roi", "ask_question", {"ticket_open": True}))
    assert ticket.code in messages[0]["text"]
    texts = [m.text for m in site.messages(ticket.id) if m.kind == "resident"]
    assert texts == ["ma otp la [mã số]", "con nua", BUTTON_PRESSED, "da mo roi"]


@pytest.mark.parametrize("intent, slots, action", [
    ("ask_question", {}, "action_answer_question"),
    ("thank", {"guide_entry": "vneid-kich-hoat"}, "action_guide"),
    ("greet", {}, "action_greet"),
    ("request_human", {}, "handoff_form"),
])
async def test_a_closed_ticket_hands_the_message_back_to_the_bot(site, intent, slots, action):
    await run(ActionHandoff(), tracker(slots={"commune": HK}))
    ticket = site.open_for("tg-4201")
    site.close(ticket.code, "lan", "đã xong", note="x")
    events, messages = await run(ActionRelayToStaff(), tracker("cam on", intent, {"ticket_open": True, **slots}))
    assert messages == []
    assert events == [{"event": "slot", "timestamp": None, "name": "ticket_open", "value": False},
                      {"event": "followup", "timestamp": None, "name": action}]


async def test_going_back_to_the_assistant_keeps_the_ticket_open(site):
    await run(ActionHandoff(), tracker(slots={"commune": HK}))
    ticket = site.open_for("tg-4201")
    back = tracker("quay lai tro ly ao", "nlu_fallback", {"ticket_open": True})
    events, messages = await run(ActionRelayToStaff(), back)
    assert events == [{"event": "slot", "timestamp": None, "name": "ticket_open", "value": False}]
    assert ticket.code in messages[0]["text"] and "vẫn mở" in messages[0]["text"]
    assert site.open_for("tg-4201") == ticket and site.messages(ticket.id)[-1].kind == "system"
    events, messages = await run(ActionLeaveTicket(), tracker("/leave_ticket", "leave_ticket", sender="tg-9"))
    assert messages[0]["text"] == NO_TICKET and events[0]["value"] is False


async def test_the_commune_question_and_its_answer(site):
    validate = ValidateHandoffForm()
    cases = [("phuong hoan kiem", HK), ("Xã Tân Lập Đồng Nai", "Xã Tân Lập, Tỉnh Đồng Nai"), (HK, HK),
             ("không rõ", UNKNOWN), ("tôi không biết", UNKNOWN), ("tan lap", None)]
    for text, expected in cases:
        got = await validate.validate_commune(text, CollectingDispatcher(), tracker(text, "ask_question"), {})
        assert got == {"commune": expected}, text
    asked = [{"event": "bot", "text": ambiguous_commune(())[0]}]
    got = await validate.validate_commune("tan lap", CollectingDispatcher(), tracker("tan lap", events=asked), {})
    assert got == {"commune": UNKNOWN}  # asked about the province once already: the default contacts

    _, messages = await run(ActionAskCommune(), tracker("gap can bo"))
    assert "xã/phường nào" in messages[0]["text"] and len(messages[0]["buttons"]) == 4
    _, messages = await run(ActionAskCommune(), tracker("tan lap", "ask_question", {"requested_slot": "commune"}))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert "tỉnh" in messages[0]["text"] and payloads[-1] == UNKNOWN and len(payloads) <= 6
    assert set(payloads[:2]) == {"Xã Tân Lập, Tỉnh Đồng Nai", "Phường Tân Lập, Tỉnh Thái Nguyên"}


async def test_a_province_then_a_commune_in_two_messages(site):
    validate = ValidateHandoffForm()
    got = await validate.validate_commune("Hà Nội", CollectingDispatcher(), tracker("Hà Nội", "ask_question"), {})
    assert got == {"commune": None}  # asked which commune of Hà Nội
    _, messages = await run(ActionAskCommune(), tracker("Hà Nội", "ask_question", {"requested_slot": "commune"}))
    assert messages[0]["text"].startswith("Bạn ở xã/phường nào của Thành phố Hà Nội")
    history = [{"event": "user", "text": "Hà Nội"}, {"event": "bot", "text": messages[0]["text"]},
               {"event": "user", "text": "ba dinh"}]
    got = await validate.validate_commune("ba dinh", CollectingDispatcher(), tracker("ba dinh", events=history), {})
    assert got == {"commune": "Phường Ba Đình, Thành phố Hà Nội"}


async def test_the_notice_goes_to_the_team_mapped_on_the_admin_page_else_the_provinces(site, telegram):
    """Resolution order at the action: the commune's own team (the store's, before the file's), else its province's
    fallback, else the default. The mappings are made through the use case, as the admin page makes them."""
    teams, accounts = TeamContacts.open(services.settings().store_url), Accounts(site.engine)
    for chat in (-4211, -4212):
        telegram.send_text(TOKEN, chat, "nhóm", chat_type="supergroup")
    save_team(teams, accounts, TeamForm(COMMUNE, "xa yen thuong huyen gia lam", telegram_chat="-4211",
                                        people="Tổ CNS xã Phù Đổng: gọi anh Tuấn"), "can-bo")
    save_team(teams, accounts, TeamForm(PROVINCE, "Hà Nội", telegram_chat="-4212", office_hours="sáng thứ Bảy"),
              "can-bo")
    save_team(teams, accounts, TeamForm(COMMUNE, "phuong hoan kiem", telegram_chat="-4211"), "can-bo")
    routes = [("Xã Phù Đổng, Thành phố Hà Nội", "tg-4221", -4211),
              ("Phường Ba Đình, Thành phố Hà Nội", "tg-4222", -4212),
              (HK, "tg-4223", -4211)]  # Hoàn Kiếm: the store's team comes before the file's group
    for label, sender, chat in routes:
        _, messages = await run(ActionHandoff(), tracker(slots={"commune": label}, sender=sender))
        await notices_sent()
        code = site.open_for(sender).code
        assert [m for m in telegram.sent_messages(TOKEN, chat) if code in m["text"]], label
        assert not [m for m in telegram.sent_messages(TOKEN, GROUP) if code in m["text"]], label
    phu_dong = (await run(ActionHandoff(), tracker(slots={"commune": routes[0][0]}, sender="tg-4224")))[1][0]["text"]
    assert "Tổ CNS xã Phù Đổng: gọi anh Tuấn" in phu_dong and "sáng thứ Bảy" in phu_dong  # hours: the province's
    _, messages = await run(ActionAskCommune(), tracker("gap can bo", sender="tg-4225"))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert "Xã Phù Đổng, Thành phố Hà Nội" in payloads and HK in payloads  # communes with a team of their own


async def test_a_store_that_does_not_answer_leaves_the_files_contacts(site, telegram, monkeypatch):
    def stuck(*_):
        raise TimeoutError

    monkeypatch.setattr(handoff_actions, "current_teams", stuck)
    _, messages = await run(ActionHandoff(), tracker(slots={"commune": HK}))
    await notices_sent()
    assert "Tổ CNS phường Hoàn Kiếm: gọi chị Lan" in messages[0]["text"]
    assert len(telegram.sent_messages(TOKEN, GROUP)) == 1
