"""Finding the ask inside long, story-like messages (bot/core/asking.py)."""

import pytest

from bot.core.asking import find_ask, strip_fillers


def test_short_message_is_its_own_ask():
    found = find_ask("quen mk vneid")
    assert found.ask == "quen mk vneid" and not found.long


@pytest.mark.parametrize(
    "text, dropped",
    [
        ("Cho tôi hỏi việc thông báo lưu trú hiện nay được quy định thế nào?", ["cho", "hiện nay", "quy định"]),
        ("cho em hoi the bhyt het han thi sao a, cam on ad", ["cho em hoi", "cam on"]),
        ("Cháu ơi, quên mật khẩu VNeID thì làm sao ạ", ["Cháu ơi", "ạ"]),
    ],
)
def test_politeness_and_legal_boilerplate_weigh_nothing(text, dropped):
    cleaned = strip_fillers(text)
    for phrase in dropped:
        assert phrase not in cleaned
    assert cleaned.split()  # the topic words stay


def test_the_story_before_the_ask_is_left_out_of_the_ask():
    text = ("Bà năm nay 70 tuổi, hôm trước con trai đưa lên công an xã làm định danh mức 2, dùng điện thoại "
            "của con. Giờ bà đổi máy mới rồi. Cho bà hỏi giờ quên mật khẩu thì làm thế nào ạ?")
    found = find_ask(text)
    assert found.long
    assert "quên mật khẩu" in found.ask and "công an xã" not in found.ask
    assert "công an xã" in found.cleaned  # the whole message is still searched, with less weight


def test_every_asking_clause_is_kept_and_numbers_are_not_split():
    found = find_ask("Bằng B2 của tôi hết hạn được hơn 1 tháng rồi, giờ đổi có phải thi lại không? "
                     "Đổi qua mạng thì cần chuẩn bị những gì?")
    assert "thi lại" in found.ask and "chuẩn bị" in found.ask
    found = find_ask("Tôi bán tạp hóa ở chợ đã lâu năm, khách toàn mua lẻ. Bán hàng hóa mỗi lần dưới "
                     "200.000 đồng thì có phải xuất hóa đơn không?")
    assert "200.000 đồng" in found.ask and "tạp hóa" not in found.ask


def test_unaccented_chat_story_finds_its_ask():
    found = find_ask("chao ad, minh o xa nha 2 nam roi nen ko ve que duoc. the bhyt het han thi gia han o dau vay")
    assert "gia han o dau" in found.ask and "chao ad" not in found.cleaned


def test_split_asks_finds_two_joined_asks_and_leaves_one_ask_alone():
    from bot.core.asking import split_asks

    assert split_asks("đổi số điện thoại và quên mật khẩu thì làm sao") == [
        "đổi số điện thoại", "quên mật khẩu thì làm sao"]
    assert split_asks("doi sdt va quen mk vneid") == ["doi sdt", "quen mk vneid"]
    assert split_asks("quên mật khẩu vneid") == []
    assert split_asks("bố và mẹ") == []  # one-word parts are not asks
