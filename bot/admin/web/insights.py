"""What residents asked that the bot could not answer, grouped by similarity (bot.insights), with one
button per group to start a new entry from it; answer feedback and topics over time as charts.

When the entry started from a group is saved, its questions are marked resolved and leave the list.
"""

from __future__ import annotations

import datetime as dt

from starlette.responses import Response
from starlette.routing import Route

from bot.admin.web.auth import guarded
from bot.admin.web.base import Area, Call, redirect, render
from bot.admin.web.entries import blank_values, show_form
from bot.admin.web.forms import entry_to_form
from bot.admin.web.trial import model_fingerprint
from bot.core.localtime import local_text, utcnow
from bot.insights import draft_from_group, group_unanswered, plot_feedback, plot_topics, plot_unanswered, summary
from bot.search.embcache import EmbeddingCache
from bot.store.question_log import KEEPS_TEXT

MAX_GROUPS = 60
# The newest unanswered questions grouped on one load: a flood (bot/replies/question_flood.py limits one sender's share)
# costs the page a bounded amount of embedding and clustering, never all of it.
MAX_GROUPED = 5000
PLOT_WEEKS = 12
PERIODS = {"today": "Hôm nay", "7_days": "7 ngày qua", "30_days": "30 ngày qua"}
REASONS = {"declined": "không trả lời được", "clarify": "phải hỏi lại", "low_confidence": "trả lời chưa chắc"}


def embed_with_cache(call: Call):
    """encode_queries through the embedding cache: reloading the page does not embed the same questions again."""
    admin = call.admin

    def make():
        embedder = admin.grouping_embedder or admin.embedder
        cache = EmbeddingCache(admin.settings.cache_dir / "embeddings.sqlite", model_fingerprint(embedder))
        return lambda texts: cache.encode("query", list(texts), embedder.encode_queries)

    return admin.service("insights_embed", make)



@guarded()
def unanswered_page(call: Call) -> Response:
    events = call.admin.events
    records = [r for r in events.unanswered() if r.text][-MAX_GROUPED:]  # oldest first: keep the newest
    groups = group_unanswered(records, embed_with_cache(call))[:MAX_GROUPS]
    rows = [{
        "group": g, "first": local_text(g.first_at), "last": local_text(g.last_at),
        "ids": ",".join(str(records[i].id) for i in g.records),
        "reasons": ", ".join(f"{REASONS.get(k, k)}: {n}" for k, n in g.reasons.items()),
    } for g in groups]
    since = utcnow() - dt.timedelta(days=31)
    counts = summary(events.questions(since=since), events.feedback(since=since))
    return render(call, "unanswered.html", rows=rows, total=len(records), counts=counts, periods=PERIODS)


@guarded()
def draft_from_questions(call: Call) -> Response:
    """The new-entry form prefilled from a group of unanswered questions (nothing is saved yet)."""
    wanted = {int(p) for p in call.field("ids").split(",") if p.strip().isdigit()}
    records = [r for r in call.admin.events.unanswered() if r.id in wanted]
    if not records:  # someone already made an entry from this group (or the page was old)
        return redirect("/unanswered")
    group = group_unanswered(records, embed_with_cache(call))[0]  # the most asked part, if they split now
    taken = [s.id for s in call.admin.store.list()]
    values = blank_values()
    values.update({k: v for k, v in entry_to_form(draft_from_group(group, taken=taken)).items() if v})
    note = (f"Mục mới từ {len(records)} câu hỏi người dân đã hỏi. Hãy viết câu trả lời theo nguồn chính thức, "
            "ghi địa chỉ nguồn và ngày kiểm tra. Khi lưu, các câu hỏi này sẽ rời danh sách chưa trả lời.")
    return show_form(call, values, None, resolves=",".join(str(r.id) for r in records), draft_note=note)


PLOTS = {
    "feedback": lambda events, since: plot_feedback(events.feedback(since=since), weeks=PLOT_WEEKS),
    "topics": lambda events, since: plot_topics(events.questions(since=since, outcomes=("answered",)),
                                                weeks=PLOT_WEEKS),
    "unanswered": lambda events, since: plot_unanswered(events.questions(since=since, outcomes=KEEPS_TEXT),
                                                        weeks=PLOT_WEEKS),
}


@guarded()
def plot(call: Call) -> Response:
    make = PLOTS.get(call.request.path_params["name"])
    if make is None:
        return render(call, "error.html", 404, title="Không có biểu đồ này", message="Hãy mở lại trang thống kê.")
    png = make(call.admin.events, utcnow() - dt.timedelta(weeks=PLOT_WEEKS + 1))
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


AREA = Area("insights", [
    Route("/unanswered", unanswered_page, methods=["GET"]),
    Route("/unanswered/draft", draft_from_questions, methods=["POST"]),
    Route("/insights/plots/{name}.png", plot, methods=["GET"]),
], label="Câu hỏi chưa trả lời", path="/unanswered")
