"""`python -m bench.insights [N]`: how long grouping N (default 10,000) unanswered questions takes with
the real e5 model (first time, then again with 5% more questions and the embedding cache warm), and
how well it groups our own labelled questions.

The N questions are synthetic, masked like the question log ("[mã số]", "[số điện thoại]"): made-up
ways of asking ~50 things, with greetings, particles, abbreviations, missing accents and pasted
numbers. Each record remembers what it really asks, so the grouping is scored on them too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from sklearn.metrics import adjusted_rand_score

from bot.core.settings import ROOT, Settings
from bot.core.text import deaccent
from bot.insights.grouping import duplicate_key, group_unanswered
from bot.search.embcache import EmbeddingCache
from bot.search.embedder import E5Embedder

LABELLED = ROOT / "tests" / "data" / "insights_questions.jsonl"

# Things residents might ask that a small knowledge base does not cover (our own wording).
CORES = [
    "đổi tên trên VNeID", "sửa ngày sinh sai trên VNeID", "đổi số điện thoại đăng nhập VNeID",
    "tài khoản VNeID bị khóa",
    "không nhận được mã OTP", "mã OTP hết hạn", "quét chip căn cước không được", "làm căn cước cho người già tại nhà",
    "làm căn cước cho trẻ em dưới 14 tuổi", "tích hợp bằng lái xe vào VNeID", "đổi bằng lái xe online",
    "đăng ký tạm trú online", "đăng ký thường trú cho con", "xin giấy khai sinh online", "đăng ký khai tử online",
    "đăng ký kết hôn trên dịch vụ công", "làm hộ chiếu qua mạng", "xin phiếu lý lịch tư pháp online",
    "nộp phạt giao thông online", "thanh toán tiền điện trên dịch vụ công", "tra cứu hồ sơ đã nộp",
    "hồ sơ bị trả lại phải làm gì", "lệ phí cấp đổi giấy tờ bao nhiêu", "gia hạn thẻ bảo hiểm y tế",
    "cấp lại thẻ bảo hiểm y tế bị mất", "làm thẻ bảo hiểm y tế cho trẻ em", "xem lịch sử khám bệnh",
    "đổi nơi khám chữa bệnh ban đầu", "lương hưu tháng này khi nào có", "hủy hóa đơn điện tử đã xuất",
    "xuất hóa đơn cho khách lẻ", "đăng ký chữ ký số", "hoàn thuế thu nhập cá nhân", "tra cứu mã số thuế cá nhân",
    "hộ kinh doanh nộp thuế online", "có người gọi xưng công an đòi mã OTP", "tin nhắn có đường link lạ",
    "lỡ bấm vào link lạ bị mất tiền", "app giả mạo dịch vụ công", "tổ công nghệ số ở xã liên hệ ai",
    "ủy ban mở cửa mấy giờ", "giá vàng hôm nay", "thời tiết ngày mai", "tra cứu điểm thi tốt nghiệp",
    "đăng ký xe máy mới online", "biển số xe định danh", "trợ cấp người khuyết tật", "đăng ký học cho con lớp một",
]
PREFIXES = [
    "", "", "cho em hỏi", "ad ơi", "mọi người ơi", "xin hỏi", "bác ơi cho cháu hỏi", "chị ơi", "alo",
    "cho mình hỏi cách",
]
SUFFIXES = ["", "", "ạ", "với ạ", "được không", "ở đâu", "thế nào", "gấp", "nhé", "làm sao"]
PASTED = ["", "", "", "sđt [số điện thoại]", "mã [mã số]", "cccd [số định danh]"]
SHORTENED = {
    "không": "ko", "được": "dc", "số điện thoại": "sdt", "bảo hiểm y tế": "bhyt", "căn cước": "cccd", "tài khoản": "tk"
}


def synthetic(n: int, seed: int = 7) -> list[dict]:
    """n masked questions over the last 90 days."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.timezone.utc)
    records = []
    for _ in range(n):
        prefix, core = rng.choice(PREFIXES), rng.choice(CORES)
        parts = (prefix, core, rng.choice(PASTED), rng.choice(SUFFIXES))
        text = " ".join(p for p in parts if p)
        for long, short in SHORTENED.items():
            if rng.random() < 0.3:
                text = text.replace(long, short)
        if rng.random() < 0.4:
            text = deaccent(text).lower()
        records.append({
            "text": text,
            "at": now - dt.timedelta(minutes=rng.randrange(90 * 24 * 60)),
            "reason": rng.choice(["declined", "declined", "clarify", "low_confidence"]),
            "core": core,  # what was really asked, to score the grouping
        })
    return records


def labelled_quality(embed) -> dict[str, float]:
    """Adjusted Rand index of the grouping against our labels (1 = exactly our groups, 0 = chance),
    per half of the labelled set."""
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = {}
    for name in ("calibration", "check"):
        part = [r for r in rows if r["set"] == name]
        records = [{"text": r["q"], "at": dt.datetime(2026, 11, 1), "reason": "declined"} for r in part]
        groups = group_unanswered(records, embed)
        predicted = {i: k for k, g in enumerate(groups) for i in g.records}
        out[name] = round(adjusted_rand_score([r["group"] for r in part], [predicted[i] for i in range(len(part))]), 3)
    return out


def seconds(total: float, embedding: float) -> dict[str, float]:
    return {"total": round(total, 1), "embedding": round(embedding, 1), "grouping": round(total - embedding, 1)}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    embedder = E5Embedder(Settings.from_env().base_model_dir)  # grouping uses the base e5 (bot/admin/web/base.py)
    embedder.encode_queries(["khởi động"])  # load the model outside the timing
    records = synthetic(n)
    later = records + synthetic(n // 20, seed=8)  # the same log a few days later: 5% more questions
    load_before = os.getloadavg()[0]
    embed_seconds = 0.0

    with tempfile.TemporaryDirectory() as tmp:
        # As on the admin page: vectors kept in the embedding cache, so a reload embeds only new questions.
        cache = EmbeddingCache(Path(tmp) / "vectors.sqlite", embedder.fingerprint())

        def embed(texts: list[str]):
            nonlocal embed_seconds
            start = time.perf_counter()
            vectors = cache.encode("query", texts, embedder.encode_queries)
            embed_seconds += time.perf_counter() - start
            return vectors

        start = time.perf_counter()
        groups = group_unanswered(records, embed)
        cold, cold_embed = time.perf_counter() - start, embed_seconds
        group_of = {i: k for k, g in enumerate(groups) for i in g.records}
        predicted = [group_of[i] for i in range(len(records))]

        embed_seconds = 0.0
        start = time.perf_counter()
        group_unanswered(later, embed)
        warm, warm_embed = time.perf_counter() - start, embed_seconds

        tracemalloc.start()  # once more, everything cached: the memory the grouping itself needs
        group_unanswered(later, embed)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average": f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after",
        "records": n,
        "distinct_questions": len({duplicate_key(r["text"]) for r in records}),
        "groups": len(groups),
        "synthetic_adjusted_rand_index": round(adjusted_rand_score([r["core"] for r in records], predicted), 3),
        "largest_groups": [(g.count, g.representative) for g in groups[:5]],
        "first_run_seconds": seconds(cold, cold_embed),
        "after_5_percent_more_seconds": seconds(warm, warm_embed),
        "grouping_peak_mb": round(peak / 2**20),
        "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "adjusted_rand_index": labelled_quality(embedder.encode_queries),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
