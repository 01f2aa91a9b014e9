"""A guide as a printable page: large type, one step per line, source and date, and a QR code.

A team member hands it to a resident on paper; the QR code opens the same page on a phone. Served by
the Rasa process (bot/rasa_side/channels/webchat.py) from the index snapshot the action server answers from.
Every text from the knowledge base is HTML-escaped. No Rasa, Sanic or FAISS import: the Rasa
environment has no FAISS, and the rendering is tested on its own.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
from pathlib import Path

import qrcode
import qrcode.image.svg

from bot.knowledge.model import Entry

POINTER = "CURRENT"  # same file as bot.search.index.POINTER (not imported: that module needs FAISS)

# The page has no script and loads nothing; inline style is its only resource.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

STYLE = """
body { font-family: "Noto Sans", "Segoe UI", Arial, sans-serif; font-size: 22pt; line-height: 1.45;
       color: #000; background: #fff; max-width: 52rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 30pt; margin: 0 0 .6rem; }
p.lead { margin: 0 0 1rem; }
ol.steps { padding-left: 2.2em; margin: 0 0 1rem; }
ol.steps li { margin: 0 0 .7rem; padding-left: .3em; }
p.note { border: 3px solid #000; padding: .5rem .8rem; }
.qr { display: flex; gap: 1rem; align-items: center; margin-top: 1.2rem; font-size: 16pt; }
.qr svg { width: 4.5cm; height: 4.5cm; flex: none; }
footer { font-size: 15pt; margin-top: 1rem; word-break: break-all; }
@media print { body { margin: 0; max-width: none; } a { color: #000; text-decoration: none; } }
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def qr_svg(url: str) -> str:
    """An inline SVG QR code (pure Python: no imaging library needed)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    return image.to_string(encoding="unicode")


def render_guide(entry: Entry, page_url: str, today: dt.date | None = None) -> str:
    """The printable page of an entry's steps."""
    esc = html.escape
    steps = "\n".join(f"<li>{esc(step.strip())}</li>" for step in entry.steps)
    note = f'<p class="note">{esc(entry.note.strip())}</p>' if entry.note else ""
    printed = (today or dt.date.today()).strftime("%d/%m/%Y")
    body = (
        f"<main>\n<h1>{esc(entry.title)}</h1>\n<p class=\"lead\">{esc(entry.answer.strip())}</p>\n"
        f'<ol class="steps">\n{steps}\n</ol>\n{note}\n'
        f'<div class="qr">{qr_svg(page_url)}<p>Quét mã này bằng điện thoại để mở lại hướng dẫn. '
        "Không đưa mã OTP, mật khẩu cho bất kỳ ai.</p></div>\n"
        f"<footer>Nguồn: {esc(entry.source)}<br>Thông tin cập nhật ngày {entry.checked.strftime('%d/%m/%Y')}"
        f" · In ngày {printed}</footer>\n</main>"
    )
    return _page(entry.title, body)


def render_not_found() -> str:
    """A polite page for an id that is not (or no longer) a guide."""
    body = (
        "<main>\n<h1>Không tìm thấy hướng dẫn này</h1>\n"
        "<p>Hướng dẫn có thể đã được cập nhật hoặc đổi tên. Bạn hỏi lại trợ lý ảo để lấy đường link mới, "
        "hoặc nhờ Tổ công nghệ số cộng đồng ở xã/phường giúp.</p>\n</main>"
    )
    return _page("Không tìm thấy hướng dẫn", body)


def current_entries_file(index_dir: Path) -> Path | None:
    """entries.json of the index that CURRENT names, or None when nothing has been built."""
    try:
        name = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = index_dir / name / "entries.json"
    return path if name and path.is_file() else None


@functools.lru_cache(maxsize=4)
def _entries(path: str) -> dict[str, Entry]:
    # An index folder never changes once published (a new build gets a new folder), so caching by path is safe.
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {d["id"]: Entry.from_dict(d) for d in data}


def find_guide(index_dir: Path, entry_id: str) -> Entry | None:
    """The entry with steps that an id names in the current index, or None."""
    path = current_entries_file(index_dir)
    if path is None:
        return None
    entry = _entries(str(path)).get(entry_id)
    return entry if entry is not None and entry.steps else None


def guide_page(index_dir: Path, entry_id: str, page_url: str) -> tuple[int, str]:
    """HTTP status and HTML for /webhooks/webchat/guide/<entry_id>."""
    entry = find_guide(index_dir, entry_id)
    if entry is None:
        return 404, render_not_found()
    return 200, render_guide(entry, page_url)
