import pytest

from bot.core.text import AccentRestorer, deaccent, expand_abbreviations, search_terms, words


def test_deaccent_handles_d_and_tones():
    assert deaccent("Đăng ký Quên mật khẩu") == "Dang ky Quen mat khau"


def test_deaccent_is_equal_for_composed_and_decomposed_input():
    import unicodedata

    text = "hóa đơn điện tử"
    assert deaccent(unicodedata.normalize("NFD", text)) == deaccent(text) == "hoa don dien tu"


def test_words_drops_punctuation_and_emoji():
    assert words("Quên MK?? 😀 vneid!!") == ["quên", "mk", "vneid"]


@pytest.mark.parametrize(
    "typed, expected",
    [
        (["ko", "dc"], ["không", "được"]),
        (["quen", "mk"], ["quen", "mật", "khẩu"]),
        (["cccd"], ["căn", "cước", "công", "dân"]),
        (["đc"], ["được"]),
        (["vneid"], ["vneid"]),
        (["quen", "pass", "code", "vneid"], ["quen", "passcode", "vneid"]),  # the passcode, not a password
        (["pass"], ["mật", "khẩu"]),
    ],
)
def test_abbreviations_expand(typed, expected):
    assert expand_abbreviations(typed) == expected


def test_search_terms_are_deaccented_with_bigrams():
    assert search_terms("Quên mk") == ["quen", "mat", "khau", "quen_mat", "mat_khau"]


def test_accent_restorer_prefers_longest_known_ngram():
    restorer = AccentRestorer.learn(["Quên mật khẩu VNeID", "mất điện thoại", "mật khẩu mới"])
    assert restorer.restore("quen mat khau vneid") == "quên mật khẩu vneid"
    assert restorer.restore("mat dien thoai") == "mất điện thoại"


def test_accent_restorer_keeps_accented_and_unknown_words():
    restorer = AccentRestorer.learn(["mật khẩu"])
    assert restorer.restore("mất mat khau xyz") == "mất mật khẩu xyz"


def test_accent_restorer_expands_abbreviations():
    restorer = AccentRestorer.learn(["mật khẩu"])
    assert restorer.restore("quen mk") == "quen mật khẩu"


def test_accent_restorer_leaves_plain_words_of_an_accented_message():
    restorer = AccentRestorer.learn(["giả mạo", "giả mạo công an", "quốc gia"])
    assert restorer.restore("Cổng dịch vụ công quốc gia") == "cổng dịch vụ công quốc gia"
    assert restorer.restore("cong quoc gia") == "công quốc gia"


def test_accent_restorer_keeps_words_the_base_writes_plain():
    restorer = AccentRestorer.learn(["vneid", "vneid", "quốc gia", "gia đình"])
    assert restorer.restore("gia") == "gia"
