"""The admin web page through Starlette's TestClient, on a temporary SQLite store and on the real
PostgreSQL (the `store_url` fixture runs each core test on both; PostgreSQL missing fails, not skips).
The fake embedder stands in for e5: publishing, draft trials and grouping run for real on it."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import requests
from starlette.routing import Route
from starlette.testclient import TestClient

from bot.admin.web.app import SECURITY_HEADERS, NotReady, create_app
from bot.admin.web.auth import COOKIE
from bot.admin.web.throttle import LoginThrottle
from bot.core.limits import Limiter, MemoryCounters
from bot.core.settings import ROOT, Settings
from bot.replies.answers import answer_entry
from bot.store.accounts import Accounts
from bot.store.knowledge import KnowledgeStore
from bot.store.question_log import Events
from tools.launch import free_port

PUBLISHER, EDITOR, PASSWORD = "ngoc-anh", "van-ba", "mat-khau-du-dai-1"
NEW_ENTRY = {
    "topic": "vneid", "id": "", "title": "Đổi ảnh chân dung trên VNeID",
    "questions": "đổi ảnh vneid\ndoi anh vneid\nthay ảnh chân dung định danh\ncap nhat anh vneid",
    "answer": "Ảnh trên VNeID lấy từ dữ liệu căn cước; muốn đổi ảnh, bạn làm thủ tục tại Công an xã/phường.",
    "steps": "", "note": "", "source": "https://vneid.gov.vn/", "checked": "2026-11-20",
}
NEW_ID = "vneid-doi-anh-chan-dung"  # made from the title when the id is left empty


@dataclass
class Site:
    app: object
    store: KnowledgeStore
    accounts: Accounts
    events: Events
    settings: Settings

    def client(self, username: str | None = PUBLISHER) -> Person:
        person = Person(TestClient(self.app, follow_redirects=False))
        if username:
            person.login(username, PASSWORD)
        return person


class Person:
    """One browser: its own cookies, signed in or not."""

    def __init__(self, client: TestClient) -> None:
        self.http = client

    def login(self, username: str, password: str):
        page = self.http.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        return self.http.post("/login", data={"username": username, "password": password, "csrf": token,
                                              "next": "/entries"})

    def csrf(self) -> str:
        page = self.http.get("/entries")
        assert page.status_code == 200, page.text[:300]
        return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)

    def get(self, path: str, **kw):
        return self.http.get(path, **kw)

    def post(self, path: str, data: dict | None = None, csrf: bool = True):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf", self.csrf())
        return self.http.post(path, data=data)

    def edit_form(self, entry_id: str) -> dict[str, str]:
        """The edit form's fields as the page fills them (what a person would submit unchanged)."""
        page = self.get(f"/entries/{entry_id}").text
        values = {name: html.unescape(value) for name, value in
                  re.findall(r'<textarea id="(\w+)" name="\w+"[^>]*>(.*?)</textarea>', page, re.S)}
        values.update({name: html.unescape(value) for name, value in
                       re.findall(r'<input[^>]* name="(\w+)" type="(?:text|url|date|hidden)" value="([^"]*)"', page)})
        values.update({name: html.unescape(value) for name, value in
                       re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)})
        return values


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def field_block(page: str, name: str) -> str:
    """The HTML of one form field (label, input, its errors and warnings)."""
    match = re.search(rf'<div class="field[^"]*" id="field-{name}">(.*?)\n\s*</div>', page, re.S)
    assert match, f"no field {name} on the page"
    return match.group(0)


def fake_calibration(tmp_path):
    """Bars for the fake embedder's cosines: the shipped calibration was fitted on the real model's signals."""
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"thresholds": {"coverage_weight": 0.0, "min_confidence": 0.5,
                                               "min_confidence_out_of_scope": 0.9}}))
    return path


@pytest.fixture
def site(tmp_path, store_url, small_entries, fake_embedder) -> Site:
    settings = replace(Settings.from_env(), store_url=store_url, admin_enabled=True, index_dir=tmp_path / "index",
                       cache_dir=tmp_path / "cache", calibration_file=fake_calibration(tmp_path))
    store = KnowledgeStore.open(store_url)
    store.import_entries(small_entries, "seed", action="seed")
    accounts = Accounts(store.engine)
    accounts.add_user(PUBLISHER, PASSWORD, "publisher")
    accounts.add_user(EDITOR, PASSWORD, "editor")
    app = create_app(settings, store=store, embedder=fake_embedder)
    return Site(app, store, accounts, Events(store.engine), settings)


@pytest.fixture
def sqlite_site(tmp_path, small_entries, fake_embedder) -> Site:
    """For the tests that are about HTTP, not the database."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    settings = replace(Settings.from_env(), store_url=url, admin_enabled=True, index_dir=tmp_path / "index",
                       cache_dir=tmp_path / "cache", calibration_file=fake_calibration(tmp_path))
    store = KnowledgeStore.open(url)
    store.import_entries(small_entries, "seed", action="seed")
    accounts = Accounts(store.engine)
    accounts.add_user(PUBLISHER, PASSWORD, "publisher")
    accounts.add_user(EDITOR, PASSWORD, "editor")
    return Site(create_app(settings, store=store, embedder=fake_embedder), store, accounts, Events(store.engine),
                settings)


def routes(app, method: str) -> list[str]:
    """Every route of the app for a method (other areas' too), with real values in its path parameters."""
    values = {"entry_id": "vneid-kich-hoat", "number": "1", "release_id": "1", "name": "feedback"}
    paths = []
    for route in app.routes:
        if isinstance(route, Route) and method in (route.methods or ()):
            paths.append(re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), route.path))
    return paths


# ---------------------------------------------------------------------------------------------- signing in
def test_login_good_and_bad_and_the_audit_log(site):
    person = site.client(None)
    bad = person.login(PUBLISHER, "sai-mat-khau-roi")
    assert bad.status_code == 401 and "không đúng" in bad.text and COOKIE not in person.http.cookies
    assert person.get("/entries").status_code == 303
    good = person.login(PUBLISHER, PASSWORD)
    assert good.status_code == 303 and good.headers["location"] == "/entries"
    assert person.get("/entries").status_code == 200
    log = site.accounts.audit_log()
    assert [(r.username, r.action) for r in log[:2]] == [(PUBLISHER, "login"), (PUBLISHER, "login_failed")]
    elsewhere = site.client(None)
    page = elsewhere.get("/login?next=//evil.example/x")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    gone = elsewhere.http.post("/login", data={"username": EDITOR, "password": PASSWORD, "csrf": token,
                                               "next": "//evil.example/x"})
    assert gone.headers["location"] == "/entries"  # only paths on this site are followed after signing in
    assert not any("sai-mat-khau" in f"{r.target} {r.detail}" for r in log)  # the password typed is not kept


def test_session_cookie_is_httponly_strict_and_secure_when_configured(sqlite_site, fake_embedder):
    response = sqlite_site.client(None).login(PUBLISHER, PASSWORD)
    cookie = response.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower() and "secure" not in cookie.lower()
    secure = replace(sqlite_site.settings, admin_secure_cookies=True)
    app = create_app(secure, store=sqlite_site.store, embedder=fake_embedder)
    person = Person(TestClient(app, base_url="https://testserver", follow_redirects=False))
    assert "secure" in person.login(PUBLISHER, PASSWORD).headers["set-cookie"].lower()


def test_logout_ends_the_session_and_an_expired_session_opens_nothing(site):
    person = site.client()
    assert person.post("/logout").status_code == 303
    assert person.get("/entries").status_code == 303
    token, _ = site.accounts.start_session(site.accounts.users()[0], hours=-1)
    person.http.cookies.set(COOKIE, token)
    assert person.get("/entries").headers["location"].startswith("/login")
    assert [r.action for r in site.accounts.audit_log()][:1] == ["logout"]


def test_repeated_failed_logins_are_throttled(sqlite_site):
    clock = [1000.0]
    throttle = LoginThrottle(Limiter(MemoryCounters(lambda: clock[0])), per_account=3)
    sqlite_site.app.state.admin.extra["throttle"] = throttle
    person = sqlite_site.client(None)
    assert [person.login(EDITOR, "khong-dung-dau").status_code for _ in range(3)] == [401, 401, 401]
    blocked = person.login(EDITOR, PASSWORD)  # even the right password waits
    assert blocked.status_code == 429 and "đợi" in blocked.text
    assert sqlite_site.client(None).login(PUBLISHER, PASSWORD).status_code == 303  # another account: not blocked
    elsewhere = from_address(sqlite_site, "198.51.100.20")
    assert elsewhere.login(EDITOR, PASSWORD).status_code == 429  # guessing one account from many addresses: no
    clock[0] += 901
    assert person.login(EDITOR, PASSWORD).status_code == 303


def from_address(site: Site, address: str, **headers) -> Person:
    """A browser whose connection comes from `address` (the socket peer), sending extra headers."""
    return Person(TestClient(site.app, follow_redirects=False, client=(address, 50000), headers=headers))


def test_made_up_names_from_one_proxy_address_do_not_lock_the_publisher_out(sqlite_site):
    # No trusted proxy configured: everyone behind the proxy has its address.
    sprayer = from_address(sqlite_site, "10.0.0.2")
    statuses = [sprayer.login(f"gia-mao-{n}", "doan-thu-mat-khau").status_code for n in range(40)]
    assert set(statuses) == {401}  # every made-up name may be tried once: nothing to learn, nothing to lock
    assert sprayer.login("gia-mao-3", "doan-lan-hai").status_code == 429  # but not twice past the address limit
    publisher = from_address(sqlite_site, "10.0.0.2")
    assert publisher.login(PUBLISHER, PASSWORD).status_code == 303
    # the sprayer turns to the real names: one guess each, then that address waits for them
    assert sprayer.login(EDITOR, "doan-thu-mat-khau").status_code == 401
    assert sprayer.login(EDITOR, "doan-lan-hai").status_code == 429


def test_forwarded_addresses_are_believed_only_from_configured_proxies(sqlite_site):
    app = create_app(replace(sqlite_site.settings, admin_trusted_proxies=("10.0.0.0/24", "2001:db8::1")),
                     store=sqlite_site.store, embedder=sqlite_site.app.state.admin.embedder)
    site = replace(sqlite_site, app=app)
    forged = from_address(site, "203.0.113.50", **{"X-Forwarded-For": "198.51.100.1"})  # not a proxy: ignored
    assert forged.login(PUBLISHER, PASSWORD).status_code == 303
    via_proxy = from_address(site, "10.0.0.2", **{"X-Forwarded-For": "1.2.3.4, 198.51.100.77, 10.0.0.9"})
    assert via_proxy.login(EDITOR, "sai-mat-khau-roi").status_code == 401
    assert via_proxy.login(EDITOR, PASSWORD).status_code == 303
    via_v6 = from_address(site, "2001:db8::1", **{"X-Forwarded-For": "garbage, 2001:db8::77"})
    assert via_v6.login(PUBLISHER, PASSWORD).status_code == 303
    logged = [(r.username, r.action, r.target) for r in sqlite_site.accounts.audit_log()][:4]
    # the client's own address, not the proxy's, and not what a client wrote before the proxies' hops
    assert logged == [(PUBLISHER, "login", "2001:db8::77"), (EDITOR, "login", "198.51.100.77"),
                      (EDITOR, "login_failed", "198.51.100.77"), (PUBLISHER, "login", "203.0.113.50")]
    with pytest.raises(NotReady, match="BOT_ADMIN_TRUSTED_PROXIES"):
        create_app(replace(sqlite_site.settings, admin_trusted_proxies=("proxy.example",)), store=sqlite_site.store,
                   embedder=sqlite_site.app.state.admin.embedder)


class _Uvicorn:
    """The app on a real socket in a thread: requests from many threads really are concurrent."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _concurrent_guesses(app, accounts: Accounts, tries: int = 16) -> tuple[int, list[int]]:
    """`tries` browsers post a wrong password for the editor at the same moment; how many passwords were verified,
    and the statuses."""
    verified = []
    real_authenticate = accounts.authenticate

    def counting(username, password):
        verified.append(username)
        return real_authenticate(username, password)

    app.state.admin.accounts.authenticate = counting
    with _Uvicorn(app) as base:
        browsers = []
        for _ in range(tries):
            browser = requests.Session()
            token = re.search(r'name="csrf" value="([^"]+)"', browser.get(base + "/login").text).group(1)
            browsers.append((browser, token))
        start = threading.Barrier(tries)
        statuses = []

        def guess(browser, token) -> None:
            start.wait()
            statuses.append(browser.post(base + "/login", data={"username": EDITOR, "password": "doan-mo-thoi",
                                                                "csrf": token}, allow_redirects=False).status_code)

        threads = [threading.Thread(target=guess, args=b) for b in browsers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return len(verified), statuses


def test_concurrent_guesses_against_one_account_are_not_all_evaluated(sqlite_site):
    verified, statuses = _concurrent_guesses(sqlite_site.app, sqlite_site.accounts)
    assert verified == 5 and sorted(statuses) == [401] * 5 + [429] * 11


def test_concurrent_guesses_counted_in_redis_by_two_admin_processes(sqlite_site):
    """The scaled set-up: two admin processes share the counts in Redis (the real server; missing fails)."""
    import uuid

    import redis as redis_lib

    from bot.core.limits import RedisCounters

    client = redis_lib.Redis(host="127.0.0.1", port=6379, db=2)
    prefix = f"test-admin-{uuid.uuid4().hex}:"
    try:
        embedder = sqlite_site.app.state.admin.embedder
        first = create_app(sqlite_site.settings, store=sqlite_site.store, embedder=embedder)
        second = create_app(sqlite_site.settings, store=sqlite_site.store, embedder=embedder)
        for app in (first, second):
            app.state.admin.extra["throttle"] = LoginThrottle(Limiter(RedisCounters(client), prefix=prefix))
        assert [from_address(replace(sqlite_site, app=first), "10.1.1.1").login(EDITOR, "sai-mot-lan").status_code
                for _ in range(3)] == [401] * 3
        verified, statuses = _concurrent_guesses(second, sqlite_site.accounts)
        assert verified == 2 and statuses.count(401) == 2 and statuses.count(429) == 14
    finally:
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(site):
    editor = site.client(EDITOR)
    assert editor.get("/entries").status_code == 200
    publisher = site.client(PUBLISHER)
    page = publisher.get("/users").text
    assert "Đang dùng" in page and f'action="/users/{EDITOR}/disable"' in page
    assert f'action="/users/{PUBLISHER}/disable"' not in page  # nobody locks themselves out
    done = publisher.post(f"/users/{EDITOR}/disable")
    assert done.status_code == 303 and done.headers["location"] == "/users?done=disabled"
    assert editor.get("/entries").status_code == 303  # the open session ended at once
    assert site.client(None).login(EDITOR, PASSWORD).status_code == 401  # and the right password opens nothing
    assert "Đã khóa" in text_of(publisher.get("/users").text)
    assert publisher.post(f"/users/{PUBLISHER}/disable").status_code == 400
    assert publisher.post("/users/khong-ai/disable").status_code == 404
    assert site.client(EDITOR).get("/users").status_code == 303  # (the editor is disabled: not even signed in)
    assert publisher.post(f"/users/{EDITOR}/enable").status_code == 303
    assert site.client(EDITOR).get("/users").status_code == 403  # editors do not manage accounts
    log = [(r.action, r.target) for r in site.accounts.audit_log()]
    assert ("user_disable", EDITOR) in log and ("user_enable", EDITOR) in log


def test_no_session_cannot_read_any_page(sqlite_site):
    person = sqlite_site.client(None)
    pages = [p for p in routes(sqlite_site.app, "GET") if p != "/login"]
    assert {"/entries", "/entries/new", "/publish", "/unanswered", "/audit", "/publish/status"} <= set(pages)
    for path in pages:
        response = person.get(path)
        if path == "/publish/status":
            assert response.status_code == 401, path
        else:
            assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path
        assert "Kích hoạt" not in response.text and "kich hoat" not in response.text, path


def test_every_post_checks_the_csrf_token(sqlite_site):
    person = sqlite_site.client()
    posts = routes(sqlite_site.app, "POST")
    assert len(posts) >= 8
    before = sqlite_site.store.get("vneid-kich-hoat").revision
    for path in posts:
        if path == "/login":
            continue
        for token in (None, "sai"):
            data = {"base_revision": str(before), **NEW_ENTRY} | ({"csrf": token} if token else {})
            response = person.post(path, data, csrf=False)
            assert response.status_code == 403 and "không hợp lệ" in response.text, (path, token)
    assert sqlite_site.store.get("vneid-kich-hoat").revision == before and sqlite_site.store.get(NEW_ID) is None
    assert sqlite_site.store.releases() == [] and person.get("/entries").status_code == 200  # still signed in
    login_without_cookie = TestClient(sqlite_site.app, follow_redirects=False).post(
        "/login", data={"username": PUBLISHER, "password": PASSWORD, "csrf": "x"})
    assert login_without_cookie.status_code == 403


def test_security_headers_on_every_kind_of_response(sqlite_site):
    person = sqlite_site.client()
    for path in ("/login", "/entries", "/publish/status", "/static/admin.css", "/insights/plots/topics.png",
                 "/nowhere"):
        headers = person.get(path).headers
        for name, value in SECURITY_HEADERS.items():
            assert headers.get(name) == value, (path, name)
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff", path
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert person.get("/entries").headers["cache-control"] == "no-store"
    templates = Path(__file__).resolve().parent.parent / "bot" / "admin" / "web" / "templates"
    for template in templates.glob("*.html"):  # the CSP would block these anyway: keep the pages working
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"<[^>]+\s(style|on[a-z]+)\s*=", text), template.name


# ---------------------------------------------------------------------------------------------- entries
def test_editor_can_edit_but_cannot_publish_or_roll_back(site):
    publisher = site.client(PUBLISHER)
    assert publisher.post("/publish").status_code == 303
    site.app.state.admin.publisher.wait(60)
    editor = site.client(EDITOR)
    form = editor.edit_form("vneid-kich-hoat") | {"answer": "Khi hồ sơ được duyệt, bạn kích hoạt trên VNeID.",
                                                  "action": "save"}
    assert editor.post("/entries/vneid-kich-hoat", form).status_code == 303
    assert site.store.get("vneid-kich-hoat").entry.answer.startswith("Khi hồ sơ được duyệt")
    page = editor.get("/publish").text
    assert re.search(r'id="publish-button" disabled', page) and "biên tập viên" in page
    assert editor.post("/publish").status_code == 403
    assert editor.post("/releases/1/rollback").status_code == 403
    assert [r.id for r in site.store.releases()] == [1]
    assert site.store.get("vneid-kich-hoat").revision == 2  # the rollback did not happen either


def test_validation_errors_are_shown_next_to_their_field_and_nothing_is_saved(site):
    person = site.client()
    response = person.post("/entries/new", {**NEW_ENTRY, "source": "vneid.gov.vn", "checked": "20/11/2026",
                                            "problems": "bước một: sai", "action": "save"})
    assert response.status_code == 422
    page = response.text
    assert "http(s)" in text_of(field_block(page, "source")) and 'aria-invalid="true"' in field_block(page, "source")
    assert "NĂM-THÁNG-NGÀY" in text_of(field_block(page, "checked"))
    assert "số bước" in text_of(field_block(page, "problems"))
    assert 'class="error"' not in field_block(page, "title")
    assert "vneid.gov.vn" in field_block(page, "source") and "thay ảnh chân dung" in page  # typed text kept
    assert site.store.get(NEW_ID) is None
    no_topic = person.post("/entries/new", {**NEW_ENTRY, "topic": "", "action": "save"}).text
    assert "chọn chủ đề" in text_of(field_block(no_topic, "topic"))


def test_advice_is_a_warning_and_problems_lines_are_saved_per_step(site):
    person = site.client()
    response = person.post("/entries/new", {**NEW_ENTRY, "questions": "đổi ảnh vneid\ndoi anh vneid",
                                            "steps": "Mang căn cước đến Công an xã.\nChụp ảnh mới.",
                                            "problems": "1: Quên mang căn cước\n2: Ảnh bị mờ\n2: Đeo kính",
                                            "action": "save"})
    assert response.status_code == 303
    saved = site.store.get(NEW_ID).entry
    assert saved.problems == ((1, ("Quên mang căn cước",)), (2, ("Ảnh bị mờ", "Đeo kính")))
    page = person.get(f"/entries/{NEW_ID}").text
    assert "Gợi ý:" in field_block(page, "questions") and "ít nhất 4" in field_block(page, "questions")
    assert "2: Ảnh bị mờ\n2: Đeo kính" in html.unescape(field_block(page, "problems"))


def test_the_apps_error_messages_are_saved_one_per_line_and_checked(site):
    person = site.client()
    too_long = "Lỗi " + "x" * 200
    refused = person.post("/entries/new", {**NEW_ENTRY, "errors": f"Mã OTP không đúng\n{too_long}", "action": "save"})
    assert refused.status_code == 422 and "200 ký tự" in text_of(field_block(refused.text, "errors"))
    assert site.store.get(NEW_ID) is None
    saved = person.post("/entries/new", {**NEW_ENTRY, "errors": "Mã OTP không đúng\n\n- Mã OTP đã hết hạn",
                                          "action": "save"})
    assert saved.status_code == 303
    assert site.store.get(NEW_ID).entry.errors == ("Mã OTP không đúng", "Mã OTP đã hết hạn")
    page = person.get(f"/entries/{NEW_ID}").text
    assert "Mã OTP không đúng\nMã OTP đã hết hạn" in html.unescape(field_block(page, "errors"))
    form = person.edit_form(NEW_ID)
    person.post(f"/entries/{NEW_ID}", form | {"errors": "Mã OTP không đúng", "action": "save"})
    history = person.get(f"/entries/{NEW_ID}/history").text
    assert re.search(r'<li class="removed">.*Thông báo lỗi của ứng dụng: Mã OTP đã hết hạn', history)


def test_create_edit_and_retire_from_the_list(site):
    person = site.client()
    assert person.post("/entries/new", {**NEW_ENTRY, "action": "save"}).headers["location"] == \
        f"/entries/{NEW_ID}?msg=created"
    listing = person.get("/entries", params={"q": "doi anh", "topic": "vneid"}).text
    assert NEW_ID in listing and "vneid-kich-hoat" not in listing
    again = person.post("/entries/new", {**NEW_ENTRY, "action": "save"})
    assert again.status_code == 409 and "đã có mục" in text_of(field_block(again.text, "id"))
    revision = site.store.get(NEW_ID).revision
    assert person.post(f"/entries/{NEW_ID}/retire", {"base_revision": revision}).status_code == 303
    assert site.store.get(NEW_ID).status == "retired"
    assert NEW_ID not in person.get("/entries", params={"status": "active"}).text
    assert person.post(f"/entries/{NEW_ID}/reactivate", {"base_revision": revision + 1}).status_code == 303
    assert site.store.get(NEW_ID).status == "active"


def test_two_admins_editing_the_same_revision_do_not_overwrite_each_other(site):
    first, second = site.client(PUBLISHER), site.client(EDITOR)
    form_a, form_b = first.edit_form("vneid-kich-hoat"), second.edit_form("vneid-kich-hoat")
    assert form_a["base_revision"] == form_b["base_revision"] == "1"
    mine = "Bản của người thứ hai: kích hoạt khi nhận tin nhắn duyệt hồ sơ mức 2."
    assert first.post("/entries/vneid-kich-hoat", form_a | {"answer": "Bản của người thứ nhất.", "action": "save"}
                      ).status_code == 303
    clash = second.post("/entries/vneid-kich-hoat", form_b | {"answer": mine, "action": "save"})
    assert clash.status_code == 409
    conflict = text_of(re.search(r'<section class="conflict.*?</section>', clash.text, re.S).group(0))
    assert PUBLISHER in conflict and "Bản của người thứ nhất." in conflict and "bản 2" in conflict
    assert html.unescape(re.search(r'<textarea id="answer"[^>]*>(.*?)</textarea>', clash.text, re.S).group(1)) == mine
    assert site.store.get("vneid-kich-hoat").entry.answer == "Bản của người thứ nhất."
    assert 'name="base_revision" value="2"' in clash.text  # saving again now is a choice made knowingly
    assert second.post("/entries/vneid-kich-hoat", form_b | {"answer": mine, "base_revision": "2",
                                                             "action": "save"}).status_code == 303
    assert site.store.get("vneid-kich-hoat").entry.answer == mine


def test_history_shows_readable_differences_and_restores_a_revision(site):
    person = site.client()
    form = person.edit_form("vneid-quen-mat-khau")
    person.post("/entries/vneid-quen-mat-khau", form | {"answer": "Lời dẫn mới.", "comment": "sửa lời dẫn",
                                                        "action": "save"})
    page = person.get("/entries/vneid-quen-mat-khau/history").text
    newest = page.split('id="rev-2"')[1].split('id="rev-1"')[0]
    assert "sửa lời dẫn" in newest and PUBLISHER in newest
    assert re.search(r'<li class="removed">.*Trả lời: Bạn lấy lại mật khẩu ngay trên ứng dụng:', newest)
    assert re.search(r'<li class="added">.*Trả lời: Lời dẫn mới\.', newest)
    assert "Khôi phục bản 1" in page and "Khôi phục bản 2" not in page
    assert person.post("/entries/vneid-quen-mat-khau/restore/1", {"base_revision": "2"}).status_code == 303
    restored = site.store.get("vneid-quen-mat-khau")
    assert restored.revision == 3 and restored.entry.answer == "Bạn lấy lại mật khẩu ngay trên ứng dụng:"
    assert ("restore", "vneid-quen-mat-khau") in [(r.action, r.target) for r in site.accounts.audit_log()]


def test_preview_is_exactly_what_a_resident_sees(site):
    person = site.client()
    form = person.edit_form("vneid-quen-mat-khau") | {"note": "Cần điện thoại đang dùng số đã đăng ký.",
                                                      "action": "preview"}
    page = person.post("/entries/vneid-quen-mat-khau", form).text
    shown = html.unescape(re.search(r'<div class="bubble" id="preview-text">(.*?)</div>', page, re.S).group(1))
    draft = replace(site.store.get("vneid-quen-mat-khau").entry, note="Cần điện thoại đang dùng số đã đăng ký.")
    expected = answer_entry(draft, {e.id: e for e in site.store.active_entries()})
    assert shown == expected.text
    buttons = [html.unescape(b) for b in re.findall(r"<li>(.*?)</li>", re.search(
        r'<ul class="reply-buttons">(.*?)</ul>', page, re.S).group(1))]
    assert buttons == [b["title"] for b in expected.buttons] and "Gặp người hỗ trợ" in buttons
    assert site.store.get("vneid-quen-mat-khau").revision == 1  # previewing saves nothing


def test_trying_a_question_against_the_draft(site):
    person = site.client()
    draft = {**NEW_ENTRY, "action": "test", "test_question": "cap nhat anh vneid"}
    page = person.post("/entries/new", draft).text
    result = text_of(re.search(r'<section class="card trial-result answer".*?</section>', page, re.S).group(0))
    assert NEW_ID in result and "chính là bản nháp này" in result and "Độ tin cậy" in result
    assert site.store.get(NEW_ID) is None  # nothing saved
    declined = person.post("/entries/new", draft | {"test_question": "giá vàng hôm nay bao nhiêu"}).text
    assert 'trial-result decline' in declined and "không trả lời" in declined
    existing = person.edit_form("hoa-don-tra-cuu") | {"action": "test", "test_question": "tra cuu hddt"}
    assert "chính là bản nháp này" in person.post("/entries/hoa-don-tra-cuu", existing).text
    empty = person.post("/entries/new", draft | {"test_question": ""}).text
    assert "nhập một câu hỏi" in text_of(empty)


# ---------------------------------------------------------------------------------------------- unanswered
def test_unanswered_groups_become_a_prefilled_entry_and_leave_the_list(site):
    for text in ("đổi ảnh vneid ở đâu", "doi anh vneid o dau", "đổi ảnh trên vneid ở đâu vậy"):
        site.events.record_question("declined", text)
    site.events.record_question("declined", "giờ làm việc của bưu điện xã")
    site.events.record_question("answered", "kich hoat vneid", entry_id="vneid-kich-hoat", topic="vneid")
    site.events.record_feedback("vneid-kich-hoat", True)
    person = site.client(EDITOR)
    page = person.get("/unanswered").text
    groups = re.findall(r'<li class="card group">(.*?)</li>\n  \n?', page, re.S)
    assert len(groups) == 2
    first = text_of(groups[0])
    assert "3 lần" in first and "Lần đầu" in first and "gần nhất" in first
    assert all(f'src="/insights/plots/{n}.png"' in page for n in ("unanswered", "feedback", "topics"))
    for name in ("unanswered", "feedback", "topics"):
        png = person.get(f"/insights/plots/{name}.png")
        assert png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    ids = re.search(r'name="ids" value="([\d,]+)"', groups[0]).group(1)
    form = person.post("/unanswered/draft", {"ids": ids}).text
    assert f'name="resolves" value="{ids}"' in form
    questions = html.unescape(re.search(r'<textarea id="questions"[^>]*>(.*?)</textarea>', form, re.S).group(1))
    assert "đổi ảnh vneid ở đâu" in questions.splitlines()
    assert re.search(r'<option value="vneid" selected>', form)  # topic guessed from the questions
    draft = {"topic": "vneid", "id": re.search(r'name="id" type="text" value="([^"]*)"', form).group(1),
             "title": html.unescape(re.search(r'name="title" type="text" value="([^"]*)"', form).group(1)),
             "questions": questions, "answer": NEW_ENTRY["answer"], "source": "https://vneid.gov.vn/",
             "checked": "2026-11-20", "resolves": ids, "action": "save"}
    saved = person.post("/entries/new", draft)
    assert saved.status_code == 303, text_of(saved.text)[-1500:]
    entry_id = saved.headers["location"].split("/")[2].split("?")[0]
    left = [r.text for r in site.events.unanswered()]
    assert left == ["giờ làm việc của bưu điện xã"]
    resolved = [r for r in site.events.questions() if r.resolved_by]
    assert len(resolved) == 3 and {r.resolved_by for r in resolved} == {entry_id}
    assert "1 lần" in text_of(person.get("/unanswered").text)
    assert person.post("/unanswered/draft", {"ids": ids}).headers["location"] == "/unanswered"  # already done


# ---------------------------------------------------------------------------------------------- publishing
class CountingEmbedder:
    """The fake embedder, counting the texts it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner, self.embedded = inner, 0
        self.name = "counting-fake"

    def encode_queries(self, texts, progress: bool = False):
        self.embedded += len(texts)
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts, progress: bool = False):
        return self.encode_queries(texts)


def test_reloading_the_unanswered_page_embeds_only_new_questions(sqlite_site, fake_embedder):
    for n in range(40):
        sqlite_site.events.record_question("declined", f"thủ tục đăng ký số {n} làm ở đâu")
    sqlite_site.events.record_question("declined", "")  # a flood past its share: counted, no text (question_flood)
    counting = CountingEmbedder(fake_embedder)

    def page_of(app) -> str:
        person = Person(TestClient(app, follow_redirects=False))
        person.login(EDITOR, PASSWORD)
        return person.get("/unanswered").text

    app = create_app(sqlite_site.settings, store=sqlite_site.store, embedder=counting)
    assert "(40 câu)" in page_of(app) and counting.embedded == 40
    page_of(app)
    assert counting.embedded == 40  # a reload embeds nothing again
    restarted = create_app(sqlite_site.settings, store=sqlite_site.store, embedder=counting)
    page_of(restarted)
    assert counting.embedded == 40  # nor does a restart: the vectors are on disk
    sqlite_site.events.record_question("declined", "thủ tục đăng ký số 99 làm ở đâu")
    page_of(restarted)
    assert counting.embedded == 41


def test_publish_shows_changes_progress_and_rolls_back(site):
    person = site.client()
    assert person.post("/publish").headers["location"] == "/publish?msg=started"
    assert site.app.state.admin.publisher.wait(60).state == "live"
    status = person.get("/publish/status").json()
    assert status["state"] == "live" and status["percent"] == 100 and status["release_id"] == 1
    person.post("/entries/new", {**NEW_ENTRY, "action": "save"})
    page = person.get("/publish").text
    assert NEW_ID in text_of(re.search(r'id="changes-title".*?</section>', page, re.S).group(0))
    assert 'id="progress-bar"' in page and "/static/admin.js" in page
    person.post("/publish")
    site.app.state.admin.publisher.wait(60)
    assert site.store.live_release().id == 2 and NEW_ID in site.store.live_release().snapshot
    page = person.get("/publish").text
    assert re.search(r'action="/releases/1/rollback"', page) and not re.search(r'action="/releases/2/rollback"', page)
    assert person.post("/releases/1/rollback").headers["location"] == "/publish?msg=rolled_back"
    site.app.state.admin.publisher.wait(60)
    live = site.store.live_release()
    assert live.id == 3 and NEW_ID not in live.snapshot and site.store.get(NEW_ID).status == "retired"
    actions = [r.action for r in site.accounts.audit_log()]
    assert actions[:4] == ["rollback", "publish", "create", "publish"]


class BrokenEmbedder:
    """A model that cannot load (a missing file on the server): every build with it fails."""

    name = "broken"

    def encode_queries(self, texts, progress=False):
        raise FileNotFoundError("no model at /nonexistent/model")

    encode_passages = encode_queries


def test_a_failed_build_says_the_previous_version_still_serves(site):
    site.client().post("/publish")
    site.app.state.admin.publisher.wait(60)
    site.client().post("/entries/new", {**NEW_ENTRY, "action": "save"})
    broken = create_app(site.settings, store=site.store, embedder=BrokenEmbedder())
    person = Person(TestClient(broken, follow_redirects=False))
    person.login(PUBLISHER, PASSWORD)
    person.post("/publish")
    assert broken.state.admin.publisher.wait(60).state == "failed"
    page = text_of(person.get("/publish").text)
    assert "không thành công" in page and "Bot vẫn đang dùng bản trước" in page and "Lỗi" in page
    assert site.store.live_release().id == 1


def test_every_change_is_in_the_audit_log(site):
    person = site.client()
    person.post("/entries/new", {**NEW_ENTRY, "action": "save"})
    form = person.edit_form(NEW_ID)
    person.post(f"/entries/{NEW_ID}", form | {"answer": "Trả lời đã sửa.", "action": "save"})
    person.post(f"/entries/{NEW_ID}/retire", {"base_revision": "2"})
    person.post(f"/entries/{NEW_ID}/restore/1", {"base_revision": "3"})
    person.post("/publish")
    site.app.state.admin.publisher.wait(60)
    person.post("/logout")
    log = [(r.action, r.target) for r in site.accounts.audit_log()]
    assert log[:7] == [("logout", ""), ("publish", "bản #1"), ("restore", NEW_ID), ("retire", NEW_ID),
                       ("edit", NEW_ID), ("create", NEW_ID), ("login", "testclient")]
    reader = site.client(EDITOR)
    page = text_of(reader.get("/audit").text)
    assert "Ngừng dùng mục" in page and NEW_ID in page and PUBLISHER in page


# ---------------------------------------------------------------------------------------------- start-up
def test_the_app_refuses_to_start_when_off_or_without_accounts(tmp_path, fake_embedder):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    settings = replace(Settings.from_env(), store_url=url, admin_enabled=False)
    with pytest.raises(NotReady, match="BOT_ADMIN_ENABLED=1"):
        create_app(settings, embedder=fake_embedder)
    with pytest.raises(NotReady, match="user add"):
        create_app(replace(settings, admin_enabled=True), embedder=fake_embedder)


def _serve(tmp_path: Path, **env) -> subprocess.Popen:
    full = {**os.environ, "PYTHONPATH": str(ROOT), "BOT_STORE_URL": f"sqlite:///{tmp_path / 'store.db'}",
            "BOT_CACHE_DIR": str(tmp_path / "cache"), **env}
    full = {k: v for k, v in full.items() if v is not None}
    return subprocess.Popen([sys.executable, "-m", "bot.admin.web"], cwd=ROOT, env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_the_server_refuses_to_start_unless_enabled_with_an_account_then_serves(tmp_path):
    off = _serve(tmp_path, BOT_ADMIN_ENABLED=None)
    _, err = off.communicate(timeout=60)
    assert off.returncode == 2 and "BOT_ADMIN_ENABLED=1" in err
    no_account = _serve(tmp_path, BOT_ADMIN_ENABLED="1")
    _, err = no_account.communicate(timeout=60)
    assert no_account.returncode == 2 and "python -m bot.admin user add" in err and "BOT_ADMIN_PASSWORD" in err
    Accounts.open(f"sqlite:///{tmp_path / 'store.db'}").add_user(PUBLISHER, PASSWORD, "publisher")
    port = free_port()
    server = _serve(tmp_path, BOT_ADMIN_ENABLED="1", BOT_ADMIN_PORT=str(port))
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[1][-2000:]
            try:
                response = requests.get(f"http://127.0.0.1:{port}/entries", allow_redirects=False, timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the admin server did not start"
                time.sleep(0.3)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
        assert response.headers["x-frame-options"] == "DENY"
    finally:
        server.terminate()
        server.communicate(timeout=30)
