"""Importers: real office files (CSV, XLSX, DOCX, PDF, Markdown, seed YAML) built here -> valid entries,
and every kind of broken file -> ImportFailed naming the place, with nothing returned."""

from __future__ import annotations

import csv
import datetime as dt
import unicodedata
from pathlib import Path

import pytest
import yaml

from bot.core.settings import ROOT
from bot.knowledge.importers import ImportDefaults, ImportFailed, import_file, read_entries
from bot.knowledge.loader import check_entry
from bot.knowledge.model import MAX_ANSWER_CHARS, Entry, render_answer, topic_of

DAY = dt.date(2026, 11, 20)
DEFAULTS = ImportDefaults(topic="vneid", source="https://vneid.gov.vn/", checked=DAY)
ANSWER = "Bạn lấy lại mật khẩu ngay trên ứng dụng VNeID:"


def failure(path: Path, defaults: ImportDefaults = DEFAULTS) -> list[str]:
    with pytest.raises(ImportFailed) as err:
        read_entries(path, defaults)
    return err.value.problems


def valid(data: list[dict]) -> list[Entry]:
    """What read_entries returns is what the store will save: each must pass check_entry as it is."""
    entries = []
    for raw in data:
        entry, problems = check_entry(raw, topic_of(raw["id"]))
        assert problems == [], (raw, problems)
        assert Entry.from_dict(raw) == entry
        assert len(render_answer(entry)) <= MAX_ANSWER_CHARS
        entries.append(entry)
    return entries


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


OFFICE_ROWS = [
    ["DANH MỤC CÂU HỎI THƯỜNG GẶP - UBND XÃ AN BÌNH"],  # a title row above the header, as offices write
    [],
    ["STT", "MÃ", "chu de", "Tiêu đề", "Câu hỏi", "Trả lời", "Các bước", "Lưu ý", "Nguồn", "Ngày cập nhật:",
     "Liên quan"],
    [1, "vneid-quen-mat-khau-xa", "VNeID", "Quên mật khẩu VNeID",
     "Quên mật khẩu VNeID phải làm sao?\nquen mk vneid | lay lai mat khau dinh danh",
     ANSWER, "1. Bấm \"Quên mật khẩu\".\n2) Nhập số định danh và số điện thoại.\nBước 3: Nhập mã OTP.",
     "Nhớ mật khẩu mới, đừng chỉ dùng vân tay.", "https://vneid.gov.vn/", "20/11/2026", "vneid-kich-hoat"],
    ["", "", "", "", "", "", "", "", "", "", ""],
    [3, "", "Dịch vụ công", "", "Nộp hồ sơ trực tuyến ở đâu?\nnop ho so online", "Vào dichvucong.gov.vn.", "", "",
     "https://dichvucong.gov.vn/", "2026-11-21", "vneid-quen-mat-khau-xa, dich-vu-cong-la-gi"],
]


@pytest.mark.parametrize("encoding,delimiter", [("utf-8", ","), ("utf-8-sig", ","), ("utf-8-sig", ";")])
def test_office_csv_with_vietnamese_headers_round_trips(tmp_path, encoding, delimiter):
    path = write_csv(tmp_path / "hoi-dap.csv", OFFICE_ROWS, encoding, delimiter)
    first, second = valid(read_entries(path, ImportDefaults()))
    assert first.id == "vneid-quen-mat-khau-xa" and first.topic == "vneid"
    assert first.questions == ("Quên mật khẩu VNeID phải làm sao?", "quen mk vneid", "lay lai mat khau dinh danh")
    assert first.steps == ('Bấm "Quên mật khẩu".', "Nhập số định danh và số điện thoại.", "Nhập mã OTP.")
    assert first.checked == DAY and first.related == ("vneid-kich-hoat",)
    # no id: a slug of the title, which itself defaults to the first question; topic from the sheet
    assert second.id == "dich-vu-cong-nop-ho-so-truc-tuyen-o-dau" and second.title == "Nộp hồ sơ trực tuyến ở đâu?"
    assert second.related == ("vneid-quen-mat-khau-xa", "dich-vu-cong-la-gi")
    assert second.checked == dt.date(2026, 11, 21)


def test_english_headers_take_the_defaults_and_make_unique_ids(tmp_path):
    rows = [["questions", "answer", "note", "helper_notes"],
            ["Đăng ký tài khoản mức 2 ở đâu?", "Tại công an xã.", "", "Nhắc mang căn cước gắn chip | Kiểm tra SĐT"],
            ["Đăng ký tài khoản mức 2 ở đâu?", "Ở nơi làm căn cước.", "Không ai làm thay được.", ""]]
    path = write_csv(tmp_path / "faq.csv", rows)
    defaults = ImportDefaults(topic="vneid", source="https://vneid.gov.vn/", checked=DAY, id_prefix="vneid-xa-a")
    first, second = valid(read_entries(path, defaults))
    assert first.id == "vneid-xa-a-dang-ky-tai-khoan-muc-2-o-dau"
    assert second.id == "vneid-xa-a-dang-ky-tai-khoan-muc-2-o-dau-2"
    assert first.source == "https://vneid.gov.vn/" and first.checked == DAY
    assert first.helper_notes == ("Nhắc mang căn cước gắn chip", "Kiểm tra SĐT")
    assert second.note == "Không ai làm thay được."


def test_the_apps_error_messages_column_becomes_errors(tmp_path):
    rows = [["Câu hỏi", "Trả lời", "Thông báo lỗi"],
            ["Không nhận được mã OTP VNeID", "Kiểm tra sim.", "Mã OTP không đúng\nMã OTP đã hết hạn"],
            ["Quên mật khẩu VNeID", "Chọn Quên mật khẩu.", ""]]
    path = write_csv(tmp_path / "loi.csv", rows)
    defaults = ImportDefaults(topic="vneid", source="https://vneid.gov.vn/", checked=DAY)
    first, second = valid(read_entries(path, defaults))
    assert first.errors == ("Mã OTP không đúng", "Mã OTP đã hết hạn") and second.errors == ()


def test_xlsx_reads_real_excel_dates_and_a_named_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "Ghi chú"
    book.active.append(["Bảng này chỉ là ghi chú"])
    sheet = book.create_sheet("FAQ")
    sheet.append(["Câu hỏi", "Trả lời", "Các bước", "Nguồn", "Ngày kiểm tra"])
    sheet.append(["Cách đổi mật khẩu VNeID\ndoi mat khau vneid", "Trong ứng dụng VNeID:",
                  "Vào Cá nhân, chọn Đổi mật khẩu.\nNhập mật khẩu cũ và mới.", "https://vneid.gov.vn/",
                  dt.datetime(2026, 11, 20)])
    sheet.append([None, None, None, None, None])
    sheet.append(["Passcode là gì", "Mã 6 số để xác nhận thao tác.", None, "https://vneid.gov.vn/", 46345])
    path = tmp_path / "so-tay.xlsx"
    book.save(path)
    first, second = valid(read_entries(path, ImportDefaults(topic="vneid", sheet="FAQ")))
    assert first.checked == DAY and first.steps == ("Vào Cá nhân, chọn Đổi mật khẩu.", "Nhập mật khẩu cũ và mới.")
    assert first.id == "vneid-cach-doi-mat-khau-vneid"
    assert second.checked == dt.date(2026, 11, 19)  # a date cell stored as its serial number
    problems = failure(path, ImportDefaults(topic="vneid"))  # first sheet: no such columns
    assert len(problems) == 2
    assert problems[0].startswith("so-tay.xlsx dòng 1: không hiểu cột 'Bảng này chỉ là ghi chú'; các cột dùng được: Mã")
    assert problems[1] == "so-tay.xlsx dòng 1: bảng cần ít nhất cột 'Trả lời' và cột 'Câu hỏi' hoặc 'Tiêu đề'"
    assert "không có trang tính 'Khác'" in failure(path, ImportDefaults(topic="vneid", sheet="Khác"))[0]


def test_sample_office_sheet_imports_cleanly():
    imported = import_file(ROOT / "docs" / "examples" / "faq-mau.csv", ImportDefaults())
    entries = valid([e.to_dict() for e in imported.entries])
    assert len(entries) >= 3 and imported.advice == []
    assert {e.topic for e in entries} >= {"vneid", "dich-vu-cong", "to-cong-nghe-so"}
    assert all(e.source.startswith(("http://", "https://")) and ".gov.vn" in e.source for e in entries)


# --- broken sheets ------------------------------------------------------------------------------

HEADER = ["Mã", "Câu hỏi", "Trả lời", "Nguồn", "Ngày kiểm tra"]


def test_every_bad_row_is_reported_with_the_row_number_the_sheet_shows(tmp_path):
    rows = [HEADER,
            ["vneid-a", "Câu một\ncau mot khac", "Trả lời.", "https://vneid.gov.vn/", "2026-11-20"],  # two lines
            ["vneid-b", "Câu hai", "Trả lời.", "", "2026-11-20"],  # no source, no default
            ["vneid-c", "Câu ba", "Trả lời.", "https://vneid.gov.vn/", "31/02/2026"],  # no such day
            ["vneid-a", "Câu bốn", "Trả lời.", "https://vneid.gov.vn/", "2026-11-20"],  # duplicate id
            ["vneid-d", "Câu năm", "Trả lời.", "https://vneid.gov.vn/", "2026-11-20", "lạc cột"]]
    path = write_csv(tmp_path / "tệp.csv", rows)
    assert failure(path, ImportDefaults()) == [
        "tệp.csv dòng 3: trường 'source' (nguồn): còn trống, phải điền",
        "tệp.csv dòng 4: trường 'checked' (ngày kiểm tra): phải là ngày dạng NĂM-THÁNG-NGÀY (2026-11-20), "
        "đang là '31/02/2026'",
        "tệp.csv dòng 5: trường 'id' (mã mục): mã 'vneid-a' trùng với dòng 2",
        "tệp.csv dòng 6: trường 'entry' (mục): có dữ liệu ở cột không có tên; đặt tên cột hoặc xóa dữ liệu đó",
    ]


def test_unknown_topics_columns_and_missing_defaults_are_named(tmp_path):
    path = write_csv(tmp_path / "a.csv", [["Chủ đề", "Câu hỏi", "Trả lời", "Nguồn", "Ngày kiểm tra"],
                                          ["Thuế", "Câu?", "Đáp.", "https://gdt.gov.vn/", "2026-11-20"],
                                          ["", "Câu khác?", "Đáp.", "https://gdt.gov.vn/", "2026-11-20"]])
    problems = failure(path, ImportDefaults())
    assert problems[0].startswith(
        "a.csv dòng 2: trường 'topic' (chủ đề): không có chủ đề 'Thuế'; chọn một trong: vneid")
    assert problems[1] == ("a.csv dòng 3: trường 'topic' (chủ đề): chưa rõ chủ đề: điền cột 'Chủ đề' hoặc chọn chủ "
                           "đề mặc định khi nhập")
    path = write_csv(tmp_path / "b.csv", [["Câu hỏi", "Trả lời", "Hạn chót"], ["Câu?", "Đáp.", "mai"]])
    problems = failure(path, ImportDefaults(topic="vneid"))
    assert problems[0].startswith("b.csv dòng 1: không hiểu cột 'Hạn chót'; các cột dùng được: Mã, Chủ đề")
    path = write_csv(tmp_path / "c.csv", [["Câu hỏi", "Trả lời"], ["Câu?", "Đáp."]])
    assert failure(path, ImportDefaults(topic="vneid")) == [
        "c.csv: không có cột 'Nguồn' và chưa truyền giá trị mặc định (source)",
        "c.csv: không có cột 'Ngày kiểm tra' và chưa truyền giá trị mặc định (checked)"]


def _cp1258(text: str) -> bytes:
    """Vietnamese as Windows-1258 stores it: base letters precomposed, tone marks combining."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        try:
            out.append(char.encode("cp1258"))
        except UnicodeEncodeError:
            split = unicodedata.normalize("NFD", char)
            tones = "".join(c for c in split if c in "\u0300\u0301\u0303\u0309\u0323")
            base = unicodedata.normalize("NFC", "".join(c for c in split if c not in tones))
            out.append((base + tones).encode("cp1258"))
    return b"".join(out)


@pytest.mark.parametrize("encoding,line", [("cp1258", 1), ("latin-1", 2)])
def test_csv_not_in_utf8_gets_a_clear_error(tmp_path, encoding, line):
    path = tmp_path / "cu.csv"
    if encoding == "cp1258":
        path.write_bytes(_cp1258("Câu hỏi,Trả lời\nQuên mật khẩu,Đặt lại.\n"))
    else:
        path.write_bytes("Cau hoi,Tra loi\nVé máy bay?,Không rõ.\n".encode("latin-1"))
    (problem,) = failure(path)
    assert problem.startswith(f"cu.csv dòng {line}: tệp không lưu theo mã UTF-8") and "CSV UTF-8" in problem


@pytest.mark.parametrize("name", ["trong.csv", "trong.xlsx", "trong.docx", "trong.pdf", "trong.md", "trong.yml"])
def test_an_empty_file_is_refused(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    assert failure(tmp_path / name) == [f"{name}: tệp trống"]


def test_header_only_and_blank_sheets_have_nothing_to_import(tmp_path):
    assert failure(write_csv(tmp_path / "h.csv", [HEADER])) == ["h.csv: không có mục nào để nhập"]
    assert failure(write_csv(tmp_path / "b.csv", [[""], ["", ""]])) == ["b.csv: tệp trống"]


def test_binary_junk_and_wrong_types_are_refused(tmp_path):
    junk = tmp_path / "rac.csv"
    junk.write_bytes(bytes(range(256)) * 4)
    assert "không phải tệp CSV dạng chữ" in failure(junk)[0]
    other = tmp_path / "ghi-chu.txt"
    other.write_text("xin chào", encoding="utf-8")
    assert failure(other)[0].startswith("ghi-chu.txt: không nhận loại tệp '.txt'; dùng một trong: .csv")
    old = tmp_path / "cu.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    assert failure(old) == ["cu.xls: định dạng cũ .xls chưa đọc được; hãy mở và lưu lại dạng .xlsx"]
    assert failure(tmp_path / "khong-co.csv") == [f"khong-co.csv: không tìm thấy tệp {tmp_path / 'khong-co.csv'}"]


def test_truncated_or_fake_xlsx_is_refused(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append(["vneid-a", "Câu?", "Đáp.", "https://vneid.gov.vn/", "2026-11-20"])
    whole = tmp_path / "du.xlsx"
    book.save(whole)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert failure(cut) == ["cut.xlsx: không phải tệp Excel .xlsx hợp lệ (tệp hỏng, bị cắt, hoặc là .xls cũ: hãy mở "
                            "bằng Excel và lưu lại dạng .xlsx)"]
    fake = tmp_path / "fake.xlsx"
    write_csv(fake, [HEADER])
    assert failure(fake)[0].startswith("fake.xlsx: không phải tệp Excel .xlsx hợp lệ")
    as_csv = tmp_path / "nham.csv"
    as_csv.write_bytes(whole.read_bytes())
    assert failure(as_csv) == ["nham.csv: đây là bảng Excel (.xlsx) mang đuôi .csv; hãy đổi đuôi thành .xlsx"]


# --- documents ----------------------------------------------------------------------------------

LONG = " ".join(f"Câu giải thích thứ {i} nói rõ thêm một chi tiết về thủ tục cho người dân dễ làm theo."
                for i in range(30))

MARKDOWN = f"""Tài liệu do bộ phận một cửa soạn. Cập nhật hằng quý.

# Sổ tay của xã

## Kích hoạt tài khoản VNeID

Khi có tin nhắn báo đã duyệt, bạn kích hoạt trên [trang VNeID](https://vneid.gov.vn/):

1. Mở ứng dụng, chọn **Kích hoạt**.
2. Nhập số định danh và số điện thoại.
   - Dùng số đã đăng ký.
3. Nhập mã OTP.

Không có điện thoại thông minh? Dùng máy tính.

## Giấy tờ cần mang

- Căn cước gắn chip
- Điện thoại có số đã đăng ký

## Giải thích dài

{LONG}
"""


def test_markdown_headings_become_entries_with_steps_notes_and_parts(tmp_path):
    path = tmp_path / "so-tay.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    imported = import_file(path, DEFAULTS)
    entries = valid([e.to_dict() for e in imported.entries])
    by_title = {e.title: e for e in entries}
    intro = entries[0]  # text above the first heading: titled by its first sentence
    assert intro.title == "Tài liệu do bộ phận một cửa soạn" and intro.answer.endswith("Cập nhật hằng quý.")
    assert "Sổ tay của xã" not in by_title  # a heading with nothing under it is no entry
    activate = by_title["Kích hoạt tài khoản VNeID"]
    assert activate.questions == ("Kích hoạt tài khoản VNeID",)
    assert activate.answer == ("Khi có tin nhắn báo đã duyệt, bạn kích hoạt trên trang VNeID "
                               "(https://vneid.gov.vn/):")
    assert activate.steps == ("Mở ứng dụng, chọn Kích hoạt.",
                              "Nhập số định danh và số điện thoại.; Dùng số đã đăng ký.",
                              "Nhập mã OTP.")
    assert activate.note == "Không có điện thoại thông minh? Dùng máy tính."
    assert by_title["Giấy tờ cần mang"].answer == "- Căn cước gắn chip\n- Điện thoại có số đã đăng ký"
    parts = [e for e in entries if e.title.startswith("Giải thích dài")]
    assert len(parts) >= 3 and parts[1].title == "Giải thích dài (phần 2)"
    assert parts[0].related == (parts[1].id,) and parts[1].related == (parts[0].id, parts[2].id)
    assert " ".join(p.answer for p in parts) == LONG  # nothing lost or repeated across the cut
    assert imported.advice[1].startswith("so-tay.md dòng 5: trường 'questions' (câu hỏi): mới có 1 cách hỏi")


def test_documents_need_the_topic_source_and_date_passed(tmp_path):
    path = tmp_path / "so-tay.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    assert failure(path, ImportDefaults()) == [
        "so-tay.md: cần chọn chủ đề (topic), một trong: "
        "vneid, suc-khoe, hoa-don, dich-vu-cong, to-cong-nghe-so, an-toan",
        "so-tay.md: tài liệu không ghi nguồn cho từng đoạn: cần truyền nguồn chính thức (source), ví dụ "
        "https://dichvucong.gov.vn/",
        "so-tay.md: cần truyền ngày kiểm tra thông tin (checked), dạng 2026-11-20",
    ]
    bad = ImportDefaults(topic="vneid", source="vneid.gov.vn", checked=DAY, id_prefix="hoa-don-xa")
    problems = failure(path, bad)
    assert problems[0] == "so-tay.md: tiền tố mã 'hoa-don-xa' không thuộc chủ đề 'vneid'"
    assert problems[1].startswith("so-tay.md: giá trị mặc định: trường 'source' (nguồn): phải là địa chỉ")


def _docx(path: Path, styled: bool = True) -> Path:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    if styled:
        document.add_heading("Hướng dẫn của xã", level=0)
        document.add_heading("Đăng nhập Cổng Dịch vụ công", level=1)
    else:
        document.add_paragraph().add_run("Đăng nhập Cổng Dịch vụ công").bold = True
    document.add_paragraph("Dùng ứng dụng VNeID mức 2 để quét mã:")
    document.add_paragraph("Bấm Đăng nhập trên cổng.", style="List Number")
    document.add_paragraph("Mở VNeID, quét mã QR.", style="List Number")
    document.add_paragraph("")
    document.add_paragraph("Lần đầu phải cho phép đăng nhập web.")
    if styled:
        document.add_heading("Tra cứu hồ sơ", level=2)
    else:
        document.add_paragraph().add_run("Tra cứu hồ sơ").bold = True
    document.add_paragraph("Vào mục Dịch vụ công của tôi.")
    document.add_paragraph("1. Tìm theo mã hồ sơ.")
    document.add_paragraph("2. Xem chi tiết.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Tổng đài", "1900 0368"
    document.save(path)
    return path


@pytest.mark.parametrize("styled", [True, False])
def test_docx_heading_styles_or_bold_lines_start_entries(tmp_path, styled):
    first, second = valid(read_entries(_docx(tmp_path / "huong-dan.docx", styled), DEFAULTS))
    assert first.title == "Đăng nhập Cổng Dịch vụ công" and first.answer == "Dùng ứng dụng VNeID mức 2 để quét mã:"
    assert first.steps == ("Bấm Đăng nhập trên cổng.", "Mở VNeID, quét mã QR.")
    assert first.note == "Lần đầu phải cho phép đăng nhập web."
    assert second.steps == ("Tìm theo mã hồ sơ.", "Xem chi tiết.") and second.note == "- Tổng đài — 1900 0368"


def test_docx_problems_name_the_paragraph(tmp_path):
    path = _docx(tmp_path / "huong-dan.docx")
    advice = import_file(path, DEFAULTS).advice
    assert [a.split(":")[0] for a in advice] == ["huong-dan.docx đoạn 2", "huong-dan.docx đoạn 7"]


def test_not_a_docx_and_old_doc_are_refused(tmp_path):
    path = tmp_path / "hong.docx"
    path.write_text("đây không phải tệp Word", encoding="utf-8")
    assert failure(path) == ["hong.docx: không phải tệp Word .docx hợp lệ (tệp hỏng, bị cắt, hoặc là .doc cũ: "
                             "hãy mở bằng Word và lưu lại dạng .docx)"]
    xlsx_inside = tmp_path / "nham.docx"
    openpyxl = pytest.importorskip("openpyxl")
    openpyxl.Workbook().save(xlsx_inside)
    assert failure(xlsx_inside)[0].startswith("nham.docx: không mở được tệp Word")


def _pdf(path: Path, pages: list[list[tuple[str, float] | None]]) -> Path:
    """A real multi-page PDF with text (TrueType fonts, as office exports have); None is a paragraph gap."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(path) as pdf:
        for lines in pages:
            figure = plt.figure(figsize=(8.27, 11.69))
            y = 60.0
            for line in lines:
                if line is None:
                    y += 11
                    continue
                text, size = line
                figure.text(0.08, 1 - y / 842, text, fontsize=size, va="top")
                y += size * 1.4
            pdf.savefig(figure)
            plt.close(figure)
    return path


PDF_PAGES = [
    [("Kích hoạt tài khoản VNeID", 16), None, ("Khi có tin nhắn báo hồ sơ đã được duyệt, bạn kích hoạt", 11),
     ("trên ứng dụng VNeID theo các bước sau.", 11), None, ("1. Mở VNeID, chọn Kích hoạt tài khoản.", 11),
     ("2. Nhập số định danh và số điện thoại.", 11), None, ("Không có điện thoại thông minh? Dùng máy tính.", 11),
     ("Trang 1", 9)],
    [("Quên mật khẩu", 16), None, ("Bấm Quên mật khẩu ở màn hình đăng nhập rồi làm theo.", 11), ("Trang 2", 9)],
]


def test_pdf_headings_by_font_size_page_by_page(tmp_path):
    path = _pdf(tmp_path / "so-tay.pdf", PDF_PAGES)
    imported = import_file(path, DEFAULTS)
    first, second = valid([e.to_dict() for e in imported.entries])
    assert first.title == "Kích hoạt tài khoản VNeID"
    assert first.answer == ("Khi có tin nhắn báo hồ sơ đã được duyệt, "
                            "bạn kích hoạt trên ứng dụng VNeID theo các bước sau.")
    assert first.steps == ("Mở VNeID, chọn Kích hoạt tài khoản.", "Nhập số định danh và số điện thoại.")
    assert first.note == "Không có điện thoại thông minh? Dùng máy tính."
    assert second.title == "Quên mật khẩu" and second.answer == "Bấm Quên mật khẩu ở màn hình đăng nhập rồi làm theo."
    assert [a.split(":")[0] for a in imported.advice] == ["so-tay.pdf trang 1", "so-tay.pdf trang 2"]


def test_pdf_without_headings_splits_at_paragraphs(tmp_path):
    pages = [[("Tổ công nghệ số đến từng nhà. Tổ hướng dẫn cài VNeID.", 11), None,
              ("Muốn được giúp, hãy gọi trưởng thôn. Tổ sẽ hẹn giờ đến:", 11), ("1. Sáng thứ bảy.", 11),
              ("2. Chiều chủ nhật.", 11)]]
    first, second = valid(read_entries(_pdf(tmp_path / "to-cns.pdf", pages), DEFAULTS))
    assert first.title == "Tổ công nghệ số đến từng nhà" and first.answer.endswith("Tổ hướng dẫn cài VNeID.")
    assert second.title == "Muốn được giúp, hãy gọi trưởng thôn"
    assert second.steps == ("Sáng thứ bảy.", "Chiều chủ nhật.")


def test_broken_encrypted_and_textless_pdfs_are_refused(tmp_path):
    good = _pdf(tmp_path / "good.pdf", PDF_PAGES)
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(good.read_bytes()[:400])
    (problem,) = failure(cut)
    assert problem.startswith("cut.pdf: ") and ("không mở được tệp PDF" in problem or "không có chữ" in problem)
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    assert failure(junk)[0].startswith("junk.pdf: ")
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(good))
    writer.encrypt("mat-khau", algorithm="RC4-128")
    locked = tmp_path / "locked.pdf"
    writer.write(locked)
    assert failure(locked) == ["locked.pdf: tệp PDF có mật khẩu; hãy lưu một bản không đặt mật khẩu rồi nhập lại"]
    blank = PdfWriter()
    blank.add_blank_page(595, 842)
    scanned = tmp_path / "scan.pdf"
    blank.write(scanned)
    assert failure(scanned) == ["scan.pdf: không có chữ nào đọc được (có thể là bản scan); cần bản PDF có chữ, "
                                "hoặc tệp Word"]


# --- seed format --------------------------------------------------------------------------------

def test_seed_yaml_imports_and_duplicate_ids_fail(tmp_path):
    raw = {"id": "vneid-a", "title": "A", "questions": ["a?"], "answer": "A.", "source": "https://vneid.gov.vn/",
           "checked": "2026-11-20"}
    path = tmp_path / "vneid.yml"
    path.write_text(yaml.safe_dump({"topic": "vneid", "entries": [raw]}, allow_unicode=True), encoding="utf-8")
    (entry,) = valid(read_entries(path, ImportDefaults()))
    assert entry.id == "vneid-a"
    path.write_text(yaml.safe_dump({"topic": "vneid", "entries": [raw, raw]}, allow_unicode=True), encoding="utf-8")
    assert failure(path) == ["vneid.yml (id vneid-a): trường 'id' (mã mục): trùng với một mục khác trong tệp"]
