"""Pinned topic menus in the store (bot/store/menus.py) and the use case that pins them (bot/usecases/menus.py), on a
SQLite file and a real PostgreSQL database: pins keep their order and replace each other, the question log's answers
are counted per entry, the ids must be active entries of the topic, and each pin writes one audit line. The store of
the previous revision gains the table with its rows kept."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.localtime import utcnow
from bot.replies import topic_menu
from bot.store import schema, schema_version
from bot.store.accounts import Accounts
from bot.store.knowledge import KnowledgeStore
from bot.store.menus import MenuPins
from bot.store.question_log import Events
from bot.usecases.menus import MAX_PINS, PinRefused, pin_menu
from tests.conftest import make_entry
from tests.test_store_migrations import add_entry, at_revision, entry_ids, tables

AUTHOR = "ngoc-anh"


@pytest.fixture
def store(store_url, small_entries) -> KnowledgeStore:
    store = KnowledgeStore.open(store_url)
    store.import_entries([*small_entries, make_entry("vneid-cap-lai", "Cấp lại căn cước", ["mất căn cước"]),
                          make_entry("vneid-doi-so", "Đổi số điện thoại VNeID", ["đổi số điện thoại vneid"]),
                          make_entry("vneid-cu", "Mục cũ", ["mục cũ vneid"])], "seed", action="seed")
    store.retire("vneid-cu", "seed", 1)
    return store


def audit(store: KnowledgeStore, n: int = 1) -> list[tuple[str, str, str, str]]:
    return [(r.username, r.action, r.target, r.detail) for r in Accounts(store.engine).audit_log(limit=n)]


def test_pins_keep_their_order_per_topic_and_a_new_set_replaces_the_old(store_url):
    pins = MenuPins.open(store_url)
    assert pins.pins("vneid") == [] and pins.all_pins() == {} and pins.pinned_by("vneid") is None
    pins.set_pins("vneid", ["vneid-quen-mat-khau", "vneid-kich-hoat"], AUTHOR)
    pins.set_pins("hoa-don", ["hoa-don-tra-cuu"], "van-ba")
    assert pins.pins("vneid") == ["vneid-quen-mat-khau", "vneid-kich-hoat"]
    who, when = pins.pinned_by("vneid")
    assert who == AUTHOR and abs(utcnow() - when) < dt.timedelta(minutes=1)
    pins.set_pins("vneid", ["vneid-kich-hoat"], "van-ba")
    assert pins.all_pins() == {"vneid": ["vneid-kich-hoat"], "hoa-don": ["hoa-don-tra-cuu"]}
    pins.set_pins("vneid", [], AUTHOR)
    assert pins.all_pins() == {"hoa-don": ["hoa-don-tra-cuu"]}


def test_answers_of_the_last_30_days_are_counted_per_entry(store_url):
    events = Events.open(store_url)
    for entry_id in ("vneid-kich-hoat", "vneid-kich-hoat", "hoa-don-tra-cuu"):
        events.record_question("answered", "", entry_id=entry_id)
    events.record_question("answered", "", entry_id="hoa-don-tra-cuu", at=utcnow() - dt.timedelta(days=31))
    events.record_question("declined", "vneid bị gì đó")
    events.record_question("low_confidence", "kich hoat", entry_id="vneid-kich-hoat")
    assert MenuPins.open(store_url).answered_counts() == {"vneid-kich-hoat": 2, "hoa-don-tra-cuu": 1}


def test_pinning_saves_the_order_and_writes_one_audit_line(store):
    accounts = Accounts(store.engine)
    assert pin_menu(store, accounts, "vneid", ["vneid-cap-lai", " vneid-kich-hoat ", ""], AUTHOR) == [
        "vneid-cap-lai", "vneid-kich-hoat"]
    assert MenuPins(store.engine).pins("vneid") == ["vneid-cap-lai", "vneid-kich-hoat"]
    assert audit(store) == [(AUTHOR, "menu_pin", "vneid", "ghim: 1. vneid-cap-lai, 2. vneid-kich-hoat")]
    pin_menu(store, accounts, "vneid", [], AUTHOR)
    assert MenuPins(store.engine).pins("vneid") == []
    assert audit(store) == [(AUTHOR, "menu_pin", "vneid", "bỏ ghim")]


@pytest.mark.parametrize(("topic", "ids", "message"), [
    ("vneid", ["hoa-don-tra-cuu"], "Mục “hoa-don-tra-cuu” thuộc chủ đề Hóa đơn điện tử, không thuộc chủ đề VNeID"),
    ("vneid", ["vneid-khong-co"], "Không có mục “vneid-khong-co”"),
    ("vneid", ["vneid-cu"], "Mục “vneid-cu” đang ngừng dùng"),
    ("vneid", ["vneid-kich-hoat", "vneid-kich-hoat"], "Mỗi mục chỉ chọn một lần"),
    ("vneid", ["vneid-kich-hoat", "vneid-quen-mat-khau", "vneid-cap-lai", "vneid-doi-so", "vneid-cu"],
     f"tối đa {MAX_PINS} mục"),
    ("khong-co", [], "Không có chủ đề “khong-co”"),
])
def test_ids_outside_the_topic_are_refused_and_nothing_is_saved(store, topic, ids, message):
    accounts = Accounts(store.engine)
    pin_menu(store, accounts, "vneid", ["vneid-kich-hoat"], AUTHOR)
    with pytest.raises(PinRefused, match=message):
        pin_menu(store, accounts, topic, ids, "van-ba")
    assert MenuPins(store.engine).all_pins() == {"vneid": ["vneid-kich-hoat"]}
    assert audit(store)[0][0] == AUTHOR


def test_no_more_pins_than_the_menu_has_buttons():
    assert MAX_PINS == topic_menu.MENU_SIZE


def test_a_store_of_the_previous_revision_keeps_its_rows_and_gains_the_pins(store_url):
    old = at_revision(store_url, "0002")
    add_entry(old)
    assert "menu_pins" not in tables(old)
    engine = schema.engine_for(store_url)
    assert schema_version.current(engine) == schema_version.head()
    assert entry_ids(engine) == ["vneid-1"]
    MenuPins(engine).set_pins("vneid", ["vneid-1"], AUTHOR)
    assert MenuPins(engine).pins("vneid") == ["vneid-1"]
    old.dispose()
