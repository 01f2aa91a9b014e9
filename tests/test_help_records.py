"""A team member records "helped a resident with X" in the chat; the record keeps a hash of the code, never the code."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.help_records import ActionRecordHelp
from bot.core.settings import Settings
from bot.store.activity import HelperActivity, member_ref
from bot.team import records as help_records

CODES = ("TCN01", "TCN02")
LOGIN = [{"event": "user", "text": "ma to cong nghe so tcn01"},
         {"event": "slot", "name": "helper_mode", "value": True}]


@pytest.mark.parametrize("text, note", [
    ("ghi nhận: giúp bà Lan kích hoạt VNeID", "giúp bà Lan kích hoạt VNeID"),
    ("Ghi nhan da ho tro ong Tu", "da ho tro ong Tu"),
    ("/ghi_nhan đổi mật khẩu", "đổi mật khẩu"),
    ("báo cáo đã hỗ trợ 2 người dân cài VssID", "2 người dân cài VssID"),
    ("ghi nhận", ""),
    ("giúp bà Lan", "giúp bà Lan"),
])
def test_the_note_is_what_follows_the_cue(text, note):
    assert help_records.note_of(text) == note


def test_the_member_is_the_hash_of_the_code_that_turned_helper_mode_on():
    assert help_records.member_from_events(LOGIN, CODES) == member_ref("TCN01")
    wrong = [{"event": "user", "text": "ma to cong nghe so XX99"},
             {"event": "slot", "name": "helper_mode", "value": True}]
    assert help_records.member_from_events(wrong, CODES) is None  # not a configured code (any more)
    logged_out = [*LOGIN, {"event": "user", "text": "thoat"}, {"event": "slot", "name": "helper_mode", "value": False}]
    assert help_records.member_from_events(logged_out, CODES) is None
    again = [*logged_out, {"event": "user", "text": "/helper TCN02"},
             {"event": "slot", "name": "helper_mode", "value": True}]
    assert help_records.member_from_events(again, CODES) == member_ref("TCN02")


@pytest.fixture
def settings(tmp_path, monkeypatch):
    contacts = tmp_path / "contacts.yml"
    contacts.write_text(yaml.safe_dump({"communes": [{"name": "Xã Tân Lập", "province": "Tỉnh Đồng Nai"}]},
                                       allow_unicode=True), encoding="utf-8")
    s = replace(Settings.from_env(), store_url=f"sqlite:///{tmp_path / 'store.db'}", contacts_file=contacts,
                helper_codes=CODES)
    monkeypatch.setattr(services, "settings", lambda: s)
    return s


async def record(text: str, slots: dict, events: list) -> str:
    dispatcher = CollectingDispatcher()
    latest = {"text": text, "intent": {"name": "record_help", "confidence": 0.9}, "entities": []}
    tracker = Tracker("tg-7", slots, latest, events, False, None, {}, "action_listen")
    await ActionRecordHelp().run(dispatcher, tracker, {})
    return dispatcher.messages[0]["text"]


async def test_a_member_records_a_help_for_the_monthly_report(settings):
    reply = await record("ghi nhận: giúp bà Lan xã Tân Lập kích hoạt VNeID, sdt 0912345678",
                         {"helper_mode": True, "last_entry": "vneid-kich-hoat"}, LOGIN)
    assert "Đã ghi nhận" in reply and "VNeID" in reply and "0912345678" not in reply
    [stored] = HelperActivity.open(settings.store_url).records()
    assert stored.member == member_ref("TCN01") and "TCN01" not in str(stored)
    assert stored.commune == "Xã Tân Lập, Tỉnh Đồng Nai" and stored.topic == "vneid"
    assert stored.entry_id == "vneid-kich-hoat" and "[số điện thoại]" in stored.note


async def test_only_a_known_member_in_helper_mode_can_record(settings):
    assert await record("ghi nhận: giúp bà Lan", {}, []) == help_records.NOT_HELPER
    assert await record("ghi nhận: giúp bà Lan", {"helper_mode": True}, []) == help_records.NO_MEMBER
    assert await record("ghi nhận", {"helper_mode": True}, LOGIN) == help_records.HOW_TO
    assert HelperActivity.open(settings.store_url).records() == []
