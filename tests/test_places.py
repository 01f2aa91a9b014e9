"""bot.places on the real map shipped by vietnamadminunits: current names, old (pre-7/2025) addresses, ambiguous
names, a province alone, nonsense. Expected merges were checked in the package's data and, for the old
addresses, against the official conversion table (Nhập toàn bộ / Nhập một phần)."""

from __future__ import annotations

import statistics
import time
import unicodedata

import pytest
import yaml

from bot.core.settings import ROOT
from bot.core.text import deaccent
from bot.places import Resolution, gazetteer, resolve, source
from bot.places.tables import build
from bot.places.words import is_syllable, parts, spelling, tokens

HN, HCM, AN_GIANG, HAI_PHONG, QUANG_NGAI, DONG_THAP, THAI_NGUYEN = 1, 79, 91, 31, 51, 82, 19


def labels(found: Resolution) -> list[str]:
    return [c.label for c in found.communes]


@pytest.fixture(scope="module")
def table():
    return gazetteer()


# --- one commune --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, label, code", [
    # current names, any way residents type them
    ("phường Hoàn Kiếm", "Phường Hoàn Kiếm, Thành phố Hà Nội", 70),
    ("PHUONG HOAN KIEM", "Phường Hoàn Kiếm, Thành phố Hà Nội", 70),
    ("hoankiem", "Phường Hoàn Kiếm, Thành phố Hà Nội", 70),
    ("Hoàn Kiếm, Hà Nội", "Phường Hoàn Kiếm, Thành phố Hà Nội", 70),
    ("phường Ba Đình hn", "Phường Ba Đình, Thành phố Hà Nội", 4),
    ("p. Bến Thành", "Phường Bến Thành, Thành phố Hồ Chí Minh", 26743),
    ("P. Sài Gòn, TP.HCM", "Phường Sài Gòn, Thành phố Hồ Chí Minh", 26740),
    ("PHƯỜNG TÂN SƠN, TP HỒ CHÍ MINH", "Phường Tân Sơn, Thành phố Hồ Chí Minh", 27007),
    ("đặc khu Phú Quốc", "Đặc khu Phú Quốc, Tỉnh An Giang", 31078),
    ("phu-quoc!", "Đặc khu Phú Quốc, Tỉnh An Giang", 31078),
    ("dac khu con dao", "Đặc khu Côn Đảo, Thành phố Hồ Chí Minh", 26732),
    ("tôi ở xã Ngũ Hiệp ạ", "Xã Ngũ Hiệp, Tỉnh Đồng Tháp", 28516),  # today's Ngũ Hiệp, not Hà Nội's old one
    ("Phường Hà Giang 1", "Phường Hà Giang 1, Tỉnh Tuyên Quang", None),
    ("xã Hoằng Hoá, Thanh Hoá", "Xã Hoằng Hóa, Tỉnh Thanh Hóa", None),  # old-style tone marks
    ("Phường Hoằng Hóa", "Xã Hoằng Hóa, Tỉnh Thanh Hóa", None),  # the wrong type word still finds the xã
    ("tân lập, đắk lắk", "Phường Tân Lập, Tỉnh Đắk Lắk", None),  # the province picks one of several Tân Lập
    ("Xã Văn Lăng, Thái Nguyên", "Xã Văn Lăng, Tỉnh Thái Nguyên", None),  # diacritics tell it from Văn Lang
    ("Xã Văn Lang, Thái Nguyên", "Xã Văn Lang, Tỉnh Thái Nguyên", 2143),
    ("xa tan an thanh pho hai phong", "Xã Tân An, Thành phố Hải Phòng", None),  # not the old Xã Tân An Thạnh
    # old addresses (before 7/2025) whose commune was merged whole into one new commune
    ("phường Hàng Bạc", "Phường Hoàn Kiếm, Thành phố Hà Nội", 70),
    ("Phường Trúc Bạch quận Ba Đình", "Phường Ba Đình, Thành phố Hà Nội", 4),
    ("phường Nguyễn Trung Trực, Ba Đình", "Phường Ba Đình, Thành phố Hà Nội", 4),  # merged into Trúc Bạch earlier
    ("phường Bến Nghé, Quận 1, TP.HCM", "Phường Sài Gòn, Thành phố Hồ Chí Minh", 26740),
    ("phường bến thành quận 1", "Phường Bến Thành, Thành phố Hồ Chí Minh", 26743),
    ("Thị Trấn La Hà, Huyện Tư Nghĩa, Quảng Ngãi", "Xã Tư Nghĩa, Tỉnh Quảng Ngãi", 21235),
    ("tt La Hà", "Xã Tư Nghĩa, Tỉnh Quảng Ngãi", 21235),
    ("xa le ninh, kinh mon, hai duong", "Phường Bắc An Phụ, Thành phố Hải Phòng", 10678),  # old province too
    ("Phường Hòa Bình, Thành phố Thủy Nguyên, Hải Phòng", "Phường Hòa Bình, Thành phố Hải Phòng", None),
    ("Thị trấn Châu Thành, huyện Châu Thành, tỉnh Bến Tre", "Xã Phú Túc, Tỉnh Vĩnh Long", None),
    ("Thị trấn Châu Thành, huyện Châu Thành, tỉnh Trà Vinh", "Xã Châu Thành, Tỉnh Vĩnh Long", None),
    ("huyện Côn Đảo", "Đặc khu Côn Đảo, Thành phố Hồ Chí Minh", 26732),  # an island district became a đặc khu
    ("Tôi ở phường 7 quận 3", "Phường Xuân Hòa, Thành phố Hồ Chí Minh", 27139),  # P7 joined Võ Thị Sáu in 2020
    ("F7 Q3", "Phường Xuân Hòa, Thành phố Hồ Chí Minh", 27139),
    ("P. Linh Trung, TP Thủ Đức", "Phường Linh Xuân, Thành phố Hồ Chí Minh", 26800),
    ("xã Tân Hiệp huyện Hóc Môn TPHCM", "Xã Hóc Môn, Thành phố Hồ Chí Minh", 27559),
    ("tổ 5 ấp 3 xã Phước Kiển huyện Nhà Bè", "Xã Nhà Bè, Thành phố Hồ Chí Minh", 27655),
])
def test_one_commune(typed, label, code):
    found = resolve(typed)
    assert labels(found) == [label] and found.commune is not None and not found.ambiguous
    assert found.province == found.commune.province
    if code is not None:
        assert found.commune.code == code


def test_an_old_address_says_what_it_was():
    found = resolve("phường Bến Nghé, Quận 1, TP.HCM")
    assert found.old_names == ("Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh",)
    assert resolve("phường Sài Gòn").old_names == ()  # a current name needs no story


# --- several candidates: ask back ---------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, expected, province", [
    # an old commune split between new ones (Nhập một phần): its usual successor first
    ("xã Ngũ Hiệp, huyện Thanh Trì, Hà Nội", ["Xã Thanh Trì, Thành phố Hà Nội", "Xã Nam Phù, Thành phố Hà Nội"], HN),
    ("p15, tan binh, hcm", ["Phường Tân Sơn, Thành phố Hồ Chí Minh", "Phường Tân Bình, Thành phố Hồ Chí Minh"], HCM),
    ("tôi ở xã tân lập huyện đan phượng hà nội ạ", ["Xã Hoài Đức, Thành phố Hà Nội", "Xã Ô Diên, Thành phố Hà Nội"],
     HN),
    # names that differ only by diacritics, typed without them
    ("xa van lang thai nguyen", ["Xã Văn Lang, Tỉnh Thái Nguyên", "Xã Văn Lăng, Tỉnh Thái Nguyên"], THAI_NGUYEN),
    # the same name in several provinces; the type word narrows it
    ("xã tân lập", ["Xã Tân Lập, Tỉnh Quảng Trị", "Xã Tân Lập, Tỉnh Lâm Đồng", "Xã Tân Lập, Tỉnh Tây Ninh"], None),
    ("xã Quan Sơn", ["Xã Quan Sơn, Tỉnh Lạng Sơn", "Xã Quan Sơn, Tỉnh Thanh Hóa"], None),
    # an old district alone: the communes its area is in now
    ("quận 1", ["Phường Bến Thành, Thành phố Hồ Chí Minh", "Phường Cầu Ông Lãnh, Thành phố Hồ Chí Minh",
                "Phường Sài Gòn, Thành phố Hồ Chí Minh", "Phường Tân Định, Thành phố Hồ Chí Minh"], HCM),
])
def test_several_candidates(typed, expected, province):
    found = resolve(typed)
    assert found.ambiguous and found.commune is None
    assert labels(found) == expected
    assert (found.province.code if found.province else None) == province


def test_a_common_name_lists_every_province_it_is_in():
    found = resolve("tan lap")
    assert {c.province.name for c in found.communes} == {"Tỉnh Quảng Trị", "Tỉnh Đắk Lắk", "Tỉnh Lâm Đồng",
                                                          "Tỉnh Tây Ninh"}
    assert found.province is None
    many = resolve("phường 15")  # the numbered wards of Saigon's old districts
    assert len(many.communes) > 5 and many.province is not None and many.province.code == HCM


def test_an_old_district_is_narrowed_by_its_type_word_and_province():
    assert {c.province.code for c in resolve("thị xã hoàng mai").communes} == {40}  # Nghệ An's, not Hà Nội's quận
    in_hanoi = resolve("Q. Hoàng Mai, HN")
    assert in_hanoi.old_names == ("Quận Hoàng Mai, Thành phố Hà Nội",) and in_hanoi.province.code == HN
    assert {c.province.code for c in resolve("hoang mai").communes} == {HN, 40}  # two phường Hoàng Mai now


def test_a_district_typed_with_diacritics_is_not_a_namesake_without_them():
    with_marks, without = resolve("huyện Thanh Trì"), resolve("huyen thanh tri")
    assert with_marks.old_names == ("Huyện Thanh Trì, Thành phố Hà Nội",) and with_marks.province.code == HN
    assert "Huyện Thạnh Trị, Tỉnh Sóc Trăng" in without.old_names and without.province is None


# --- a province only: ask for the commune ------------------------------------------------------------------------

@pytest.mark.parametrize("typed, province", [
    ("hn", HN), ("Hà Nội", HN), ("thủ đô hà nội", HN),
    ("tp hcm", HCM), ("TP.HCM", HCM), ("tphcm", HCM), ("sài gòn", HCM), ("Thành phố Hồ Chí Minh", HCM),
    ("tôi ở Huế", 46),
    ("tỉnh Hải Dương", HAI_PHONG),  # an old province: not the old Phường Tĩnh Hải of Thanh Hóa
    ("tỉnh Hà Giang", 8),  # merged into Tuyên Quang
    ("brvt", HCM), ("vũng tàu", HCM),
])
def test_a_province_alone_asks_for_the_commune(typed, province):
    found = resolve(typed)
    assert found.communes == () and found.province is not None and found.province.code == province


@pytest.mark.parametrize("typed", ["", "asdf qwer", "không biết", "tôi muốn hỏi về vneid", "123", "xã", "phường ạ"])
def test_nonsense_names_nothing(typed):
    assert resolve(typed) == Resolution()


def test_text_is_normalised_before_matching():
    decomposed = unicodedata.normalize("NFD", "Phường Hoàn Kiếm")
    assert labels(resolve(decomposed)) == ["Phường Hoàn Kiếm, Thành phố Hà Nội"]
    assert tokens("P.15, Q.01, TP.HCM") == ["phuong", "15", "quan", "1", "thanh", "pho", "hcm"]
    assert tokens("tt La Hà, tx Sơn Tây") == ["thi", "tran", "la", "ha", "thi", "xa", "son", "tay"]
    assert parts("Xã Tân An, Hải Phòng") == [["xa", "tan", "an"], ["hai", "phong"]]
    assert spelling("Thuận Hoà") == spelling("Thuận Hòa") == "thuậnhòa" and spelling("Hoàng") == "hoàng"
    assert is_syllable("thanh") and is_syllable("nghieng") and not is_syllable("hoankiem") and not is_syllable("pleiku")


# --- the whole map --------------------------------------------------------------------------------------------------

def test_the_map_has_34_provinces_and_3321_communes(table):
    assert len(table.provinces) == 34 and len(table.communes) == 3321
    kinds = [c.kind for c in table.communes.values()]
    assert (kinds.count("phuong"), kinds.count("xa"), kinds.count("dackhu")) == (687, 2621, 13)
    assert table.provinces[HN].name == "Thành phố Hà Nội" and table.provinces[AN_GIANG].name == "Tỉnh An Giang"
    assert {QUANG_NGAI, DONG_THAP} <= set(table.provinces)


def test_every_current_commune_is_found_by_its_label(table):
    for commune in table.communes.values():
        assert resolve(commune.label, table).communes == (commune,), commune.label
        plain = resolve(deaccent(commune.label), table).communes  # a few names differ only by their diacritics
        assert commune in plain and len(plain) <= 2, commune.label


def test_every_old_address_leads_to_what_the_commune_became(table):
    olds = {old.label: old for names in table.old_commune_names.values() for old in names}
    assert len(olds) == 10040 - 5  # five island districts had no communes
    for label, old in olds.items():
        assert old.became, label
        assert set(resolve(label, table).communes) == set(old.became), label


def test_the_shipped_directory_examples_are_communes_of_the_map():
    data = yaml.safe_load((ROOT / "contacts.yml").read_text(encoding="utf-8"))
    for item in data["communes"]:
        label = f"{item['name']}, {item['province']}"
        assert labels(resolve(label)) == [label]


def test_resolving_is_fast_once_the_tables_are_built(table):
    texts = ["tôi ở xã tân lập huyện đan phượng hà nội ạ", "phuong hoan kiem", "p15, tan binh, hcm", "hn",
             "Phường Văn Miếu - Quốc Tử Giám, Quận Đống Đa, Thành phố Hà Nội", "không biết"] * 20
    took = []
    for text in texts:
        start = time.perf_counter()
        resolve(text, table)
        took.append(time.perf_counter() - start)
    assert statistics.median(took) < 0.002  # 0.1-0.2 ms here; the bot's budget is 10 ms


def test_a_long_paste_is_cut_and_still_answered():
    assert labels(resolve("phường Hoàn Kiếm " + "bla " * 5000)) == ["Phường Hoàn Kiếm, Thành phố Hà Nội"]


# --- the package --------------------------------------------------------------------------------------------------

def test_the_data_version_is_the_pinned_one(table):
    pins = (ROOT / "requirements-actions.txt").read_text(encoding="utf-8").splitlines()
    assert f"{source.PACKAGE}=={table.version}" in pins
    assert table.version in (ROOT / "docs" / "places.md").read_text(encoding="utf-8")


def test_a_missing_package_is_reported_with_the_fix(monkeypatch):
    monkeypatch.setattr(source.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(source.PlacesDataMissing, match="pip install"):
        source.package_dir()


def test_the_command_line_shows_the_data_and_each_reading(capsys, monkeypatch):
    from bot.places.__main__ import main

    assert main(["xã Ngũ Hiệp, huyện Thanh Trì", "hn", "blah"]) == 0
    out = capsys.readouterr().out
    assert "34 tỉnh/thành phố, 3321 xã/phường/đặc khu" in out and "qua tên cũ: Xã Ngũ Hiệp" in out
    assert "chỉ có tỉnh: Thành phố Hà Nội" in out and "không nhận ra" in out
    monkeypatch.setattr("bot.places.__main__.gazetteer", build)  # uncached: really looks for the package
    monkeypatch.setattr(source.importlib.util, "find_spec", lambda name: None)
    assert main([]) == 2 and "pip install" in capsys.readouterr().err
