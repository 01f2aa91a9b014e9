"""Which file of the web chat page a request may read, and the headers it is served with.

Pure (no Rasa or Sanic import), so the path checks are tested on their own. Only plain file names
directly inside the static folder are served: no sub-folders, no dot-files, no `..`, no symlinks that
lead outside, and only the few file types the page uses.
"""

from __future__ import annotations

import re
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().with_name("webchat_static")
INDEX = "index.html"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

# A letter or digit first (so no ".", "..", ".env"), then letters, digits, "-", "_", and one extension.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.[a-z0-9]{1,8}")

# The page loads only its own files and talks only to its own origin; text from the bot can never
# become script (defence in depth: chat.js never parses bot text as HTML in the first place).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
        "connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def resolve(name: str, root: Path = STATIC_DIR) -> Path | None:
    """The file to serve for `name` (empty means the page itself), or None when it must not be served."""
    name = name or INDEX
    if not _NAME.fullmatch(name) or Path(name).suffix not in CONTENT_TYPES:
        return None
    base = root.resolve()
    path = (base / name).resolve()
    if path.parent != base or not path.is_file():
        return None
    return path


def content_type(path: Path) -> str:
    """The Content-Type header for a file that `resolve` returned."""
    return CONTENT_TYPES[path.suffix]


def headers_for(path: Path) -> dict[str, str]:
    """Response headers for a served file: its type plus the security headers."""
    return {"Content-Type": content_type(path), **SECURITY_HEADERS}
