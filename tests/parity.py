"""The five questions every channel must answer exactly as REST does (the channels issue's "done when").

They are read at run time from the shared measuring stick, ../shared/eval/questions.jsonl (the first
question of each topic: VNeID, e-health, e-invoice, public service portal, and an off-topic one), so
none of its wording is copied into the repo. Where that file is absent our own five stand in.
"""

from __future__ import annotations

import json

from bot.core.settings import ROOT

SHARED_EVAL = ROOT.parent / "shared" / "eval" / "questions.jsonl"
TOPIC_PREFIXES = ("dv", "hv", "ev", "dc", "xv")  # VNeID, health, e-invoice, portal, off-topic
IDS = ["vneid", "bhyt", "hoa-don", "dvc", "off-topic"]
OWN = [
    "Làm sao để đổi số điện thoại trên tài khoản VNeID?",
    "xem thẻ bảo hiểm y tế trên điện thoại như thế nào",
    "Doanh nghiệp xuất hóa đơn điện tử sai thì sửa thế nào?",
    "đăng nhập cổng dịch vụ công quốc gia bằng tài khoản định danh điện tử",
    "Cho tôi công thức nấu phở bò ngon",
]


def five_questions() -> list[str]:
    """One question per topic plus one the bot must decline (the last)."""
    if not SHARED_EVAL.exists():
        return OWN
    items = [json.loads(line) for line in SHARED_EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    picked = [next((it["q"] for it in items if it["id"].startswith(p)), None) for p in TOPIC_PREFIXES]
    return picked if all(picked) else OWN
