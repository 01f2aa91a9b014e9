"""The admin CLI as an office script would run it: real processes, real exit codes, a real store."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from bot.core.settings import ROOT

ENTRY = {
    "id": "vneid-doi-anh",
    "title": "Đổi ảnh trên VNeID",
    "questions": ["đổi ảnh vneid", "doi anh vneid", "thay ảnh căn cước điện tử", "cap nhat anh vneid"],
    "answer": "Ảnh lấy từ dữ liệu căn cước; muốn đổi ảnh, bạn làm thủ tục tại Công an xã/phường.",
    "source": "https://vneid.gov.vn/",
    "checked": "2026-11-20",
}


@pytest.fixture
def cli(tmp_path, store_url):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BOT_STORE_URL": store_url, "BOT_ADMIN_USER": "kiem-thu",
           "BOT_INDEX_DIR": str(tmp_path / "index"), "HF_HUB_OFFLINE": "1"}

    def run(*args: str, stdin: str | None = None, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot.admin", *args], input=stdin, capture_output=True,
                              text=True, env={**env, **extra}, cwd=ROOT, timeout=300)

    return run


def write(tmp_path, name: str, data) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_add_show_edit_conflict_retire_and_restore(cli, tmp_path):
    assert cli("add", write(tmp_path, "a.yml", ENTRY)).returncode == 0
    again = cli("add", write(tmp_path, "a.yml", ENTRY))
    assert again.returncode == 3 and "đã có mục" in again.stderr
    bad = cli("add", write(tmp_path, "b.yml", {**ENTRY, "id": "vneid-khac", "source": "không phải link"}))
    assert bad.returncode == 1 and "trường 'source'" in bad.stderr
    edited = {**ENTRY, "answer": "Câu trả lời mới."}
    assert cli("edit", "vneid-doi-anh", write(tmp_path, "c.yml", edited), "-m", "sửa").returncode == 0
    stale = cli("edit", "vneid-doi-anh", write(tmp_path, "d.yml", ENTRY), "--base", "1")
    assert stale.returncode == 3 and "vừa được người khác sửa" in stale.stderr
    assert "Câu trả lời mới." in cli("show", "vneid-doi-anh", "--rendered").stdout
    assert cli("retire", "vneid-doi-anh").returncode == 0
    assert "vneid-doi-anh" not in cli("list", "--status", "active").stdout
    assert cli("rollback", "vneid-doi-anh", "--to", "1").returncode == 0
    shown = cli("show", "vneid-doi-anh")
    assert "active, bản 4" in shown.stdout and ENTRY["answer"] in shown.stdout
    history = cli("show", "vneid-doi-anh", "--history").stdout
    assert "kiem-thu" in history and "restore" in history and "retire" in history
    assert cli("show", "khong-co").returncode == 4
    assert cli("rollback", "vneid-doi-anh").returncode == 2


def test_the_audit_log_reads_as_the_admin_page_writes_it(cli, tmp_path, store_url):
    from bot.store.accounts import Accounts
    from bot.store.knowledge import KnowledgeStore

    assert cli("add", write(tmp_path, "a.yml", ENTRY), "-m", "mục mới").returncode == 0
    store = KnowledgeStore.open(store_url)
    first = store.finish_release(store.start_release("kiem-thu").id, True, "chỉ mục thử", "idx")
    assert cli("add", write(tmp_path, "b.yml", {**ENTRY, "id": "vneid-khac", "title": "Mục khác"})).returncode == 0
    assert cli("rollback", "vneid-doi-anh", "--to", "1").returncode == 0
    back = cli("rollback", "--release", str(first.id))
    assert back.returncode == 0 and f"đã đưa về bản xuất bản #{first.id}: khôi phục 0, ngừng 1 mục" in back.stdout
    assert cli("rollback", "--release", "99").returncode == 4
    log = [(r.username, r.action, r.target, r.detail) for r in Accounts.open(store_url).audit_log()]
    assert log == [("kiem-thu", "rollback", f"bản #{first.id}", "khôi phục 0, ngừng 1 mục; chưa xuất bản"),
                   ("kiem-thu", "restore", "vneid-doi-anh", "bản 1 → bản 2"),
                   ("kiem-thu", "create", "vneid-khac", ""), ("kiem-thu", "create", "vneid-doi-anh", "")]


def test_export_then_import_changes_nothing(cli, tmp_path):
    first = cli("import", str(ROOT / "knowledge"))
    assert first.returncode == 0 and "mục mới" in first.stdout
    out = tmp_path / "out"
    assert cli("export", str(out)).returncode == 0
    again = cli("import", *map(str, sorted(out.glob("*.yml"))))
    assert again.returncode == 0 and "0 mục mới, 0 mục sửa" in again.stdout


def test_users_and_validate(cli):
    short = cli("user", "add", "can-bo", "--role", "editor", BOT_ADMIN_PASSWORD="ngan")
    assert short.returncode == 1 and "10 ký tự" in short.stderr
    assert cli("user", "add", "can-bo", "--role", "publisher", BOT_ADMIN_PASSWORD="mot-mat-khau-dai").returncode == 0
    assert "can-bo               publisher" in cli("user", "list").stdout
    assert cli("user", "add").returncode == 2
    assert cli("validate").returncode == 0


def test_an_account_is_disabled_and_enabled_from_the_command_line(cli, store_url):
    from bot.store.accounts import Accounts

    assert cli("user", "add", "can-bo", "--role", "publisher", BOT_ADMIN_PASSWORD="mot-mat-khau-dai").returncode == 0
    accounts = Accounts.open(store_url)
    token, _ = accounts.start_session(accounts.authenticate("can-bo", "mot-mat-khau-dai"))
    done = cli("user", "disable", "can-bo")
    assert done.returncode == 0 and "đã bị khóa" in done.stdout
    assert accounts.authenticate("can-bo", "mot-mat-khau-dai") is None and accounts.session(token) is None
    assert "can-bo               publisher  (đã khóa)" in cli("user", "list").stdout
    assert cli("user", "disable", "khong-ai").returncode == 4 and cli("user", "disable").returncode == 2
    assert cli("user", "enable", "can-bo").returncode == 0
    assert accounts.authenticate("can-bo", "mot-mat-khau-dai") is not None
    assert [(r.action, r.target) for r in accounts.audit_log()][:2] == [("user_enable", "can-bo"),
                                                                        ("user_disable", "can-bo")]


def test_helper_codes_are_made_strong_and_weak_ones_are_found(cli):
    made = cli("helper-code", "new", "--count", "3")
    codes = made.stdout.split()
    assert made.returncode == 0 and len(set(codes)) == 3 and all(len(c) == 12 for c in codes)
    assert "53.8 bit" in made.stderr
    good = cli("helper-code", "check", BOT_HELPER_CODES=",".join(codes))
    assert good.returncode == 0 and "3 mã, 0 mã yếu" in good.stdout
    weak = cli("helper-code", "check", BOT_HELPER_CODES=f"{codes[0]},MA123")
    assert weak.returncode == 1 and "mã thứ 2" in weak.stderr and "MA123" not in weak.stderr + weak.stdout


@pytest.mark.model
def test_publish_builds_an_index_and_a_release(cli, tmp_path):
    assert cli("import", str(ROOT / "knowledge")).returncode == 0
    published = cli("publish")
    assert published.returncode == 0, published.stderr
    assert (tmp_path / "index" / "CURRENT").exists()
    assert "live" in cli("releases").stdout


def test_stale_lists_old_pending_and_unverified_entries(cli, tmp_path):
    fresh = {**ENTRY, "id": "vneid-moi", "checked": "2026-12-01"}
    old = {**ENTRY, "id": "vneid-cu", "title": "Mục cũ", "checked": "2025-01-10"}
    unsure = {**ENTRY, "id": "vneid-chua-chac", "title": "Mục chưa chắc", "checked": "2026-12-01", "unverified": True,
              "review_by": "2027-01-31"}
    assert cli("add", write(tmp_path, "s.yml", [fresh, old, unsure])).returncode == 0
    out = cli("stale", "--json")
    assert out.returncode == 0, out.stderr
    due = {d["id"]: d["reason"] for d in __import__("json").loads(out.stdout)}
    assert set(due) == {"vneid-cu", "vneid-chua-chac"}
    assert "6 tháng" in due["vneid-cu"] and "chính thức" in due["vneid-chua-chac"]
    shown = cli("show", "vneid-chua-chac", "--rendered")
    assert "chưa được đối chiếu" in shown.stdout
