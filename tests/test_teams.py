"""Team contacts per commune and a province's fallback (bot/handoff/teams.py) and the directory that resolves them
(bot/handoff/directory.py): the commune's own contact, else its province's, else the default, field by field; an old
address reaches the team of the commune it became; an admin's typed name picks only real communes."""

from __future__ import annotations

import pytest

from bot.handoff.directory import UNKNOWN, Directory
from bot.handoff.replies import NOT_SURE_BUTTON, ask_commune, ticket_opened
from bot.handoff.teams import (
    COMMUNE,
    FROM_COMMUNE,
    FROM_DEFAULT,
    FROM_PROVINCE,
    PROVINCE,
    Target,
    Team,
    cascade,
    pick_place,
    place_by_code,
    read_fields,
)

PHU_DONG = "Xã Phù Đổng, Thành phố Hà Nội"  # the old Xã Yên Thường (huyện Gia Lâm) is part of it since 7/2025
BA_DINH = "Phường Ba Đình, Thành phố Hà Nội"
HOA_KHANH = "Xã Hòa Khánh, Tỉnh Tây Ninh"
FILE = {
    "people": [{"name": "Tổ công nghệ số cộng đồng", "how": "hỏi trưởng thôn"}],
    "office_hours": "giờ hành chính",
    "notify": {"telegram_chat": "-1000"},
    "hotlines": {"default": "1900 0368"},
    "communes": [{"name": "Xã Phù Đổng", "province": "Thành phố Hà Nội", "office_hours": "sáng thứ Bảy",
                  "people": [{"name": "Tổ CNS (tệp)", "how": "gọi anh Bình"}], "notify": {"telegram_chat": "-1001"}}],
}
PHU_DONG_TEAM = Team(COMMUNE, PHU_DONG, 541, notify=Target("-1005410", ("5410",)))
HANOI_TEAM = Team(PROVINCE, "Thành phố Hà Nội", 1, (("Tổ CNS Hà Nội", "nhắn nhóm Zalo của thành phố"),),
                  "7h30–17h", Target("-1000001"))


def directory(*teams: Team, data: dict | None = None) -> Directory:
    return Directory.parse(FILE if data is None else data).with_teams(teams)


def test_each_field_comes_from_the_first_level_that_has_it():
    default = Team(COMMUNE, "", people=(("Mặc định", "hỏi UBND"),), office_hours="giờ hành chính",
                   notify=Target("-1"))
    own = Team(COMMUNE, "X", notify=Target(zalo_users=("7",)))
    province = Team(PROVINCE, "P", people=(("Tỉnh", "gọi"),), notify=Target("-2"))
    found = cascade([(FROM_COMMUNE, own), (FROM_PROVINCE, province)], default)
    assert found.notify == Target(zalo_users=("7",)) and found.notify_from == FROM_COMMUNE
    assert found.people == (("Tỉnh", "gọi"),) and found.office_hours == "giờ hành chính"
    found = cascade([(FROM_COMMUNE, None), (FROM_PROVINCE, province)], default)
    assert (found.notify, found.notify_from) == (Target("-2"), FROM_PROVINCE)
    found = cascade([(FROM_COMMUNE, None), (FROM_PROVINCE, None)], default)
    assert (found.notify, found.notify_from, found.people) == (Target("-1"), FROM_DEFAULT, (("Mặc định", "hỏi UBND"),))
    nowhere = cascade([], Team(COMMUNE, ""))
    assert not nowhere.notify and nowhere.notify_from == ""


def test_a_commune_uses_its_own_team_then_its_province_then_the_default():
    found = directory(PHU_DONG_TEAM, HANOI_TEAM, data={"notify": {"telegram_chat": "-1000"}})
    phu_dong = found.by_label(PHU_DONG)
    assert phu_dong.notify == Target("-1005410", ("5410",)) and phu_dong.notify_from == FROM_COMMUNE
    assert phu_dong.contacts.people == [{"name": "Tổ CNS Hà Nội", "how": "nhắn nhóm Zalo của thành phố"}]  # province's
    assert phu_dong.contacts.commune == "Xã Phù Đổng"
    ba_dinh = found.by_label(BA_DINH)  # no team of its own: Hà Nội's fallback
    assert (ba_dinh.notify, ba_dinh.notify_from) == (Target("-1000001"), FROM_PROVINCE)
    assert found.contacts_for(BA_DINH).office_hours == "7h30–17h"
    elsewhere = found.by_label(HOA_KHANH)  # another province: the default
    assert (elsewhere.notify, elsewhere.notify_from) == (Target("-1000"), FROM_DEFAULT)
    assert found.target_for(UNKNOWN) == found.target_for(None) == Target("-1000")


def test_the_admin_pages_team_comes_before_the_files_entry_for_the_same_commune():
    found = directory(PHU_DONG_TEAM).by_label(PHU_DONG)
    assert found.notify == Target("-1005410", ("5410",))  # the store's target, not the file's -1001
    assert found.contacts.people == [{"name": "Tổ CNS (tệp)", "how": "gọi anh Bình"}]  # the file's where it has none
    assert found.contacts.office_hours == "sáng thứ Bảy"
    assert directory().by_label(PHU_DONG).notify == Target("-1001")  # without the store's, the file's own


@pytest.mark.parametrize("typed", [
    "xã Yên Thường, huyện Gia Lâm, Hà Nội",  # the old address, before 7/2025
    "xa yen thuong huyen gia lam thanh pho ha noi",
    "Phù Đổng Hà Nội",
    "xa phu dong",
])
def test_what_a_resident_types_reaches_the_mapped_team_of_the_new_commune(typed):
    found = directory(PHU_DONG_TEAM, data={})
    match = found.match(typed)
    assert match.commune is not None and match.commune.label == PHU_DONG, typed
    assert found.target_for(match.commune.label) == PHU_DONG_TEAM.notify


def test_communes_with_a_team_are_offered_as_buttons_and_first_among_same_named_ones():
    lam_dong = Team(COMMUNE, "Xã Tân Lập, Tỉnh Lâm Đồng", 23134, notify=Target("-1002"))
    found = directory(lam_dong, PHU_DONG_TEAM, data={})
    _, buttons = ask_commune(found)
    assert [b["payload"] for b in buttons] == ["Xã Tân Lập, Tỉnh Lâm Đồng", PHU_DONG, UNKNOWN]
    assert buttons[-1] == NOT_SURE_BUTTON
    match = found.match("tan lap")
    assert match.ambiguous and match.candidates[0].label == "Xã Tân Lập, Tỉnh Lâm Đồng"
    assert len(match.candidates) == len(directory(data={}).match("tan lap").candidates)  # reordered, nothing lost
    province_only = directory(HANOI_TEAM, data={})
    assert ask_commune(province_only)[1] == [NOT_SURE_BUTTON]  # a province's fallback is no commune's button
    six = [Team(COMMUNE, place_by_code(COMMUNE, code).label, code, notify=Target("-1"))
           for code in (4, 8, 25, 70, 91, 541)]
    assert ask_commune(directory(*six, data={}))[1] == [NOT_SURE_BUTTON]  # too many to read: typed instead
    assert [b["payload"] for b in ask_commune(directory(*six[:5], data={}))[1][:5]] == [t.label for t in six[:5]]


def test_the_ticket_reply_names_the_people_the_cascade_found():
    found = directory(HANOI_TEAM, data={"hotlines": {"default": "1900 0368"}})
    text = ticket_opened("HT-KM482", found.contacts_for(BA_DINH), "vneid")
    assert "Phường Ba Đình" in text and "Tổ CNS Hà Nội: nhắn nhóm Zalo của thành phố" in text and "7h30–17h" in text


def test_stored_data_round_trips_and_bad_data_reads_as_empty():
    team = Team(COMMUNE, PHU_DONG, 541, (("Tổ CNS", "gọi chị Lan"),), "sáng", Target("-1", ("5", "6")))
    assert Team.from_data(COMMUNE, 541, PHU_DONG, team.data()) == team
    assert Team.from_data(PROVINCE, 1, "Thành phố Hà Nội", "not a mapping") == Team(PROVINCE, "Thành phố Hà Nội", 1)
    messy = {"people": [{"name": " "}, "x", {"name": "A"}], "notify": {"zalo_users": 42}}
    assert Team.from_data(COMMUNE, 1, "X", messy) == Team(COMMUNE, "X", 1, (("A", ""),), "", Target("", ("42",)))


def test_typed_contact_fields_are_parsed_and_each_problem_named_by_its_field():
    fields, problems = read_fields(" -100 123 ", "5410\n5411, 5410", "Tổ CNS: gọi chị Lan\n\n- Công an xã: trực 24/7",
                                   "  sáng   thứ Hai  ")
    assert problems == {}
    assert fields.notify == Target("-100123", ("5410", "5411")) and fields.office_hours == "sáng thứ Hai"
    assert fields.people == (("Tổ CNS", "gọi chị Lan"), ("Công an xã", "trực 24/7"))
    assert read_fields("", "", "", "")[1] == {"telegram_chat": "Cần ít nhất một nơi nhận thông báo: mã nhóm "
                                                               "Telegram hoặc mã người dùng Zalo."}
    _, problems = read_fields("@nhom_to", "chi-lan", "Tổ CNS gọi chị Lan", "x" * 201)
    assert set(problems) == {"telegram_chat", "zalo_users", "people", "office_hours"}
    assert "Dòng 1" in problems["people"]
    assert "Tối đa 10" in read_fields("", " ".join(str(i) for i in range(11)), "", "")[1]["zalo_users"]
    assert "Tối đa 8" in read_fields("-1", "", "\n".join(f"Người {i}: gọi" for i in range(9)), "")[1]["people"]


@pytest.mark.parametrize(("kind", "typed", "label"), [
    (COMMUNE, "xa phu dong ha noi", PHU_DONG),
    (COMMUNE, "xã Yên Thường, huyện Gia Lâm", PHU_DONG),
    (COMMUNE, "PHƯỜNG BA ĐÌNH", BA_DINH),
    (PROVINCE, "ha noi", "Thành phố Hà Nội"),
    (PROVINCE, "tinh hai duong", "Thành phố Hải Phòng"),  # merged in 2025: the province it is part of now
    (PROVINCE, "xã Phù Đổng", "Thành phố Hà Nội"),  # a commune's name picks its province
])
def test_an_admin_picks_a_real_unit_by_typing_its_name(kind, typed, label):
    pick = pick_place(kind, typed)
    assert pick.place is not None and pick.place.label == label and not pick.problem
    assert place_by_code(kind, pick.place.code) == pick.place


def test_an_old_name_is_told_and_an_ambiguous_one_offers_the_choices():
    assert pick_place(COMMUNE, "xa yen thuong huyen gia lam").old_names == (
        "Xã Yên Thường, Huyện Gia Lâm, Thành phố Hà Nội",)
    split = pick_place(COMMUNE, "xã Ngũ Hiệp, huyện Thanh Trì")  # split in 2025 between two communes
    assert split.place is None and [c.label for c in split.choices] == ["Xã Thanh Trì, Thành phố Hà Nội",
                                                                         "Xã Nam Phù, Thành phố Hà Nội"]
    same_name = pick_place(COMMUNE, "xa tan lap")
    assert len(same_name.choices) >= 3 and all(c.kind == COMMUNE and c.label.startswith("Xã Tân Lập, ")
                                               for c in same_name.choices)
    assert [c.label for c in pick_place(PROVINCE, "thanh tri").choices] == ["Thành phố Hà Nội", "Tỉnh Vĩnh Long"]


@pytest.mark.parametrize(("kind", "typed", "says"), [
    (COMMUNE, "ha noi", "Cả tỉnh/thành phố"),  # a province where a commune is wanted
    (COMMUNE, "xã Không Có Thật", "Không tìm thấy xã/phường"),
    (COMMUNE, "   ", "Hãy gõ tên xã/phường"),
    (PROVINCE, "xyz", "Không tìm thấy tỉnh/thành phố"),
    ("district", "huyện Gia Lâm", "Hãy chọn"),
])
def test_names_that_are_no_unit_of_that_kind_are_refused(kind, typed, says):
    pick = pick_place(kind, typed)
    assert pick.place is None and not pick.choices and says in pick.problem


def test_only_real_codes_are_units():
    assert place_by_code(COMMUNE, 541).label == PHU_DONG and place_by_code(PROVINCE, 1).label == "Thành phố Hà Nội"
    assert place_by_code(COMMUNE, 99_999_999) is None and place_by_code(PROVINCE, 541) is None
    assert place_by_code("district", 1) is None
