"""Publishing: what changed since the version the bot serves, publish with a progress bar, the list of
releases, and going back to an earlier release. Only publishers may publish or go back; editors see
why the button is disabled.

Publishing rebuilds the index in a background thread (bot.indexing.publish); the running bot switches
to it by itself within about a second. A failed build leaves the previous version serving.
"""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.admin.web.auth import guarded
from bot.admin.web.base import Area, Call, redirect, render
from bot.indexing.publish import Busy
from bot.store.knowledge import NotFound
from bot.usecases.releases import BACKGROUND

NOTICES = {
    "busy": "Đang xuất bản một bản khác. Vui lòng đợi bản đó xong rồi thử lại.",
    "rolled_back": "Đã đưa nội dung về bản xuất bản cũ và đang xuất bản lại.",
    "started": "Đang xuất bản…",
    "unknown": "Không có bản xuất bản này.",
}
RELEASE_STATUS = {"building": "Đang xây dựng", "live": "Đã phục vụ", "failed": "Lỗi"}


def changes_since_live(call: Call) -> dict:
    """Entries added, changed and no longer served, compared with the live release."""
    store = call.admin.store
    live = store.live_release()
    active = {s.id: s for s in store.list(status="active")}
    served = live.snapshot if live else {}
    retired = [{"id": eid, "title": stored.entry.title if (stored := store.get(eid)) else eid}
               for eid in sorted(set(served) - set(active))]
    return {
        "live": live,
        "added": [active[eid] for eid in sorted(set(active) - set(served))],
        "changed": [active[eid] for eid in sorted(active) if eid in served and served[eid] != active[eid].revision],
        "retired": retired,
    }


def status_payload(call: Call) -> dict:
    progress = call.admin.publisher.progress
    return {"release_id": progress.release_id, "state": progress.state, "done": progress.done,
            "total": progress.total, "percent": progress.percent, "message": progress.message}


@guarded()
def publish_page(call: Call) -> Response:
    store = call.admin.store
    releases = store.releases(limit=30)
    live = store.live_release()
    return render(call, "publish.html", changes=changes_since_live(call), releases=releases,
                  live_id=live.id if live else None, progress=status_payload(call),
                  can_publish=call.user.can("publish"), statuses=RELEASE_STATUS,
                  notice=NOTICES.get(call.request.query_params.get("msg", "")))


@guarded(permission="publish")
def publish(call: Call) -> Response:
    try:
        call.releases.publish()
    except Busy:
        return redirect("/publish?msg=busy")
    return redirect("/publish?msg=started")


@guarded(permission="publish")
def rollback(call: Call) -> Response:
    """Bring the entries back to what an earlier release served, then publish that."""
    try:
        rolled = call.releases.roll_back(call.request.path_params["release_id"], BACKGROUND)
    except Busy:
        return redirect("/publish?msg=busy")
    except NotFound:
        return redirect("/publish?msg=unknown")
    # busy: someone published at the same moment; the entries are rolled back, publish again later
    return redirect("/publish?msg=busy" if rolled.busy else "/publish?msg=rolled_back")


@guarded(api=True)
def publish_status(call: Call) -> Response:
    """The build's progress, polled by the page's progress bar."""
    return JSONResponse(status_payload(call), headers={"Cache-Control": "no-store"})


AREA = Area("publishing", [
    Route("/publish", publish_page, methods=["GET"]),
    Route("/publish", publish, methods=["POST"]),
    Route("/publish/status", publish_status, methods=["GET"]),
    Route("/releases/{release_id:int}/rollback", rollback, methods=["POST"]),
], label="Xuất bản", path="/publish")
