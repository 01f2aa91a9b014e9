from pathlib import Path

import pytest
import yaml

from bot.core.settings import ROOT
from bot.knowledge.loader import MAX_ERROR_CHARS, KnowledgeError, advice, load_entries
from bot.knowledge.model import MAX_ANSWER_CHARS, Entry, render_answer
from bot.knowledge.validate import main as validate_main

GOOD = {
    "id": "vneid-test",
    "title": "Tiêu đề",
    "questions": ["câu một", "cau hai", "câu ba", "cau bon"],
    "answer": "Trả lời.",
    "steps": ["Bước đầu.", "Bước sau."],
    "source": "https://vneid.gov.vn/",
    "checked": "2026-11-20",
}


def write(folder: Path, entries: list[dict], topic: str = "vneid", name: str = "a.yml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump({"topic": topic, "entries": entries}, allow_unicode=True), encoding="utf-8")
    return path


def problems(folder: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as err:
        load_entries(folder)
    return err.value.problems


def test_good_entry_loads_and_renders_numbered_steps_and_source(tmp_path):
    write(tmp_path, [GOOD])
    (entry,) = load_entries(tmp_path)
    text = render_answer(entry)
    assert "1. Bước đầu.\n2. Bước sau." in text
    assert text.endswith("Nguồn: https://vneid.gov.vn/ (cập nhật 20/11/2026)")


@pytest.mark.parametrize("field", ["id", "title", "questions", "answer", "source", "checked"])
def test_missing_field_is_named_with_file(tmp_path, field):
    path = write(tmp_path, [{k: v for k, v in GOOD.items() if k != field}])
    (problem,) = problems(tmp_path)
    assert str(path) in problem and f"'{field}'" in problem


@pytest.mark.parametrize("url", ["vneid.gov.vn", "ftp://vneid.gov.vn", "https://", "https://a b.vn", 42])
def test_bad_url_is_rejected(tmp_path, url):
    write(tmp_path, [{**GOOD, "source": url}])
    assert any("'source'" in p for p in problems(tmp_path))


def test_bad_date_is_rejected(tmp_path):
    write(tmp_path, [{**GOOD, "checked": "2026-13-45"}])
    assert any("'checked'" in p for p in problems(tmp_path))


def test_duplicate_id_across_files_names_both_files(tmp_path):
    write(tmp_path, [GOOD], name="a.yml")
    write(tmp_path, [GOOD], name="b.yml")
    (problem,) = problems(tmp_path)
    assert "b.yml" in problem and "a.yml" in problem and "trùng" in problem


def test_too_few_distinct_questions_is_advice_not_an_error(tmp_path):
    write(tmp_path, [{**GOOD, "questions": ["câu một", "cau mot", "câu hai", "cau hai"]}])
    (entry,) = load_entries(tmp_path)
    (tip,) = advice(entry)
    assert tip.field == "questions" and "2 cách hỏi" in tip.message
    write(tmp_path, [{**GOOD, "questions": []}])
    assert any("'questions'" in p for p in problems(tmp_path))


def test_id_must_match_topic_and_related_must_exist(tmp_path):
    write(tmp_path, [{**GOOD, "id": "hoa-don-x", "related": ["vneid-none"]}])
    assert any("phải bắt đầu bằng chủ đề" in p for p in problems(tmp_path))
    write(tmp_path, [{**GOOD, "related": ["vneid-none"]}])
    assert any("không có mục 'vneid-none'" in p for p in problems(tmp_path))


def test_overlong_answer_is_rejected(tmp_path):
    write(tmp_path, [{**GOOD, "answer": "x" * MAX_ANSWER_CHARS}])
    assert any("ký tự" in p for p in problems(tmp_path))


def test_unknown_topic_and_broken_yaml(tmp_path):
    write(tmp_path, [GOOD], topic="weather")
    (tmp_path / "z.yml").write_text("entries: [unclosed", encoding="utf-8")
    found = problems(tmp_path)
    assert any("'topic'" in p for p in found) and any("z.yml: YAML không hợp lệ" in p for p in found)


def test_cli_exit_codes(tmp_path, capsys):
    write(tmp_path, [GOOD])
    assert validate_main([str(tmp_path)]) == 0
    write(tmp_path, [{**GOOD, "source": "nope"}])
    assert validate_main([str(tmp_path)]) == 1
    assert "'source'" in capsys.readouterr().err


def test_shipped_knowledge_base_is_valid_and_complete():
    entries = load_entries(ROOT / "knowledge")
    assert len(entries) >= 300
    topics = {e.topic for e in entries}
    assert topics == {"vneid", "suc-khoe", "hoa-don", "dich-vu-cong", "to-cong-nghe-so", "an-toan"}
    for e in entries:
        assert len(render_answer(e)) <= MAX_ANSWER_CHARS


def test_unverified_entry_says_so_in_every_answer_and_review_by_is_a_date(tmp_path):
    write(tmp_path, [{**GOOD, "unverified": True, "review_by": "2027-06-30"}])
    (entry,) = load_entries(tmp_path)
    assert entry.unverified and entry.review_by.isoformat() == "2027-06-30"
    assert "chưa được đối chiếu với trang chính thức" in render_answer(entry)
    assert entry.to_dict()["unverified"] is True and entry.to_dict()["review_by"] == "2027-06-30"
    write(tmp_path, [{**GOOD, "review_by": "sớm"}])
    assert any("'review_by'" in p for p in problems(tmp_path))
    write(tmp_path, [{**GOOD, "unverified": "có"}])
    assert any("'unverified'" in p for p in problems(tmp_path))


def test_shipped_base_has_300_sourced_entries_with_unique_titles():
    entries = load_entries(ROOT / "knowledge")
    assert len(entries) >= 300
    titles = [e.title for e in entries]
    assert len(set(titles)) == len(titles)  # graders and the REST bench tell answers apart by title


def test_entries_due_for_review():
    import datetime as dt

    from bot.knowledge.staleness import due_for_review
    from tests.conftest import make_entry

    today = dt.date(2026, 12, 6)
    fresh = make_entry("vneid-moi", "Mới", ["a", "b", "c", "d"], checked=dt.date(2026, 11, 1))
    old = make_entry("vneid-cu", "Cũ", ["a", "b", "c", "d"], checked=dt.date(2026, 5, 1))
    pending = make_entry("vneid-cho", "Chờ", ["a", "b", "c", "d"], checked=dt.date(2026, 11, 1),
                         review_by=dt.date(2026, 12, 1))
    unsure = make_entry("vneid-chua", "Chưa", ["a", "b", "c", "d"], checked=dt.date(2026, 11, 1), unverified=True)
    due = due_for_review([fresh, old, pending, unsure], today)
    assert [d.entry.id for d in due] == ["vneid-cu", "vneid-cho", "vneid-chua"]
    assert "6 tháng" in due[0].reason and "01/12/2026" in due[1].reason and "chính thức" in due[2].reason


def test_app_error_messages_load_round_trip_and_are_checked(tmp_path):
    shown = ["Mã OTP không đúng", "Tài khoản đang đăng nhập trên thiết bị khác"]
    write(tmp_path, [{**GOOD, "errors": shown}])
    (entry,) = load_entries(tmp_path)
    assert entry.errors == tuple(shown)
    assert entry.to_dict()["errors"] == shown and Entry.from_dict(entry.to_dict()) == entry
    assert "errors" not in load_entries(write(tmp_path, [GOOD]).parent)[0].to_dict()
    for bad in ("Mã OTP không đúng", ["Mã OTP không đúng", "  "], [42], ["x" * (MAX_ERROR_CHARS + 1)]):
        write(tmp_path, [{**GOOD, "errors": bad}])
        assert any("'errors'" in p for p in problems(tmp_path)), bad
    write(tmp_path, [{**GOOD, "errors": ["x" * MAX_ERROR_CHARS]}])
    assert load_entries(tmp_path)[0].errors == ("x" * MAX_ERROR_CHARS,)
