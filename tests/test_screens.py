"""Reading a screenshot (bot/screens): OCR with the real tesseract on the rendered test screens, matching the text to
an entry's app message, spotting private screens, and refusing bad input fast.

The screens in tests/data/screens are drawn by tools/render_screens.py from the knowledge base's `errors`; their
labels are in labels.jsonl. The measured numbers are printed (pytest -s) and written down in docs/app_errors.md.
"""

from __future__ import annotations

import ast
import io
import json
import time
from collections import Counter

import pytest
from PIL import Image

from bot.core.settings import ROOT
from bot.knowledge.loader import load_entries
from bot.knowledge.model import Entry
from bot.screens import ocr
from bot.screens.errors import MIN_MESSAGE, ErrorMatcher, difflib_partial_ratio, normalise
from bot.screens.ocr import OcrFailed, ScreenImageError, open_checked, prepare, read_text
from bot.screens.sensitive import SensitiveKind, sensitive_kind

SCREENS = ROOT / "tests" / "data" / "screens"
LABELS = [json.loads(line) for line in (SCREENS / "labels.jsonl").read_text(encoding="utf-8").splitlines()]


def outcome(text: str, matcher: ErrorMatcher) -> str:
    """What the caller would do with a screen's text, in the labels' terms."""
    kind = sensitive_kind(text)
    if kind:
        return f"sensitive:{kind.value}"
    found = matcher.match(text)
    return found.entry_id if found else "none"


@pytest.fixture(scope="module")
def matcher() -> ErrorMatcher:
    return ErrorMatcher(load_entries(ROOT / "knowledge"))


@pytest.fixture(scope="module")
def outcomes(matcher) -> dict[str, str]:
    """Every test screen read once with the real tesseract (about half a second each)."""
    return {label["file"]: outcome(read_text((SCREENS / label["file"]).read_bytes()), matcher) for label in LABELS}


def entry(eid: str, *errors: str) -> Entry:
    import datetime as dt

    return Entry(id=eid, topic="vneid", title="t", questions=("q",), answer="a", source="https://vneid.gov.vn/",
                 checked=dt.date(2026, 12, 6), errors=errors)


# --- the test set ----------------------------------------------------------------------------------------------------

def test_the_set_is_large_varied_and_small_on_disk():
    kinds = Counter(label["expect"].split(":")[0] if ":" in label["expect"] else
                    "none" if label["expect"] == "none" else "error" for label in LABELS)
    assert len(LABELS) >= 60 and kinds["error"] >= 40 and kinds["sensitive"] >= 10 and kinds["none"] >= 5
    assert {label["file"].rsplit(".", 1)[1] for label in LABELS} == {"png", "jpg"}
    for label in LABELS:
        assert (SCREENS / label["file"]).stat().st_size <= 60_000, label["file"]
    usable = {(eid, message) for _, eid, message in ErrorMatcher(load_entries(ROOT / "knowledge")).messages}
    drawn = {(label["expect"], label["message"]) for label in LABELS if "message" in label}
    assert drawn == usable  # every message the matcher uses is drawn, and only those: re-run the renderer after edits


@pytest.mark.parametrize("label", LABELS, ids=[label["file"] for label in LABELS])
def test_every_screen_gives_its_labelled_outcome(label, outcomes):
    assert outcomes[label["file"]] == label["expect"]


def test_accuracy_on_the_set(outcomes):
    groups: dict[str, list[bool]] = {"error": [], "sensitive": [], "none": []}
    for label in LABELS:
        group = "sensitive" if label["expect"].startswith("sensitive:") else \
            "none" if label["expect"] == "none" else "error"
        groups[group].append(outcomes[label["file"]] == label["expect"])
    false_hits = sum(outcomes[label["file"]] != "none" for label in LABELS if label["expect"] == "none")
    print(f"\nscreens: error screens matched to the right entry {sum(groups['error'])}/{len(groups['error'])}, "
          f"sensitive caught {sum(groups['sensitive'])}/{len(groups['sensitive'])}, "
          f"false hits on unrelated pictures {false_hits}/{len(groups['none'])}")
    assert sum(groups["error"]) >= 0.9 * len(groups["error"])
    assert all(groups["sensitive"]) and false_hits == 0


# --- bad input -------------------------------------------------------------------------------------------------------

def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def huge_png() -> bytes:
    """A real 12000x12000 PNG (1-bit, one colour: a few kB on disk, 144 Mpx once decoded)."""
    return png(Image.new("1", (12000, 12000), 1))


@pytest.mark.parametrize(("make", "kind"), [
    (lambda: b"", "empty"),
    (lambda: "Mã OTP không đúng\n".encode() * 20, "not_image"),
    (lambda: b"%PDF-1.7\n" + b"0" * 500, "not_image"),
    (lambda: png(Image.new("RGB", (400, 800), "white"))[:200], "corrupt"),
    (lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * (ocr.MAX_BYTES + 1), "too_large"),
])
def test_bad_input_is_refused_fast_with_a_typed_error(make, kind):
    data = make()
    started = time.monotonic()
    with pytest.raises(ScreenImageError) as err:
        read_text(data)
    assert err.value.kind == kind and kind in ScreenImageError.KINDS and time.monotonic() - started < 1.0


def test_a_12000_by_12000_image_is_refused_before_decoding(huge_png):
    started = time.monotonic()
    with pytest.raises(ScreenImageError) as err:
        read_text(huge_png)
    assert err.value.kind == "too_large" and "12000x12000" in str(err.value)
    assert time.monotonic() - started < 1.0


def test_tesseract_timeout_and_absence_are_ocr_failures(monkeypatch):
    data = (SCREENS / LABELS[0]["file"]).read_bytes()
    with pytest.raises(OcrFailed, match="did not finish"):
        read_text(data, timeout=0.01)
    monkeypatch.setattr(ocr.pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with pytest.raises(OcrFailed, match="not installed"):
        read_text(data)


def test_prepare_greys_resizes_and_turns_dark_mode_light():
    dark = prepare(open_checked(png(Image.new("RGB", (1440, 3000), (20, 20, 24)))))
    assert dark.mode == "L" and dark.width == ocr.WORK_WIDTH and dark.getpixel((5, 5)) > 200
    small = prepare(open_checked(png(Image.new("RGBA", (300, 600), (255, 255, 255, 0)))))
    assert small.width == ocr.MIN_WIDTH and small.height == 2 * ocr.MIN_WIDTH


# --- matching OCR text to an entry -----------------------------------------------------------------------------------

ENTRIES = [entry("vneid-bao-tri", "Hệ thống đang bảo trì. Vui lòng thử lại sau"),
           entry("vneid-khoa", "Tài khoản bị khóa tạm thời"),
           entry("vneid-khoa-lau", "Tài khoản bị khóa tạm thời do nhập sai mật khẩu quá 5 lần"),
           entry("vneid-ngan", "Lỗi")]


@pytest.mark.parametrize("scorer", [None, difflib_partial_ratio], ids=["default", "difflib"])
@pytest.mark.parametrize(("text", "expected"), [
    ("9:41 VNeID\nThông báo\nHệ thống đang bảo trì.\nVui lòng thử lại sau\nĐóng", "vneid-bao-tri"),
    ("He thông đang bao tri. Vui lòng thủ lai sau", "vneid-bao-tri"),  # OCR lost and swapped marks
    ("Hệ thống đang bảo trl. Vul lòng thừ lại sau", "vneid-bao-tri"),  # i read as l
    ("Thông báo Tài khoản bị khóa tạm thời do nhập sai mật khẩu quá 5 lần OK", "vneid-khoa-lau"),  # longer wins
    ("Tài khoản bị khóa tạm thời", "vneid-khoa"),
    ("Ví giấy tờ Thủ tục hành chính Cá nhân Trang chủ", None),
    ("Hệ thống", None),  # a scrap of a message is not the message
    ("", None),
])
def test_matcher_finds_the_entry_despite_ocr_noise(text, expected, scorer):
    found = ErrorMatcher(ENTRIES, scorer=scorer).match(text)
    assert (found.entry_id if found else None) == expected


def test_matcher_ignores_messages_too_short_to_recognise_and_normalises_like_the_bot():
    assert [m[1] for m in ErrorMatcher(ENTRIES).messages].count("vneid-ngan") == 0
    assert normalise("Lỗi: Mã OTP\nkhông   đúng!") == "loi ma otp khong dung"


def test_difflib_scores_like_rapidfuzz():
    fuzz = pytest.importorskip("rapidfuzz.fuzz")
    pairs = [("tai khoan bi khoa", "thong bao tai khoan bi khoa dong"), ("ma otp khong dung", "ma otp khong dvng"),
             ("he thong dang bao tri", "ca nhan trang chu vi giay to")]
    for short, long in pairs:
        assert abs(difflib_partial_ratio(short, long) - fuzz.partial_ratio(short, long)) < 8


# --- private screens -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "kind"), [
    ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nCĂN CƯỚC\nHọ và tên: NGUYỄN VĂN AN\nNgày sinh: 01/01/1960", "id_card"),
    ("Số định danh cá nhân\n001234567890\nMật khẩu", "id_card"),
    ("Số CCCD: 0791 2345 6789", "id_card"),
    ("NAPAS DEBIT\n9704 1234 5678 9012\nVALID THRU 12/29", "bank_card"),
    ("VISA  4111111111111111", "bank_card"),
    ("VALID THRU 10/28 NGUYEN VAN AN VIETCOMBANK", "bank_card"),
    ("Ma OTP cua ban la 482913. Khong cung cap ma nay cho bat ky ai.", "otp"),
    ("Mã xác nhận đăng nhập thiết bị mới\n5 0 3 8 2 1", "otp"),
    ("Mã xác thực: 7314", "otp"),
    ("Mã xác thực đăng nhập\n\nKhông cung cấp cho ai\n201-416", "otp"),  # split code, a line below its cue
    ("CĂN CƯỚC CÔNG DÂN Số định danh cá nhận: 0140653112956", "id_card"),  # OCR added a digit: still the ID card
    ("NAPAS DEBIT 9704 §334 1671 5046 VAIL,ID THRU) 07/30", "bank_card"),  # digits broken by OCR: the print tells
])
def test_private_screens_are_spotted(text, kind):
    assert sensitive_kind(text) == SensitiveKind(kind)


@pytest.mark.parametrize("text", [
    "Số định danh cá nhân hoặc mật khẩu không đúng",
    "Gửi mã OTP thành công. Không nhận được mã? Gọi tổng đài 1900 0368",
    "Mã OTP không đúng",
    "Mã OTP không đúng. Ngày gửi 12-05-2026",
    "CMT hoặc CCCD đã được đăng ký",
    "Từ 1/7/2025 CQT thực hiện cập nhật số CCCD thay cho MST",
    "Hà Nội hôm nay 28°C, độ ẩm 75%, 14:35",
    "14:42 31%\nThông báo\nGửi mã OTP thành công",  # the status bar's clock and battery are no code
    "Cổng hỗ trợ Vietcombank, VietinBank, BIDV; NAPAS cũng hỗ trợ thanh toán qua VNeID",
    "Số định danh cá nhân là dãy 12 số in trên thẻ căn cước hoặc CCCD, ghi cả họ và tên, ngày sinh",
    "Mã hồ sơ: G22.99-251206-0001 đã được tiếp nhận",
])
def test_ordinary_screens_are_not_private(text):
    assert sensitive_kind(text) is None


def test_every_recorded_message_is_neither_private_nor_ambiguous():
    entries = load_entries(ROOT / "knowledge")
    matcher = ErrorMatcher(entries)
    for e in entries:
        for message in e.errors:
            assert sensitive_kind(message) is None, message
            found = matcher.match(message)
            assert (found and found.entry_id == e.id) or len(normalise(message)) < MIN_MESSAGE, message


def test_a_generic_message_does_not_claim_a_scam_text():
    matcher = ErrorMatcher(load_entries(ROOT / "knowledge"))
    assert matcher.match("Tài khoản bị khóa vì chưa cập nhật sinh trắc học, bấm vào link để mở lại") is None


# --- layering --------------------------------------------------------------------------------------------------------

def test_screens_import_only_the_knowledge_model_and_text_helpers():
    allowed = ("bot.knowledge", "bot.core.text", "bot.screens")
    for path in (ROOT / "bot" / "screens").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith("bot") or name.startswith(allowed), f"{path.name} imports {name}"


def test_reading_is_safe_from_worker_threads():
    from concurrent.futures import ThreadPoolExecutor

    files = [SCREENS / label["file"] for label in LABELS[:2]]
    with ThreadPoolExecutor(2) as pool:
        parallel = list(pool.map(lambda p: read_text(p.read_bytes()), files))
    assert parallel == [read_text(p.read_bytes()) for p in files]


def test_labels_file_lists_every_picture_once():
    on_disk = {p.name for p in SCREENS.iterdir() if p.suffix in (".png", ".jpg")}
    assert sorted(on_disk) == sorted(label["file"] for label in LABELS)
