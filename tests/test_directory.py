"""The commune directory (contacts.yml after the two-tier reform) and the handoff texts built from it."""

from __future__ import annotations

import pytest
import yaml

from bot.core.settings import ROOT
from bot.handoff.directory import UNKNOWN, Directory, Target, main, plain_words, problems, strip_type
from bot.handoff.replies import NOT_SURE_BUTTON, ambiguous_commune, ask_commune, handoff_text, ticket_opened

SHIPPED = ROOT / "contacts.yml"

DATA = {
    "commune": "xã/phường nơi bạn cư trú",
    "people": [{"name": "Tổ công nghệ số cộng đồng", "how": "hỏi trưởng thôn"}],
    "office_hours": "giờ hành chính",
    "notify": {"telegram_chat": -1009, "zalo_users": "z-default"},
    "hotlines": {"vneid": "1900 0368", "default": "1900 0368"},
    "communes": [
        {"name": "Xã Tân Lập", "province": "Tỉnh Đồng Nai", "aliases": ["tan lap dong nai"],
         "people": [{"name": "Tổ CNS xã Tân Lập", "how": "gọi anh Bình"}], "office_hours": "sáng thứ Hai đến thứ Bảy",
         "notify": {"telegram_chat": "-1001", "zalo_users": ["z1", "z2"]}},
        {"name": "Phường Tân Lập", "province": "Tỉnh Thái Nguyên"},
        {"name": "Đặc khu Phú Quốc", "province": "Tỉnh An Giang", "aliases": "phu quoc"},
    ],
}


@pytest.fixture
def directory() -> Directory:
    return Directory.parse(DATA)


def test_the_shipped_file_has_the_defaults_and_explains_how_to_add_a_commune_but_lists_none():
    directory = Directory.load(SHIPPED)
    assert directory.communes == () and problems(directory) == []  # no example communes with placeholder contacts
    raw = SHIPPED.read_text(encoding="utf-8")
    assert "example: true" not in raw and "Liên hệ theo xã/phường" in raw  # the admin page is where communes are mapped
    commented = yaml.safe_load("\n".join(line[2:] for line in raw.splitlines() if line.startswith("# ")
                                         and line[2:].startswith(("communes:", "  "))))
    example = Directory.parse({"communes": commented["communes"]})  # the commented example parses as a commune
    assert [c.label for c in example.communes] == ["Xã Phù Đổng, Thành phố Hà Nội"]
    assert example.communes[0].notify.telegram_chat == "-1001234567890"
    # the defaults still name the team, the police and the hotline
    text = handoff_text(directory.defaults, "vneid")
    assert "Tổ công nghệ số cộng đồng" in text and "Công an xã/phường" in text and "1900 0368" in text


@pytest.mark.parametrize("typed, expected", [
    ("xa tan lap", "Xã Tân Lập, Tỉnh Đồng Nai"),                  # the type word picks the commune
    ("Tân Lập, Thái Nguyên", "Phường Tân Lập, Tỉnh Thái Nguyên"),  # the province picks it
    ("toi o tan lap dong nai", "Xã Tân Lập, Tỉnh Đồng Nai"),
    ("PHƯỜNG TÂN LẬP", "Phường Tân Lập, Tỉnh Thái Nguyên"),
    ("đặc khu Phú Quốc", "Đặc khu Phú Quốc, Tỉnh An Giang"),
    ("phu-quoc!", "Đặc khu Phú Quốc, Tỉnh An Giang"),
])
def test_typed_names_match_without_diacritics(directory, typed, expected):
    assert directory.match(typed).commune.label == expected


def test_same_name_in_two_provinces_is_ambiguous_and_unknown_names_match_nothing(directory):
    match = directory.match("tan lap")
    assert match.commune is None and match.ambiguous
    # the listed communes first, then the map's other communes of that name
    assert {c.province for c in match.candidates[:2]} == {"Tỉnh Đồng Nai", "Tỉnh Thái Nguyên"}
    for typed in ("không rõ", "lap", "ha noi", "", "tan"):
        assert directory.match(typed).commune is None and not directory.match(typed).ambiguous


def test_contacts_and_notification_target_fall_back_to_the_defaults(directory):
    tan_lap = directory.by_label("Xã Tân Lập, Tỉnh Đồng Nai")
    assert tan_lap.contacts.people == [{"name": "Tổ CNS xã Tân Lập", "how": "gọi anh Bình"}]
    assert directory.target_for(tan_lap.label) == Target("-1001", ("z1", "z2"))
    phuong = "Phường Tân Lập, Tỉnh Thái Nguyên"
    assert directory.contacts_for(phuong).people == directory.defaults.people  # no people of its own
    assert directory.contacts_for(phuong).commune == "Phường Tân Lập"
    assert directory.target_for(phuong) == Target("-1009", ("z-default",))
    for label in (UNKNOWN, None, "Xã Đã Bỏ, Tỉnh Cũ"):
        assert directory.contacts_for(label) == directory.defaults and directory.by_label(label) is None
    assert not Target() and Target(zalo_users=("z",))


def test_problems_name_district_words_and_missing_targets():
    data = {"communes": [{"name": "Xã A", "province": "Huyện B"}, {"name": "Xã A", "province": "Huyện B"},
                         {"name": "Xã C"}]}
    found = problems(Directory.parse(data))
    assert any("không còn cấp huyện" in p for p in found) and any("hai lần" in p for p in found)
    assert any("thiếu tỉnh" in p for p in found) and any("chưa có nơi nhận thông báo" in p for p in found)


def test_malformed_files_are_reported_clearly(tmp_path, capsys):
    bad = tmp_path / "bad.yml"
    bad.write_text("communes: [name: {", encoding="utf-8")
    with pytest.raises(ValueError, match="YAML"):
        Directory.load(bad)
    assert main([str(bad)]) == 2 and "Lỗi" in capsys.readouterr().err
    nameless = tmp_path / "nameless.yml"
    nameless.write_text(yaml.safe_dump({"communes": [{"province": "Tỉnh X"}]}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match=r"communes\[0\]"):
        Directory.load(nameless)
    assert Directory.load(tmp_path / "missing.yml").defaults.commune == "xã/phường nơi bạn cư trú"
    assert main([str(SHIPPED)]) == 0 and "0 xã/phường" in capsys.readouterr().out


def test_words_are_normalised():
    assert plain_words("Phường Hoàn-Kiếm!") == "phuong hoan kiem"
    assert strip_type("dac khu phu quoc") == "phu quoc" and strip_type("tan lap") == "tan lap"


def test_the_commune_question_offers_buttons_for_a_short_directory(directory):
    text, buttons = ask_commune(directory)
    assert "xã/phường nào" in text and "cán bộ" in text
    assert [b["payload"] for b in buttons] == [c.label for c in directory.communes] + [UNKNOWN]
    many = Directory.parse({"communes": [{"name": f"Xã {i}", "province": "Tỉnh X"} for i in range(8)]})
    assert ask_commune(many)[1] == [NOT_SURE_BUTTON]  # too many to read: type the name
    text, buttons = ambiguous_commune(directory.match("tan lap").candidates)
    assert "tỉnh" in text and buttons[-1] == NOT_SURE_BUTTON
    assert {b["payload"] for b in buttons[:2]} == {"Xã Tân Lập, Tỉnh Đồng Nai", "Phường Tân Lập, Tỉnh Thái Nguyên"}


def test_the_ticket_reply_has_the_code_hours_contacts_and_the_way_back(directory):
    contacts = directory.contacts_for("Xã Tân Lập, Tỉnh Đồng Nai")
    text = ticket_opened("HT-KM482", contacts, "vneid")
    for part in ("HT-KM482", "Xã Tân Lập", "sáng thứ Hai đến thứ Bảy", "Tổ CNS xã Tân Lập: gọi anh Bình",
                 "1900 0368", "Quay lại trợ lý ảo", "OTP"):
        assert part in text


@pytest.mark.parametrize(("typed", "label"), [
    ("phường Ba Đình, Hà Nội", "Phường Ba Đình, Thành phố Hà Nội"),
    ("phuong ba dinh ha noi", "Phường Ba Đình, Thành phố Hà Nội"),
    ("phường Phúc Xá, quận Ba Đình, Hà Nội", "Phường Hồng Hà, Thành phố Hà Nội"),  # an old address, merged in 2025
])
def test_every_commune_of_the_map_is_recognised_with_the_default_contacts(directory, typed, label):
    match = directory.match(typed)
    assert match.commune is not None and match.commune.label == label
    assert directory.by_label(label) == match.commune  # the slot's label finds it again
    contacts = directory.contacts_for(label)
    assert contacts.commune == label.split(",")[0] and contacts.people == directory.defaults.people
    assert directory.target_for(label) == directory.notify


def test_an_old_address_keeps_the_names_it_came_through(directory):
    old = directory.match("phuong phuc xa quan ba dinh").old_names
    assert old == ("Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội",)
    split = directory.match("xã Ngũ Hiệp, huyện Thanh Trì, Hà Nội")  # split in 2025: the resident chooses
    assert split.ambiguous and "Xã Thanh Trì, Thành phố Hà Nội" in [c.label for c in split.candidates]


def test_a_province_alone_asks_for_its_commune(directory):
    match = directory.match("tôi ở Hà Nội")
    assert match.commune is None and not match.ambiguous and match.province == "Thành phố Hà Nội"
