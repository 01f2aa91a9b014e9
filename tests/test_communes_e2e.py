"""Issue 11's acceptance path on the Telegram and Zalo fakes, typed from start to end (no button is pressed): a question
with steps, "tiep" to start its guide, "tiep" on to step 3, "ket o buoc 3", a person asked for, and an address from
before 7/2025 ("xã …, huyện …, tỉnh …") that bot/places converts to its 2025 commune; the ticket's notice reaches the
Telegram group or the Zalo users the admin's use case mapped to that commune, not its province's fallback nor the
default. Then a commune without a team of its own: its province's fallback is told.

One bot (Rasa + action server, tools.launch.Bot) with the REST door (the Telegram relay's), the Zalo channel against
the fake OA API, and Telegram notices through the fake Bot API; the mappings are made on the bot's own store through
bot/usecases/teams.py, as the admin page makes them."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml

from bot.handoff.teams import COMMUNE, PROVINCE
from bot.store.accounts import Accounts
from bot.store.teams import TeamContacts
from bot.store.tickets import Tickets
from bot.usecases.teams import TeamForm, save_team
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo, FakeZaloServer, ZaloWebhook
from tests.telegram_support import Relay, token
from tests.test_zalo_e2e import APP_ID, APP_SECRET, CREDENTIALS, OA_SECRET
from tools.launch import Bot

pytestmark = pytest.mark.e2e

TOKEN = token(45)
DEFAULT_GROUP, HAI_PHONG_GROUP, TRUONG_TAN_GROUP = -1004500, -1004501, -1004502
BINH_GIANG_TEAM = ("8800000000000000001", "8800000000000000002")  # Zalo users of Xã Bình Giang's team
TRUONG_TAN = "Xã Trường Tân, Thành phố Hải Phòng"  # since 7/2025; the old Xã Nhật Quang, huyện Gia Lộc, Hải Dương
BINH_GIANG = "Xã Bình Giang, Tỉnh Ninh Bình"  # since 7/2025; the old Xã Bồ Đề, huyện Bình Lục, tỉnh Hà Nam
PHU_THAI = "Xã Phú Thái, Thành phố Hải Phòng"  # the old Xã Kim Liên, huyện Kim Thành, Hải Dương: no team of its own
QUESTION = "cach kich hoat tai khoan dinh danh dien tu tren vneid sau khi duoc duyet"
CODE_RE = re.compile(r"HT-[A-Z]{2}\d{3}")
CONTACTS = {
    "people": [{"name": "Tổ công nghệ số cộng đồng", "how": "hỏi trưởng thôn"}],
    "office_hours": "giờ hành chính",
    "notify": {"telegram_chat": str(DEFAULT_GROUP)},
    "hotlines": {"default": "Tổng đài hỗ trợ VNeID 1900 0368"},
}


@dataclass
class Site:
    bot: Bot
    telegram: FakeTelegram
    relay: Relay
    zalo: FakeZalo
    hook: ZaloWebhook
    tickets: Tickets


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    work = tmp_path_factory.mktemp("communes")
    contacts, credentials = work / "contacts.yml", work / "credentials.yml"
    contacts.write_text(yaml.safe_dump(CONTACTS, allow_unicode=True), encoding="utf-8")
    credentials.write_text("bot.rasa_side.channels.relay.RelayInput:\n" + CREDENTIALS, encoding="utf-8")  # + Telegram
    zalo = FakeZalo(app_id=APP_ID, app_secret=APP_SECRET, access_token="access-0", refresh_token="refresh-0")
    with FakeTelegram() as telegram:
        server = FakeZaloServer(zalo).start()
        env = {"ZALO_APP_ID": APP_ID, "ZALO_OA_SECRET_KEY": OA_SECRET, "ZALO_APP_SECRET": APP_SECRET,
               "ZALO_ACCESS_TOKEN": "access-0", "ZALO_REFRESH_TOKEN": "refresh-0",
               "ZALO_TOKEN_FILE": str(work / "tokens.json"), "ZALO_API_BASE_URL": server.url,
               "ZALO_OAUTH_BASE_URL": server.url, "TELEGRAM_BOT_TOKEN": TOKEN,
               "TELEGRAM_API_BASE_URL": telegram.url, "BOT_CONTACTS_FILE": str(contacts)}
        bot = Bot(work, credentials=credentials, env=env)
        relay = Relay(telegram, TOKEN, f"{bot.url}/webhooks/rest/webhook", work / "relay.log")
        for group in (DEFAULT_GROUP, HAI_PHONG_GROUP, TRUONG_TAN_GROUP):
            telegram.send_text(TOKEN, group, "nhóm tổ công nghệ số", chat_type="supergroup", from_id=9)
        try:
            bot.start()
            bot.say("quen mat khau vneid", "warmup")  # the first search loads the model: not the relay's turn
            relay.start()
            tickets = Tickets.open(bot.env["BOT_STORE_URL"])
            map_teams(TeamContacts(tickets.engine), Accounts(tickets.engine))
            yield Site(bot, telegram, relay, zalo, ZaloWebhook(f"{bot.url}/webhooks/zalo/webhook", APP_ID, OA_SECRET),
                       tickets)
        finally:
            relay.stop()
            bot.stop()
            server.stop()


def map_teams(teams: TeamContacts, accounts: Accounts) -> None:
    """What the office does on the admin page: the communes typed by name, a province's fallback."""
    for form in (
        TeamForm(COMMUNE, "xa truong tan hai phong", telegram_chat=str(TRUONG_TAN_GROUP),
                 people="Tổ công nghệ số xã Trường Tân: gọi chị Hạnh, tổ trưởng"),
        TeamForm(PROVINCE, "Hải Phòng", telegram_chat=str(HAI_PHONG_GROUP)),
        TeamForm(COMMUNE, "Bình Giang, Ninh Bình", zalo_users="\n".join(BINH_GIANG_TEAM),
                 people="Tổ công nghệ số xã Bình Giang: nhắn anh Tú qua Zalo", office_hours="sáng thứ Hai đến thứ Bảy"),
    ):
        save_team(teams, accounts, form, "van-phong-cds")


def joined(messages: list) -> str:
    return "\n".join(m["text"] if isinstance(m, dict) else m.text for m in messages)


def notices(site: Site, chat: int, code: str) -> list[str]:
    return [m["text"] for m in site.telegram.sent_messages(TOKEN, chat) if code in m["text"]]


def test_telegram_typed_guide_stuck_at_step_3_then_a_person_from_an_old_address(site):
    chat, ask = 4501, site.relay.ask
    answer = joined(ask(chat, QUESTION))
    assert "1. " in answer and "3. " in answer  # an answer with steps
    assert "Bước 1/" in joined(ask(chat, "tiep"))
    assert "Bước 2/" in joined(ask(chat, "tiep"))
    assert "Bước 3/" in joined(ask(chat, "tiep"))
    stuck = joined(ask(chat, "ket o buoc 3"))
    assert "Bước 3/" in stuck and "người ta hay gặp" in stuck and "OTP" in stuck, stuck
    assert "xã/phường nào" in joined(ask(chat, "cho toi gap can bo ho tro"))

    opened = joined(ask(chat, "xa nhat quang huyen gia loc tinh hai duong"))
    code = CODE_RE.search(opened).group(0)
    assert "Xã Trường Tân" in opened and "gọi chị Hạnh, tổ trưởng" in opened
    [notice] = site.telegram.wait_for(TOKEN, lambda f: notices(site, TRUONG_TAN_GROUP, code))
    assert TRUONG_TAN in notice and "Telegram" in notice
    time.sleep(1.0)  # a notice to the wrong group would have left by now
    assert notices(site, HAI_PHONG_GROUP, code) == [] and notices(site, DEFAULT_GROUP, code) == []
    ticket = site.tickets.get(code)
    assert (ticket.commune, ticket.sender_id, ticket.topic) == (TRUONG_TAN, f"tg-{chat}", "vneid")
    assert "ket o buoc 3" in " ".join(m.text for m in site.tickets.messages(ticket.id))  # the staff see the story


def test_zalo_typed_guide_stuck_at_step_3_then_a_person_from_an_old_address(site):
    user = "3501"

    def say(text: str) -> str:
        before = len(site.zalo.messages_to(user))
        assert site.hook.post(site.hook.text(user, text)).status_code == 200
        return joined(site.zalo.wait_for(user, before + 1, timeout=60, settle=1.0)[before:])

    assert "1. " in say(QUESTION)
    assert "Bước 1/" in say("tiếp")
    assert "Bước 2/" in say("tiep")
    assert "Bước 3/" in say("tiep di")
    stuck = say("bi ket o buoc 3 roi")
    assert "Bước 3/" in stuck and "người ta hay gặp" in stuck and "OTP" in stuck, stuck
    assert "xã/phường nào" in say("toi muon gap nguoi ho tro")

    opened = say("xã Bồ Đề, huyện Bình Lục, tỉnh Hà Nam")
    code = CODE_RE.search(opened).group(0)
    assert "Xã Bình Giang" in opened and "nhắn anh Tú qua Zalo" in opened and "sáng thứ Hai đến thứ Bảy" in opened
    for member in BINH_GIANG_TEAM:
        [notice] = site.zalo.wait_for(member, 1, timeout=30)
        assert code in notice.text and BINH_GIANG in notice.text and "Zalo" in notice.text
    assert [m for g in (DEFAULT_GROUP, HAI_PHONG_GROUP, TRUONG_TAN_GROUP) for m in notices(site, g, code)] == []
    assert site.tickets.get(code).commune == BINH_GIANG


def test_a_commune_without_its_own_team_reaches_its_provinces_fallback(site):
    chat, ask = 4502, site.relay.ask
    assert "xã/phường nào" in joined(ask(chat, "cho bac gap can bo xa"))
    opened = joined(ask(chat, "xã Kim Liên, huyện Kim Thành, tỉnh Hải Dương"))
    code = CODE_RE.search(opened).group(0)
    assert "Xã Phú Thái" in opened
    site.telegram.wait_for(TOKEN, lambda f: notices(site, HAI_PHONG_GROUP, code))
    assert notices(site, TRUONG_TAN_GROUP, code) == [] and notices(site, DEFAULT_GROUP, code) == []
    assert site.tickets.get(code).commune == PHU_THAI
