"""The web chat page's files: which names may be served, and the page's own hygiene (no CDN, no inline
script, no HTML parsing of text). Pure: no Rasa, no browser."""

from __future__ import annotations

import re

import pytest

from bot.rasa_side.channels.static_files import CONTENT_TYPES, INDEX, SECURITY_HEADERS, STATIC_DIR, headers_for, resolve

PAGE = (STATIC_DIR / INDEX).read_text(encoding="utf-8")
SCRIPT = (STATIC_DIR / "chat.js").read_text(encoding="utf-8")
STYLE = (STATIC_DIR / "chat.css").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "name, expected",
    [("", INDEX), (INDEX, INDEX), ("chat.js", "chat.js"), ("chat.css", "chat.css"), ("icon.svg", "icon.svg")],
)
def test_page_files_resolve(name, expected):
    assert resolve(name) == STATIC_DIR / expected


@pytest.mark.parametrize(
    "name",
    [
        "..", ".", "../webchat.py", "../../credentials.yml", "..%2Fwebchat.py", "%2e%2e", "/etc/passwd",
        "sub/chat.js", "sub\\chat.js", "..\\chat.js", ".hidden.js", "chat.js/..", "chat.js\x00.png",
        "webchat.py", "static_files.py", "missing.js", "CHAT.JS", "chat", "a" * 200 + ".js", "chat.js ", "~root.js",
    ],
)
def test_anything_else_is_refused(name):
    assert resolve(name) is None


def test_symlink_out_of_the_folder_is_refused(tmp_path):
    root = tmp_path / "static"
    root.mkdir()
    (tmp_path / "secret.js").write_text("secret")
    (root / "leak.js").symlink_to(tmp_path / "secret.js")
    (root / "ok.js").write_text("ok")
    (root / "folder.js").mkdir()
    assert resolve("ok.js", root) == root / "ok.js"
    assert resolve("leak.js", root) is None
    assert resolve("folder.js", root) is None


def test_headers_name_the_type_and_forbid_inline_script():
    headers = headers_for(STATIC_DIR / "chat.js")
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp and "frame-ancestors 'none'" in csp
    assert all(t.startswith(("text/", "image/")) for t in CONTENT_TYPES.values())


def test_every_file_the_page_loads_is_served():
    refs = re.findall(r'(?:src|href)="([^"#]+)"', PAGE)
    assert {"chat.js", "chat.css", "icon.svg"} <= set(refs)
    for ref in refs:
        assert resolve(ref) is not None, ref


def test_nothing_is_loaded_from_elsewhere():
    """No CDN, no web fonts, no remote images: the page works on a laptop with no internet."""
    for text in (PAGE, SCRIPT, STYLE):
        assert not re.search(r'(?:src|href)="(?:https?:)?//', text)
        assert "@import" not in text and "url(" not in text and "@font-face" not in text
    assert "fetch(REST_URL" in SCRIPT and 'REST_URL = "../rest/webhook"' in SCRIPT  # same origin only


def test_page_works_under_its_content_security_policy():
    """No inline script, inline style or inline event handler (the CSP would block them)."""
    assert re.findall(r"<script\b[^>]*>", PAGE) == ['<script src="chat.js">']
    assert "<style" not in PAGE and " style=" not in PAGE
    assert not re.search(r"\son[a-z]+=", PAGE)


def test_text_is_never_parsed_as_html():
    sinks = (
        r"\.(?:inner|outer)HTML\s*\+?=|insertAdjacentHTML\s*\(|document\.write|\beval\s*\("
        r"|new Function|DOMParser|setAttribute\(\"style"
    )
    assert not re.findall(sinks, SCRIPT)
    assert "textContent" in SCRIPT and "createTextNode" in SCRIPT


def test_page_is_vietnamese_and_labelled():
    assert '<html lang="vi">' in PAGE and 'name="viewport"' in PAGE
    assert '<label for="message"' in PAGE and 'id="message"' in PAGE
    assert 'role="log"' in PAGE and 'aria-live="polite"' in PAGE and 'role="status"' in PAGE
    assert 'aria-pressed="false"' in PAGE and "Chữ lớn" in PAGE
