"""The "Menu chủ đề" area of the admin page through Starlette's TestClient, on SQLite and a real PostgreSQL database:
each topic's menu as the bot ranks it (pins, the question log's answers, the default order), a publisher pins an
order or clears it with the form's CSRF token, an entry of another topic is refused with a clear message, and an
editor sees the menus but cannot pin."""

from __future__ import annotations

import html
import re

import pytest

from bot.store.menus import MenuPins
from tests.test_admin_web import EDITOR, PUBLISHER, Site, site  # site: the fixture (small_entries, two accounts)

__all__ = ["site"]  # a fixture used by name, not an unused import


def menu_of(page: str, topic: str) -> list[str]:
    """The entry ids the topic's card says the bot offers, in order."""
    card = re.search(rf'<section class="card" id="menu-{topic}".*?</section>', page, re.S)
    assert card, f"no card for {topic}"
    now = re.search(r'<ol class="menu-now">(.*?)</ol>', card.group(0), re.S)
    return re.findall(r'<span class="id">([\w-]+) ·', now.group(1)) if now else []


def pins(site: Site, topic: str = "vneid") -> list[str]:
    return MenuPins(site.store.engine).pins(topic)


def test_the_page_shows_each_topics_menu_from_the_log_and_the_defaults(site):
    person = site.client(EDITOR)
    page = person.get("/menus")
    assert page.status_code == 200 and '<a href="/menus" aria-current="page">Menu chủ đề</a>' in page.text
    # knowledge/menus/topic_tasks.yml puts vneid-kich-hoat before vneid-quen-mat-khau
    assert menu_of(page.text, "vneid") == ["vneid-kich-hoat", "vneid-quen-mat-khau"]
    assert "Thứ tự mặc định" in page.text
    for _ in range(2):
        site.events.record_question("answered", "", entry_id="vneid-quen-mat-khau")
    page = person.get("/menus").text
    assert menu_of(page, "vneid") == ["vneid-quen-mat-khau", "vneid-kich-hoat"]
    assert "Trả lời 2 lần trong 30 ngày" in page
    assert menu_of(page, "hoa-don") == ["hoa-don-tra-cuu"]


def test_a_publisher_pins_an_order_and_clears_it(site):
    person = site.client(PUBLISHER)
    site.events.record_question("answered", "", entry_id="vneid-kich-hoat")
    done = person.post("/menus/vneid", {"pin1": "vneid-quen-mat-khau", "pin2": "", "pin3": "", "pin4": ""})
    assert done.status_code == 303 and done.headers["location"] == "/menus?done=pinned#menu-vneid"
    assert pins(site) == ["vneid-quen-mat-khau"]
    page = person.get("/menus?done=pinned").text
    assert "Đã lưu thứ tự ghim" in page
    assert menu_of(page, "vneid") == ["vneid-quen-mat-khau", "vneid-kich-hoat"]  # the pin beats the log's count
    assert f"Đang ghim 1 mục, bởi {PUBLISHER}" in page
    assert '<option value="vneid-quen-mat-khau" selected>' in page
    audit = site.accounts.audit_log(limit=1)[0]
    assert (audit.username, audit.action, audit.target, audit.detail) == (
        PUBLISHER, "menu_pin", "vneid", "ghim: 1. vneid-quen-mat-khau")
    assert "Ghim menu chủ đề" in person.get("/audit").text
    cleared = person.post("/menus/vneid", {"pin1": "vneid-quen-mat-khau", "clear": "1"})
    assert cleared.status_code == 303 and "done=cleared" in cleared.headers["location"]
    assert pins(site) == []
    assert menu_of(person.get("/menus").text, "vneid") == ["vneid-kich-hoat", "vneid-quen-mat-khau"]


def test_an_entry_of_another_topic_is_refused_with_a_clear_message(site):
    person = site.client(PUBLISHER)
    person.post("/menus/vneid", {"pin1": "vneid-kich-hoat"})
    refused = person.post("/menus/vneid", {"pin1": "vneid-quen-mat-khau", "pin2": "hoa-don-tra-cuu"})
    assert refused.status_code == 400
    message = html.unescape(re.search(r'<p class="error-box" role="alert">(.*?)</p>', refused.text, re.S).group(1))
    assert message == ("Chưa lưu được: Mục “hoa-don-tra-cuu” thuộc chủ đề Hóa đơn điện tử, "
                       "không thuộc chủ đề VNeID (định danh điện tử).")
    assert '<option value="vneid-quen-mat-khau" selected>' in refused.text  # what was chosen stays in the form
    assert pins(site) == ["vneid-kich-hoat"]  # nothing changed
    assert person.post("/menus/khong-co", {"pin1": "vneid-kich-hoat"}).status_code == 404


def test_an_editor_sees_the_menus_but_cannot_pin(site):
    editor = site.client(EDITOR)
    page = editor.get("/menus").text
    assert "<fieldset disabled>" in page and "cần tài\nkhoản <strong>người xuất bản</strong>" in page
    refused = editor.post("/menus/vneid", {"pin1": "vneid-quen-mat-khau"})
    assert refused.status_code == 403 and "Bạn chưa có quyền" in refused.text
    assert pins(site) == [] and site.accounts.audit_log(limit=1)[0].action != "menu_pin"


@pytest.mark.parametrize("token", [None, "sai"])
def test_a_pin_without_the_forms_token_is_refused(site, token):
    person = site.client(PUBLISHER)
    response = person.post("/menus/vneid", {"pin1": "vneid-quen-mat-khau"} | ({"csrf": token} if token else {}),
                           csrf=False)
    assert response.status_code == 403 and "không hợp lệ" in response.text
    assert pins(site) == []
