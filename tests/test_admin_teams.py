"""The "Liên hệ theo xã/phường" area of the admin page through Starlette's TestClient, on SQLite and a real PostgreSQL
database: a publisher maps a commune typed without diacritics (or by its old address) to its team, picks one of the
communes an ambiguous name fits, sets a province's fallback, edits and removes; what cannot be saved is said next to
its field and nothing is saved; an editor sees the page but cannot change it; no session, no CSRF token, no change;
the check box says where a resident's typed address would go."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest
import yaml

from bot.handoff.teams import COMMUNE, PROVINCE
from bot.store.teams import TeamContacts
from tests.test_admin_web import EDITOR, PUBLISHER, Site, field_block, site  # site: the fixture (two accounts)

__all__ = ["site"]  # a fixture used by name, not an unused import

PHU_DONG = "Xã Phù Đổng, Thành phố Hà Nội"


def rows(site: Site) -> list[tuple[str, int, str, dict]]:
    return [(r.kind, r.code, r.label, r.data) for r in TeamContacts(site.store.engine).all()]


def text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_a_publisher_maps_a_commune_typed_as_an_old_address_edits_and_removes_it(site):
    person = site.client(PUBLISHER)
    page = person.get("/communes")
    assert page.status_code == 200 and '<a href="/communes" aria-current="page">Liên hệ theo xã/phường</a>' in page.text
    assert "Chưa đặt liên hệ nào" in page.text
    done = person.post("/communes", {"kind": COMMUNE, "place": "xa yen thuong huyen gia lam ha noi",
                                     "telegram_chat": "-100541", "zalo_users": "5410\n5411",
                                     "people": "Tổ CNS xã Phù Đổng: gọi chị Lan", "office_hours": "sáng thứ Hai"})
    assert done.status_code == 303 and done.headers["location"] == "/communes?done=saved"
    assert rows(site) == [(COMMUNE, 541, PHU_DONG, {
        "people": [{"name": "Tổ CNS xã Phù Đổng", "how": "gọi chị Lan"}], "office_hours": "sáng thứ Hai",
        "notify": {"telegram_chat": "-100541", "zalo_users": ["5410", "5411"]}})]
    listing = text(person.get("/communes?done=saved").text)
    assert "Đã lưu." in listing and PHU_DONG in listing and "nhóm Telegram -100541, 2 người dùng Zalo" in listing
    audit = site.accounts.audit_log(limit=1)[0]
    assert (audit.username, audit.action, audit.target) == (PUBLISHER, "team_set", PHU_DONG)
    assert "Đặt liên hệ xã/phường" in person.get("/audit").text

    form = person.get(f"/communes/{COMMUNE}/541")
    assert form.status_code == 200 and "Sửa liên hệ" in form.text and 'name="code" value="541"' in form.text
    assert "5410\n5411</textarea>" in form.text
    edited = person.post("/communes", {"editing": "1", "kind": COMMUNE, "code": "541", "telegram_chat": "",
                                       "zalo_users": "5410", "people": "", "office_hours": ""})
    assert edited.status_code == 303
    assert rows(site)[0][3]["notify"] == {"telegram_chat": "", "zalo_users": ["5410"]}
    assert person.post(f"/communes/{COMMUNE}/541/remove").status_code == 303 and rows(site) == []
    assert site.accounts.audit_log(limit=1)[0].action == "team_remove"
    assert person.post(f"/communes/{COMMUNE}/541/remove").status_code == 404


def test_an_ambiguous_name_offers_its_communes_and_the_chosen_one_is_saved(site):
    person = site.client(PUBLISHER)
    typed = {"kind": COMMUNE, "place": "xã Ngũ Hiệp, huyện Thanh Trì", "telegram_chat": "-5"}
    asked = person.post("/communes", typed)
    assert asked.status_code == 400 and rows(site) == []
    choices = re.findall(r'<input type="radio" name="code" value="(\d+)"> ([^<]+)</label>', asked.text)
    assert choices == [("640", "Xã Thanh Trì, Thành phố Hà Nội"), ("685", "Xã Nam Phù, Thành phố Hà Nội")]
    assert 'value="-5"' in asked.text  # what was typed stays in the form
    assert person.post("/communes", typed | {"code": "685"}).status_code == 303
    assert [(kind, code) for kind, code, _, _ in rows(site)] == [(COMMUNE, 685)]


def test_a_province_fallback_is_set_by_its_name(site):
    person = site.client(PUBLISHER)
    assert person.post("/communes", {"kind": PROVINCE, "place": "ha noi", "zalo_users": "77"}).status_code == 303
    assert [(k, c, label) for k, c, label, _ in rows(site)] == [(PROVINCE, 1, "Thành phố Hà Nội")]
    page = text(person.get("/communes").text)
    assert "Cả tỉnh: Thành phố Hà Nội" in page and "dự phòng" in page
    checked = text(person.get("/communes?check=phuong ba dinh").text)
    assert "Phường Ba Đình, Thành phố Hà Nội" in checked and "1 người dùng Zalo" in checked
    assert "tỉnh/thành phố (dự phòng)" in checked


@pytest.mark.parametrize(("form", "field", "says"), [
    ({"kind": COMMUNE, "place": "Hà Nội", "telegram_chat": "-1"}, "place", "chưa có tên xã/phường"),
    ({"kind": COMMUNE, "place": "xã Không Có Thật", "telegram_chat": "-1"}, "place", "Không tìm thấy xã/phường"),
    ({"kind": COMMUNE, "place": "phuong ba dinh"}, "telegram_chat", "Cần ít nhất một nơi nhận thông báo"),
    ({"kind": COMMUNE, "place": "phuong ba dinh", "zalo_users": "chị Lan"}, "zalo_users", "dãy số"),
    ({"kind": COMMUNE, "place": "phuong ba dinh", "telegram_chat": "-1", "people": "gọi chị Lan"}, "people",
     "Tên: cách liên hệ"),
])
def test_what_cannot_be_saved_is_said_next_to_its_field(site, form, field, says):
    refused = site.client(PUBLISHER).post("/communes", form)
    assert refused.status_code == 400 and "Chưa lưu được" in refused.text
    assert says in text(field_block(refused.text, field))
    assert rows(site) == []


@pytest.mark.parametrize("form", [
    {"kind": COMMUNE, "code": "99999999", "telegram_chat": "-1"},  # a code that is no commune
    {"kind": PROVINCE, "code": "541", "telegram_chat": "-1"},  # a commune's code as a province
    {"kind": "district", "place": "Gia Lâm", "telegram_chat": "-1"},
    {"kind": COMMUNE, "code": "12345678901234567890", "place": "", "telegram_chat": "-1"},
])
def test_a_tampered_form_saves_nothing(site, form):
    assert site.client(PUBLISHER).post("/communes", form).status_code == 400 and rows(site) == []


def test_an_editor_sees_the_page_but_cannot_change_it(site):
    TeamContacts(site.store.engine).put(COMMUNE, 541, PHU_DONG, {"notify": {"telegram_chat": "-1"}}, PUBLISHER)
    editor = site.client(EDITOR)
    page = editor.get("/communes").text
    assert PHU_DONG in page and "<fieldset disabled>" in page and "/remove" not in page
    assert editor.get(f"/communes/{COMMUNE}/541").status_code == 200
    for path, data in (("/communes", {"kind": COMMUNE, "place": "phuong ba dinh", "telegram_chat": "-2"}),
                       (f"/communes/{COMMUNE}/541/remove", {})):
        refused = editor.post(path, data)
        assert refused.status_code == 403 and "Bạn chưa có quyền" in refused.text
    assert [code for _, code, _, _ in rows(site)] == [541]


@pytest.mark.parametrize("token", [None, "sai"])
def test_no_change_without_the_forms_token_or_a_session(site, token):
    TeamContacts(site.store.engine).put(COMMUNE, 541, PHU_DONG, {}, PUBLISHER)
    person = site.client(PUBLISHER)
    for path in ("/communes", f"/communes/{COMMUNE}/541/remove"):
        data = {"kind": COMMUNE, "place": "phuong ba dinh", "telegram_chat": "-2"} | ({"csrf": token} if token else {})
        assert person.post(path, data, csrf=False).status_code == 403
    anonymous = site.client(None)
    for path in ("/communes", f"/communes/{COMMUNE}/541"):
        assert anonymous.get(path).status_code == 303
    assert anonymous.post("/communes", {"kind": COMMUNE, "place": "x"}, csrf=False).status_code == 303
    assert [code for _, code, _, _ in rows(site)] == [541]


def test_missing_or_malformed_paths_are_404(site):
    person = site.client(PUBLISHER)
    for path in (f"/communes/{COMMUNE}/541", "/communes/district/1", "/communes/commune/abc"):
        assert person.get(path).status_code == 404, path


def test_the_check_box_tells_ambiguous_and_unknown_names_and_the_files_communes_are_shown(site, tmp_path):
    contacts = tmp_path / "contacts.yml"
    contacts.write_text(yaml.safe_dump({"notify": {"telegram_chat": "-1000"}, "communes": [
        {"name": "Xã Tân Lập", "province": "Tỉnh Lâm Đồng", "notify": {"telegram_chat": "-1002"}}]},
        allow_unicode=True), encoding="utf-8")
    site.app.state.admin.settings = replace(site.app.state.admin.settings, contacts_file=contacts)
    person = site.client(PUBLISHER)
    page = text(person.get("/communes?check=tan lap").text)  # the file lists it: the deployment serves that one
    assert "Xã/phường: Xã Tân Lập, Tỉnh Lâm Đồng" in page and "theo liên hệ xã/phường" in page
    assert "Xã Tân Lập, Tỉnh Lâm Đồng — thông báo tới nhóm Telegram -1002" in page  # the file's commune, shown
    assert "Thông báo tới: nhóm Telegram -1000." in page  # the default
    assert "Nhiều xã/phường khớp" in text(person.get("/communes?check=an binh").text)
    assert "Không nhận ra xã/phường" in text(person.get("/communes?check=khong biet").text)
    assert "Chỉ có tên tỉnh" in text(person.get("/communes?check=ha noi").text)
    contacts.write_text("communes: [name: {", encoding="utf-8")
    assert "Tệp danh bạ có lỗi" in text(person.get("/communes").text)
