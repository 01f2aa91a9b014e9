"""Fuzzing the admin page's forms with Hypothesis: login, entry edit, ticket reply and close, user management.

At least 10,000 generated requests in all (QUOTA below), each a form of the real fields with random, huge, odd or
missing values plus made-up fields, or a raw body under a random content type. Every answer must be a page or a
redirect (never a 500, never an exception out of the app). Bounded in time: a fixed number of examples, argon2 at
its cheapest (the fuzz is about parsing and handling, not hashing), the SQLite store, no network; derandomized,
so CI runs the same inputs every time.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from urllib.parse import quote

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from starlette.testclient import TestClient

from bot.admin.web.app import create_app
from bot.admin.web.auth import COOKIE, LOGIN_COOKIE
from bot.admin.web.forms import FIELDS
from bot.admin.web.throttle import LoginThrottle
from bot.core.limits import Limiter, MemoryCounters
from bot.core.settings import Settings
from bot.store import accounts as accounts_module
from bot.store.accounts import Accounts
from bot.store.knowledge import KnowledgeStore
from bot.store.tickets import Tickets

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")  # 200 kB values' reprs
PUBLISHER, EDITOR, PASSWORD = "ngoc-anh", "van-ba", "mat-khau-du-dai-1"
QUOTA = {"login": 3000, "entries": 2500, "tickets": 2500, "users": 2000}  # 10,000 requests
FUZZ = settings(max_examples=1, deadline=None, database=None, derandomize=True, phases=[Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck))

ODD = ["", " ", "0", "-1", "1e309", "²", "٣", "NaN", "\x00", "\r\n", "\u202e", "🙂" * 50, "<script>alert(1)</script>",
       "{{ 7*7 }}", "%00", "../../etc/passwd", "a" * 5000, "\n" * 300, "1: bước\n2:", "null", "[]", "{}", "'; --",
       "vneid-kich-hoat", "HT-KM482", PUBLISHER, EDITOR, "x" * 200_001]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=400)
VALUE = st.one_of(TEXT, st.sampled_from(ODD), st.integers().map(str), st.text(max_size=3000))
VALID = {"topic": "vneid", "id": "", "title": "Đổi ảnh chân dung trên VNeID",
         "questions": "đổi ảnh vneid\ndoi anh vneid\nthay ảnh chân dung định danh\ncap nhat anh vneid",
         "answer": "Ảnh trên VNeID lấy từ dữ liệu căn cước; muốn đổi ảnh, bạn làm thủ tục tại Công an xã/phường.",
         "steps": "Mở ứng dụng.\nBấm Đổi ảnh.", "source": "https://vneid.gov.vn/", "checked": "2026-11-20",
         "test_question": "đổi ảnh vneid thế nào"}
CONTENT_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "multipart/form-data",
                 "application/json", "text/plain", "", "application/x-www-form-urlencoded; charset=latin-1"]


def form(fields: tuple[str, ...]):
    """A form: some of the real fields (each with a fuzzed value, sometimes repeated) and a few made-up ones."""
    real = st.dictionaries(st.sampled_from(fields), st.one_of(VALUE, st.lists(VALUE, min_size=2, max_size=3)),
                           max_size=len(fields))
    extra = st.dictionaries(st.text(min_size=1, max_size=20), VALUE, max_size=3)
    return st.builds(lambda a, b: {**b, **a}, real, extra)


RAW = st.tuples(st.binary(max_size=3000), st.sampled_from(CONTENT_TYPES))


@pytest.fixture(scope="module")
def site(tmp_path_factory, small_entries_module):
    tmp = tmp_path_factory.mktemp("fuzz")
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    patch = pytest.MonkeyPatch()
    patch.setattr(accounts_module, "_hasher", cheap)
    patch.setattr(accounts_module, "_DUMMY_HASH", cheap.hash("not a password"))
    url = f"sqlite:///{tmp / 'store.db'}"
    settings_ = replace(Settings.from_env(), store_url=url, admin_enabled=True, index_dir=tmp / "index",
                        cache_dir=tmp / "cache")
    store = KnowledgeStore.open(url)
    store.import_entries(small_entries_module, "seed", action="seed")
    accounts = Accounts(store.engine)
    accounts.add_user(PUBLISHER, PASSWORD, "publisher")
    accounts.add_user(EDITOR, PASSWORD, "editor")
    from tests.conftest import FakeEmbedder

    app = create_app(settings_, store=store, embedder=FakeEmbedder())
    # Limits high enough that the password check itself is fuzzed, low enough that the refusal path is too.
    app.state.admin.extra["throttle"] = LoginThrottle(Limiter(MemoryCounters()), per_account=200, per_address=10**6)
    tickets = Tickets.open(url)
    codes = [tickets.create(f"web-{n:024x}", "webchat", "", "vneid", [("resident", "cần gặp cán bộ")]).code
             for n in range(5)]
    yield app, accounts, codes
    patch.undo()


@pytest.fixture(scope="module")
def small_entries_module():
    from tests.conftest import make_entry

    return [make_entry("vneid-kich-hoat", "Kích hoạt tài khoản định danh điện tử",
                       ["kích hoạt tài khoản VNeID", "kich hoat vneid", "cách kích hoạt định danh", "mới được duyệt"]),
            make_entry("hoa-don-tra-cuu", "Tra cứu hóa đơn điện tử",
                       ["tra cứu hóa đơn điện tử", "kiểm tra hóa đơn thật giả", "tra cuu hddt", "xem hóa đơn ở đâu"])]


def signed_in(app, username: str = PUBLISHER) -> tuple[TestClient, str]:
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert client.post("/login", data={"username": username, "password": PASSWORD, "csrf": token}).status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/entries").text).group(1)
    return client, csrf


def post(client: TestClient, path: str, body, csrf: str | None, with_csrf: bool):
    """POST a fuzzed form (with the right CSRF token when asked) or a raw body."""
    if isinstance(body, tuple):
        raw, content_type = body
        headers = {"content-type": content_type} if content_type else {}
        return client.post(path, content=raw, headers=headers)
    data = dict(body)
    if with_csrf and csrf is not None:
        data["csrf"] = csrf
    return client.post(path, data=data)


def check(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}\n{response.text[:1500]}"


def run(quota: int, strategy, one) -> int:
    """Run `one(example)` on `quota` generated examples; return how many ran."""
    ran = [0]

    @settings(FUZZ, max_examples=quota)
    @given(strategy)
    def fuzz(example) -> None:
        ran[0] += 1
        one(example)

    started = time.monotonic()
    fuzz()
    print(f"{ran[0]} inputs in {time.monotonic() - started:.1f} s")
    return ran[0]


def test_fuzz_login(site):
    app, _, _ = site
    client = TestClient(app, follow_redirects=False)
    login_form = form(("username", "password", "csrf", "next"))
    examples = st.tuples(st.one_of(login_form, login_form, RAW), st.integers(0, 4).map(bool),
                         st.sampled_from([PUBLISHER, None]))

    def one(example) -> None:
        body, matching_cookie, name = example
        client.cookies.clear()
        if isinstance(body, dict):
            body = dict(body)
            if name and "username" not in body:
                body["username"] = name
            if matching_cookie:  # the double-submit token matches: the fuzz reaches the password check
                token = "t" * 32
                body["csrf"] = token
                client.cookies.set(LOGIN_COOKIE, token)
        check(post(client, "/login", body, None, False), "login")

    assert run(QUOTA["login"], examples, one) == QUOTA["login"]
    assert signed_in(app)[0].get("/entries").status_code == 200  # the real publisher still signs in


def test_fuzz_entry_edit(site):
    app, _, _ = site
    client, csrf = signed_in(app, EDITOR)
    fields = (*FIELDS, "topic", "action", "test_question", "base_revision", "comment", "resolves")
    known = st.sampled_from(["/entries/new", "/entries/vneid-kich-hoat", "/entries/hoa-don-tra-cuu"])
    paths = st.one_of(known, known, known, TEXT.map(lambda s: "/entries/" + quote(s, safe="")))
    actions = st.sampled_from(["save", "preview", "test", "", "xoá"])
    # A valid entry with a few fields fuzzed reaches saving, preview and the draft trial; a fully fuzzed form and a raw
    # body reach the parser and the validation.
    nearly_valid = st.dictionaries(st.sampled_from(fields), VALUE, max_size=2).map(lambda fuzzed: {**VALID, **fuzzed})
    examples = st.tuples(paths, st.one_of(nearly_valid, nearly_valid, form(fields), RAW), actions, st.integers(0, 9))

    def one(example) -> None:
        path, body, action, dice = example
        if isinstance(body, dict) and "action" not in body:
            body = {**body, "action": action}
        check(post(client, path, body, csrf, dice > 0), f"POST {path}")

    assert run(QUOTA["entries"], examples, one) == QUOTA["entries"]
    assert client.get("/entries").status_code == 200


def test_fuzz_ticket_reply_and_close(site):
    app, _, codes = site
    client, csrf = signed_in(app)
    targets = st.one_of(st.sampled_from(codes), TEXT.map(lambda s: quote(s, safe="")))
    kinds = st.sampled_from(["reply"] * 9 + ["close"])
    examples = st.tuples(targets, kinds, st.one_of(form(("text", "resolution")), RAW), st.integers(0, 9))

    def one(example) -> None:
        code, kind, body, dice = example
        check(post(client, f"/tickets/{code}/{kind}", body, csrf, dice > 0), f"{kind} {code}")

    assert run(QUOTA["tickets"], examples, one) == QUOTA["tickets"]
    assert client.get(f"/tickets/{codes[0]}").status_code == 200


def test_fuzz_user_management(site):
    app, accounts, _ = site
    client, csrf = signed_in(app)
    names = st.one_of(st.sampled_from([EDITOR, PUBLISHER, "khong-ai"]), TEXT)
    verbs = st.sampled_from(["disable", "enable", "delete"])
    examples = st.tuples(names, verbs, st.one_of(form(("csrf", "name")), RAW), st.integers(0, 9), TEXT)

    def one(example) -> None:
        name, verb, body, dice, done = example
        check(post(client, f"/users/{quote(name, safe='')}/{verb}", body, csrf, dice > 0), f"{verb} {name!r}")
        if dice == 0:
            check(client.get("/users", params={"done": done}), "GET /users")

    assert run(QUOTA["users"], examples, one) == QUOTA["users"]
    assert client.get("/users").status_code == 200
    assert {u.username for u in accounts.users()} == {PUBLISHER, EDITOR}
    assert COOKIE in client.cookies  # the publisher never locked themselves out
