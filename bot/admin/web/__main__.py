"""`python -m bot.admin.web`: serve the admin page on BOT_ADMIN_HOST:BOT_ADMIN_PORT (127.0.0.1:5080).

Refuses to start (exit 2, saying how to fix it) unless BOT_ADMIN_ENABLED=1 and an account exists."""

from __future__ import annotations

import logging
import sys

from bot.admin.web.app import create_app, not_ready_reason
from bot.privacy import install_log_masking
from bot.settings import Settings

NOT_READY = 2


def main() -> int:
    settings = Settings.from_env()
    reason = not_ready_reason(settings)
    if reason:
        print(reason, file=sys.stderr)
        return NOT_READY
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    app = create_app(settings)
    print(f"Trang quản trị: http://{settings.admin_host}:{settings.admin_port}/  (admin page)", flush=True)
    uvicorn.run(app, host=settings.admin_host, port=settings.admin_port, log_level="info",
                server_header=False, proxy_headers=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
