import logging

from bot.privacy import MaskingFilter, mask, placeholders_in


def test_mask_removes_ids_phones_otps_and_cards():
    text = "cccd 001234567890, sdt 0912 345 678, +84912345678, otp 482913, the 4111 1111 1111 1111"
    masked = mask(text)
    for secret in ("001234567890", "0912 345 678", "84912345678", "482913", "4111 1111 1111 1111"):
        assert secret not in masked
    assert "[số định danh]" in masked and "[mã số]" in masked


def test_mask_keeps_years_and_short_numbers():
    assert mask("từ 1/7/2025, mức 2, 30 ngày") == "từ 1/7/2025, mức 2, 30 ngày"


def test_logging_filter_masks_arguments(caplog):
    logger = logging.getLogger("test.privacy")
    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="test.privacy"):
        logger.info("user said %s", "ma otp la 123456")
    assert "123456" not in caplog.text


def test_mask_keeps_hashes_and_form_codes():
    assert mask("index ace98542f2e9cfe0, mẫu 01/ĐKTĐ-HĐĐT") == "index ace98542f2e9cfe0, mẫu 01/ĐKTĐ-HĐĐT"


def test_mask_catches_codes_after_punctuation():
    assert "482913" not in mask("otp:482913") and "0912345678" not in mask("sdt=0912345678")


def test_mask_catches_long_numbers_glued_to_letters():
    assert "0912345678" not in mask("sdt0912345678") and "001234567890" not in mask("cccd001234567890")


def test_mask_keeps_public_hotlines_but_not_numbers_that_contain_one():
    assert mask("gọi 1900 0368 hoặc 19000368, 1800 1234") == "gọi 1900 0368 hoặc 19000368, 1800 1234"
    assert mask("the 4111 1900 0368 1111") == "the [số thẻ]"


def test_mask_covers_spaced_ids_long_cards_and_account_numbers():
    assert mask("cccd 0123 4567 8912") == "cccd [số định danh]"
    assert mask("the 9704 1234 5678 9012 345") == "the [số thẻ]"
    assert mask("stk 1903456789012, bhyt DN4797932561234") == "stk [dãy số], bhyt DN[dãy số]"


def test_placeholders_in_names_what_was_masked():
    assert placeholders_in(mask("otp 573019, sdt 0912345678")) == ["[số điện thoại]", "[mã số]"]
    assert placeholders_in("quên mật khẩu") == []


def test_mask_keeps_document_numbers():
    assert mask("Quyết định 2733/QĐ-BYT, công văn 7586/BYT-KCB") == "Quyết định 2733/QĐ-BYT, công văn 7586/BYT-KCB"
