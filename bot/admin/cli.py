"""`python -m bot.admin COMMAND`: the admin page's operations from a terminal, scriptable.

Exit codes: 0 done, 1 invalid data (nothing saved), 2 bad usage, 3 edit conflict, 4 not found,
5 publish failed (the previous index keeps serving).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sys
from pathlib import Path

import yaml

from bot.core.localtime import utcnow
from bot.core.settings import Settings
from bot.knowledge.export import export_entries
from bot.knowledge.importers import ImportDefaults, ImportFailed, read_entries
from bot.knowledge.loader import KnowledgeError, advice, load_entries
from bot.knowledge.model import TOPICS, render_answer
from bot.knowledge.staleness import due_for_review
from bot.store.accounts import ROLES, Accounts
from bot.store.knowledge import Conflict, KnowledgeStore, NotFound, ValidationFailed, validate
from bot.usecases import users
from bot.usecases.entries import EntryChanges, imported

OK, INVALID, USAGE, CONFLICT, NOT_FOUND, PUBLISH_FAILED = 0, 1, 2, 3, 4, 5


def _author() -> str:
    """Who the audit log names: BOT_ADMIN_USER, else the system user, marked as the CLI."""
    return os.environ.get("BOT_ADMIN_USER") or f"cli:{getpass.getuser()}"


def _print_problems(err: ValidationFailed, where: str = "") -> None:
    for p in err.problems:
        print(f"{where}trường '{p.field}': {p.message}", file=sys.stderr)


def _read_raw(path: str) -> list[dict]:
    """One entry or a list of entries from a YAML/JSON file ('-' = standard input)."""
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if isinstance(data, dict) and "entries" in data:
        data = data["entries"]
    return data if isinstance(data, list) else [data]


class Cli:
    """The commands, over one store; changes go through the use cases (bot/usecases), which write the audit log."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = KnowledgeStore.open(settings.store_url)
        self.accounts = Accounts(self.store.engine)
        self.author = _author()
        self.entries = EntryChanges(self.store, self.accounts, self.author)

    def _releases(self):
        """The publishing use cases (imported here: the index builder loads FAISS)."""
        from bot.indexing.publish import Publisher
        from bot.usecases.releases import Releases

        return Releases(self.store, Publisher(self.store, self.settings), self.accounts, self.author)

    # -------------------------------------------------------------- reading
    def list(self, args) -> int:
        rows = self.store.list(topic=args.topic, text=args.query, status=args.status)
        if args.json:
            print(json.dumps([{"id": s.id, "status": s.status, "revision": s.revision, "title": s.entry.title}
                              for s in rows], ensure_ascii=False, indent=1))
            return OK
        for s in rows:
            print(f"{s.id:45} {s.status:8} r{s.revision:<3} {s.entry.title}")
        print(f"{len(rows)} mục", file=sys.stderr)
        return OK

    def stale(self, args) -> int:
        due = due_for_review((s.entry for s in self.store.list(status="active")), utcnow().date())
        if args.json:
            print(json.dumps([{"id": d.entry.id, "title": d.entry.title, "reason": d.reason} for d in due],
                             ensure_ascii=False, indent=1))
            return OK
        for d in due:
            print(f"{d.entry.id:45} {d.reason}")
        print(f"{len(due)} mục cần kiểm tra lại", file=sys.stderr)
        return OK

    def show(self, args) -> int:
        stored = self.store.get(args.id)
        if stored is None:
            print(f"không có mục '{args.id}'", file=sys.stderr)
            return NOT_FOUND
        if args.history:
            for r in self.store.history(args.id):
                note = f" ({r.comment})" if r.comment else ""
                print(f"bản {r.number:<3} {r.at:%Y-%m-%d %H:%M} {r.author:20} {r.action:8} {r.status}{note}")
            return OK
        if args.revision:
            try:
                data = self.store.revision(args.id, args.revision).data
            except NotFound:
                print(f"mục '{args.id}' không có bản {args.revision}", file=sys.stderr)
                return NOT_FOUND
        else:
            data = stored.entry.to_dict()
        if args.rendered:
            print(render_answer(stored.entry))
        else:
            print(f"# {stored.status}, bản {stored.revision}, {stored.updated_by} {stored.updated_at:%Y-%m-%d %H:%M}")
            print(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), end="")
        return OK

    # -------------------------------------------------------------- writing
    def add(self, args) -> int:
        raws = _read_raw(args.file)
        try:
            for raw in raws:
                stored = self.entries.create(raw, args.comment or "")
                self._warn(stored.entry)
                print(f"đã thêm {stored.id} (bản 1)")
        except ValidationFailed as err:
            _print_problems(err, f"{raw.get('id', '?') if isinstance(raw, dict) else '?'}: ")
            return INVALID
        except Conflict as err:
            print(str(err), file=sys.stderr)
            return CONFLICT
        return OK

    def edit(self, args) -> int:
        (raw,) = _read_raw(args.file)[:1] or [{}]
        raw = {**raw, "id": args.id}
        current = self.store.get(args.id)
        if current is None:
            print(f"không có mục '{args.id}'", file=sys.stderr)
            return NOT_FOUND
        try:
            stored = self.entries.edit(raw, args.base or current.revision, args.comment or "")
        except ValidationFailed as err:
            _print_problems(err, f"{args.id}: ")
            return INVALID
        except Conflict as err:
            print(str(err), file=sys.stderr)
            return CONFLICT
        self._warn(stored.entry)
        print(f"đã lưu {stored.id} (bản {stored.revision})")
        return OK

    def retire(self, args) -> int:
        current = self.store.get(args.id)
        if current is None:
            print(f"không có mục '{args.id}'", file=sys.stderr)
            return NOT_FOUND
        try:
            stored = self.entries.retire(args.id, args.base or current.revision, args.comment or "")
        except Conflict as err:
            print(str(err), file=sys.stderr)
            return CONFLICT
        print(f"đã ngừng dùng {stored.id} (bản {stored.revision}); xuất bản để bot ngừng trả lời bằng mục này")
        return OK

    def import_(self, args) -> int:
        defaults = ImportDefaults(topic=args.topic, source=args.source, checked=args.checked, id_prefix=args.topic)
        entries, problems = [], []
        for path in args.paths:
            if Path(path).is_dir():  # a folder in the seed format (knowledge/, or an export)
                try:
                    entries += load_entries(Path(path))
                except KnowledgeError as err:
                    problems += err.problems
                continue
            try:
                raws = read_entries(Path(path), defaults)
            except ImportFailed as err:
                problems += err.problems
                continue
            except FileNotFoundError:
                problems.append(f"{path}: không tìm thấy tệp")
                continue
            for raw in raws:
                try:
                    entries.append(validate(raw))
                except ValidationFailed as err:
                    where = f"{path} ({raw.get('id', '?')})"
                    problems += [f"{where}: trường '{p.field}': {p.message}" for p in err.problems]
        if problems:
            print("\n".join(problems), file=sys.stderr)
            print(f"{len(problems)} lỗi: không nhập gì cả", file=sys.stderr)
            return INVALID
        try:
            report = self.entries.import_entries(entries, ", ".join(args.paths))
        except ValidationFailed as err:
            _print_problems(err)
            print("không nhập gì cả", file=sys.stderr)
            return INVALID
        print(f"đã nhập: {imported(report)}")
        return OK

    def export(self, args) -> int:
        written = export_entries(self.store.active_entries(), Path(args.folder))
        print("\n".join(str(p) for p in written))
        return OK

    def validate(self, args) -> int:
        from bot.knowledge.loader import check_base

        entries = self.store.active_entries()
        problems = check_base([(e, "kho") for e in entries])
        for e in entries:
            for tip in advice(e):
                print(f"lưu ý {e.id}: trường '{tip.field}': {tip.message}", file=sys.stderr)
        if problems:
            print("\n".join(problems), file=sys.stderr)
            return INVALID
        print(f"{len(entries)} mục đang dùng hợp lệ")
        return OK

    def publish(self, args) -> int:
        return self._published(self._releases().publish_and_wait(progress_bar=True))

    def _published(self, release) -> int:
        if release.status != "live":
            print(f"xuất bản #{release.id} thất bại: {release.message}\nbản cũ vẫn đang phục vụ", file=sys.stderr)
            return PUBLISH_FAILED
        print(f"đã xuất bản #{release.id}: {release.entries} mục; bot dùng bản mới trong vài giây")
        return OK

    def rollback(self, args) -> int:
        try:
            if args.release is not None:
                from bot.usecases.releases import WAIT

                def announce(report: dict) -> None:
                    print(f"đã đưa về bản xuất bản #{args.release}: khôi phục {len(report['restored'])}, "
                          f"ngừng {len(report['retired'])} mục", flush=True)

                rolled = self._releases().roll_back(args.release, WAIT if args.publish else None, announce)
                if rolled.release is not None:  # published too, as one audited rollback
                    return self._published(rolled.release)
            else:
                stored = self.entries.restore(args.id, args.to)
                print(f"đã khôi phục {args.id} về nội dung bản {args.to} (thành bản {stored.revision})")
        except NotFound as err:
            print(f"không tìm thấy {err}", file=sys.stderr)
            return NOT_FOUND
        except Conflict as err:
            print(str(err), file=sys.stderr)
            return CONFLICT
        if args.publish:
            return self.publish(args)
        print("chạy 'publish' để bot dùng nội dung này", file=sys.stderr)
        return OK

    def releases(self, args) -> int:
        for r in self.store.releases():
            print(f"#{r.id:<4} {r.created_at:%Y-%m-%d %H:%M} {r.author:20} {r.status:8} {r.entries:4} mục  {r.message}")
        return OK

    def user(self, args) -> int:
        if args.action == "list":
            for u in self.accounts.users():
                print(f"{u.username:20} {u.role}" + ("  (đã khóa)" if u.disabled else ""))
            return OK
        if args.action in ("disable", "enable"):
            try:
                user = users.set_disabled(self.accounts, self.accounts, self.author, args.name,
                                          args.action == "disable")
            except KeyError:
                print(f"không có tài khoản '{args.name}'", file=sys.stderr)
                return NOT_FOUND
            print(f"tài khoản {user.username} " + ("đã bị khóa: không đăng nhập được, các phiên đã kết thúc"
                                                   if user.disabled else "đã mở lại"))
            return OK
        password = os.environ.get("BOT_ADMIN_PASSWORD") or getpass.getpass("Mật khẩu (ít nhất 10 ký tự): ")
        try:
            user = users.add_user(self.accounts, self.accounts, self.author, args.name, password, args.role)
        except ValueError as err:
            print(str(err), file=sys.stderr)
            return INVALID
        print(f"tài khoản {user.username} ({user.role}) đã sẵn sàng")
        return OK

    def _warn(self, entry) -> None:
        for tip in advice(entry):
            print(f"lưu ý: trường '{tip.field}': {tip.message}", file=sys.stderr)


def helper_code(args) -> int:
    """New helper-mode codes of known strength, or a check of the configured ones (printed by position only)."""
    from bot.team import mode as helper
    if args.action == "new":
        for _ in range(args.count):
            print(helper.new_code())
        print(f"mỗi mã {helper.NEW_CODE_LENGTH} ký tự, {helper.new_code_bits():.1f} bit; thêm vào BOT_HELPER_CODES "
              "(cách nhau bởi dấu phẩy)", file=sys.stderr)
        return OK
    codes = Settings.from_env().helper_codes
    weak = helper.weak_codes(codes)
    for n in weak:
        print(f"mã thứ {n} trong BOT_HELPER_CODES yếu (dưới {helper.MIN_CODE_BITS:.0f} bit): thay bằng "
              "'helper-code new'", file=sys.stderr)
    print(f"{len(codes)} mã, {len(weak)} mã yếu")
    return INVALID if weak else OK


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"ngày phải có dạng NĂM-THÁNG-NGÀY (2026-11-20), đang là {value!r}") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot.admin", description="Quản trị kho tri thức của trợ lý ảo.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("list", help="liệt kê mục")
    s.add_argument("--topic", choices=list(TOPICS))
    s.add_argument("--status", choices=["active", "retired"])
    s.add_argument("--query", "-q", help="tìm theo chữ (có dấu hay không đều được)")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("stale", help="mục cần kiểm tra lại: quá 6 tháng, đến hạn review_by, hoặc chưa kiểm chứng")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("show", help="xem một mục")
    s.add_argument("id")
    s.add_argument("--revision", type=int)
    s.add_argument("--history", action="store_true")
    s.add_argument("--rendered", action="store_true", help="như người dân thấy")
    s = sub.add_parser("add", help="thêm mục từ tệp YAML (một mục hoặc danh sách; '-' = stdin)")
    s.add_argument("file")
    s.add_argument("--comment", "-m")
    s = sub.add_parser("edit", help="lưu bản mới của một mục từ tệp YAML")
    s.add_argument("id")
    s.add_argument("file")
    s.add_argument("--base", type=int, help="bản bạn đã sửa từ đó (mặc định: bản mới nhất)")
    s.add_argument("--comment", "-m")
    s = sub.add_parser("retire", help="ngừng dùng một mục")
    s.add_argument("id")
    s.add_argument("--base", type=int)
    s.add_argument("--comment", "-m")
    s = sub.add_parser("import", help="nhập từ YAML, CSV, XLSX, Markdown, DOCX, PDF (tất cả hoặc không gì)")
    s.add_argument("paths", nargs="+")
    s.add_argument("--topic", choices=list(TOPICS))
    s.add_argument("--source", help="trang chính thức cho tài liệu (DOCX, PDF, Markdown)")
    s.add_argument("--checked", type=_date, help="ngày kiểm tra YYYY-MM-DD")
    s = sub.add_parser("export", help="xuất ra thư mục theo mẫu knowledge/")
    s.add_argument("folder")
    sub.add_parser("validate", help="kiểm tra các mục đang dùng")
    sub.add_parser("publish", help="xây chỉ mục và cho bot dùng nội dung hiện tại")
    s = sub.add_parser("rollback", help="đưa một mục (ID --to N) hoặc cả kho (--release N) về bản cũ")
    s.add_argument("id", nargs="?")
    s.add_argument("--to", type=int, help="số bản của mục")
    s.add_argument("--release", type=int, help="số bản xuất bản")
    s.add_argument("--publish", action="store_true", help="xuất bản ngay sau khi đưa về")
    sub.add_parser("releases", help="các lần xuất bản")
    s = sub.add_parser("user", help="tài khoản quản trị: add (mật khẩu lấy từ BOT_ADMIN_PASSWORD hoặc hỏi), list, "
                                    "disable (khóa: không đăng nhập được), enable")
    s.add_argument("action", choices=["add", "list", "disable", "enable"])
    s.add_argument("name", nargs="?")
    s.add_argument("--role", choices=list(ROLES), default="editor")
    s = sub.add_parser("helper-code", help="mã tổ công nghệ số: new (tạo mã mạnh), check (kiểm tra BOT_HELPER_CODES)")
    s.add_argument("action", choices=["new", "check"])
    s.add_argument("--count", type=int, default=1)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "rollback" and (args.release is None) == (args.id is None or args.to is None):
        print("dùng: rollback ID --to N  hoặc  rollback --release N", file=sys.stderr)
        return USAGE
    if args.command == "user" and args.action == "add" and not args.name:
        print("dùng: user add TÊN --role editor|publisher", file=sys.stderr)
        return USAGE
    if args.command == "user" and args.action in ("disable", "enable") and not args.name:
        print(f"dùng: user {args.action} TÊN", file=sys.stderr)
        return USAGE
    if args.command == "helper-code":
        return helper_code(args)
    cli = Cli(Settings.from_env())
    name = {"import": "import_"}.get(args.command, args.command)
    return getattr(cli, name)(args)
