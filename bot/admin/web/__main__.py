"""`python -m bot.admin.web`: serve the admin page on BOT_ADMIN_HOST:BOT_ADMIN_PORT (127.0.0.1:5080).

Refuses to start (exit 2, saying how to fix it) unless BOT_ADMIN_ENABLED=1 and an account exists;
exit 1 when the store cannot be opened."""

from __future__ import annotations

import logging
import sys
import threading

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.admin.web.app import create_app, not_ready_reason
from bot.core import logs
from bot.core.settings import Settings

NOT_READY = 2


def warm_up(embedder) -> None:
    try:
        embedder.encode_queries(["khởi động"])
    except Exception as err:  # the page still works; trials and publishing will report the problem
        logging.getLogger(__name__).warning("could not load the embedding model: %s", err)


def main() -> int:
    settings = Settings.from_env()
    try:
        reason = not_ready_reason(settings)
    except SQLAlchemyError as err:
        shown = make_url(settings.store_url).render_as_string(hide_password=True)
        print(f"Không mở được kho dữ liệu {shown}: {err.__class__.__name__}: {str(err).splitlines()[0]}\n"
              "Could not open the store: check BOT_STORE_URL and that the database server is running.",
              file=sys.stderr)
        return 1
    if reason:
        print(reason, file=sys.stderr)
        return NOT_READY
    import uvicorn

    logs.configure("admin")  # masked; <BOT_LOG_DIR>/admin.log, rotated, when BOT_LOG_DIR is set
    app = create_app(settings)
    # Load e5 now, in the background: the first "try a question" or publish would otherwise wait ~15 s for it.
    threading.Thread(target=warm_up, args=(app.state.admin.embedder,), name="warm-e5", daemon=True).start()
    print(f"Trang quản trị: http://{settings.admin_host}:{settings.admin_port}/  (admin page)", flush=True)
    # log_config=None: uvicorn's loggers reach ours instead of its own unmasked, unrotated stderr handlers.
    uvicorn.run(app, host=settings.admin_host, port=settings.admin_port, log_level="info", log_config=None,
                server_header=False, proxy_headers=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
