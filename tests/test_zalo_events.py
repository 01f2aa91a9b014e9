"""The Zalo webhook's pure parts: signature, every rejection, event parsing, reply shaping, de-duplication."""

from __future__ import annotations

import hashlib
import json

import pytest

from bot.core.text import short_title as shorten, split_text as split_by
from bot.messengers.zalo_events import (
    MAX_BODY_BYTES,
    MAX_BUTTON_TITLE,
    MAX_BUTTONS,
    MAX_TEXT_CHARS,
    Deduper,
    Kind,
    MalformedEvent,
    check_webhook,
    media_url_allowed,
    parse_event,
    signature,
    signature_ok,
    template_buttons,
    user_ref,
    zalo_messages,
)
from tests.fakes.zalo_api import ZaloWebhook

APP_ID, SECRET = "360846524940903967", "oa-secret-key-for-tests"


def split_text(text: str) -> list[str]:
    """The one splitter (bot.core.text) at Zalo's limit."""
    return split_by(text, MAX_TEXT_CHARS)


def short_title(title: str) -> str:
    """The one title shortener (bot.core.text) at Zalo's button limit."""
    return shorten(title, MAX_BUTTON_TITLE)
HOOK = ZaloWebhook("http://unused", APP_ID, SECRET)


def signed(body: dict, secret: str = SECRET) -> tuple[bytes, str]:
    raw = HOOK.encode(body)
    return raw, HOOK.sign(raw, body, secret)


# --- signature ---------------------------------------------------------------------------------------------


def test_signature_is_sha256_of_app_id_body_timestamp_secret():
    raw = b'{"app_id":"1","timestamp":"154390853474"}'
    expected = hashlib.sha256(b"1" + raw + b"154390853474" + b"k").hexdigest()
    assert signature("1", raw, "154390853474", "k") == "mac=" + expected


def test_signature_is_checked_on_the_raw_bytes_not_a_reserialisation():
    body = HOOK.text("2512523625412515", "quên mật khẩu VNeID")
    raw = json.dumps(body, ensure_ascii=False, indent=1).encode()  # spaces, newlines, unescaped letters
    header = HOOK.sign(raw, body)
    assert signature_ok(header, APP_ID, raw, body["timestamp"], SECRET)
    reserialised = json.dumps(json.loads(raw)).encode()
    assert not signature_ok(header, APP_ID, reserialised, body["timestamp"], SECRET)


def test_signature_is_compared_in_constant_time(monkeypatch):
    import hmac

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    raw, header = signed(HOOK.text("1", "xin chao"))
    assert check_webhook(raw, header, APP_ID, SECRET).status == 200
    assert any(header.encode() in pair for pair in calls)


def test_signature_header_tolerates_case_and_spaces():
    raw, header = signed(HOOK.text("1", "xin chao"))
    body = json.loads(raw)
    assert signature_ok("  " + header.upper() + " ", APP_ID, raw, body["timestamp"], SECRET)


# --- check_webhook: every rejection --------------------------------------------------------------------------


def test_a_good_event_is_accepted():
    raw, header = signed(HOOK.text("2512523625412515", "quen mk vneid", msg_id="m1"))
    verdict = check_webhook(raw, header, APP_ID, SECRET)
    assert verdict.status == 200 and verdict.event is not None
    assert (verdict.event.kind, verdict.event.text, verdict.event.msg_id) == (Kind.TEXT, "quen mk vneid", "m1")
    assert verdict.event.sender_id == "zalo-2512523625412515"


@pytest.mark.parametrize("app_id, secret", [("", SECRET), (APP_ID, "")], ids=["no-app-id", "no-secret"])
def test_unconfigured_channel_refuses_everything(app_id, secret):
    raw, header = signed(HOOK.text("1", "xin chao"))
    assert check_webhook(raw, header, app_id, secret).status == 503


def test_oversized_body_is_refused_even_when_signed():
    raw, header = signed(HOOK.text("1", "a" * MAX_BODY_BYTES))
    verdict = check_webhook(raw, header, APP_ID, SECRET)
    assert verdict.status == 413 and verdict.event is None


@pytest.mark.parametrize("header", [None, "", "   "], ids=["absent", "empty", "blank"])
def test_missing_signature_is_401(header):
    raw, _ = signed(HOOK.text("1", "xin chao"))
    verdict = check_webhook(raw, header, APP_ID, SECRET)
    assert verdict.status == 401 and verdict.event is None


def test_wrong_secret_is_403():
    raw, header = signed(HOOK.text("1", "xin chao"), secret="someone-elses-secret")
    verdict = check_webhook(raw, header, APP_ID, SECRET)
    assert verdict.status == 403 and verdict.event is None


def test_tampered_body_is_403():
    body = HOOK.text("1", "xin chao")
    _, header = signed(body)
    tampered = HOOK.encode({**body, "message": {**body["message"], "text": "something else"}})
    assert check_webhook(tampered, header, APP_ID, SECRET).status == 403


def test_garbage_signature_is_403():
    raw, _ = signed(HOOK.text("1", "xin chao"))
    assert check_webhook(raw, "mac=" + "0" * 64, APP_ID, SECRET).status == 403
    assert check_webhook(raw, "not a mac", APP_ID, SECRET).status == 403


def test_event_of_another_app_is_403_even_if_correctly_signed():
    body = {**HOOK.text("1", "xin chao"), "app_id": "999"}
    raw, header = signed(body)
    assert signature_ok(header, "999", raw, body["timestamp"], SECRET)  # the signature itself is right
    assert check_webhook(raw, header, APP_ID, SECRET).status == 403


@pytest.mark.parametrize(
    "raw, why",
    [(b"{not json", "JSON"), (b"\xff\xfe{}", "UTF-8"), (b"[]", "JSON object"), (b'"text"', "JSON object"),
     (b'{"timestamp": "1"}', "'app_id'"), (b'{"app_id": "1"}', "'timestamp'"),
     (b'{"app_id": {}, "timestamp": "1"}', "'app_id'")],
    ids=["not-json", "not-utf8", "array", "string", "no-app-id", "no-timestamp", "app-id-object"],
)
def test_malformed_body_is_400(raw, why):
    verdict = check_webhook(raw, "mac=" + "0" * 64, APP_ID, SECRET)
    assert verdict.status == 400 and verdict.event is None and why in verdict.error


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.pop("event_name"),
        lambda b: b.pop("sender"),
        lambda b: b.update(sender={"id": ""}),
        lambda b: b.update(message="text"),
        lambda b: b["message"].update(text=5),
        lambda b: b["message"].pop("text"),
    ],
    ids=["no-event-name", "no-sender", "empty-sender", "message-not-object", "text-not-string", "no-text"],
)
def test_signed_but_unreadable_event_is_400(mutate):
    body = HOOK.text("1", "xin chao")
    mutate(body)
    raw, header = signed(body)
    verdict = check_webhook(raw, header, APP_ID, SECRET)
    assert verdict.status == 400 and verdict.event is None


def test_follow_without_follower_is_400():
    body = HOOK.follow("1")
    del body["follower"]
    raw, header = signed(body)
    assert check_webhook(raw, header, APP_ID, SECRET).status == 400


# --- parse_event ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event_name",
    ["user_send_image", "user_send_sticker", "user_send_location", "user_send_file", "user_send_audio",
     "user_send_video", "user_send_link", "user_send_gif", "user_send_business_card", "user_send_something_new"],
)
def test_non_text_user_messages_ask_for_text(event_name):
    event = parse_event(HOOK.event(event_name, "77", {"attachments": [{"type": "x", "payload": {}}]}))
    assert event.kind is Kind.UNSUPPORTED and event.user_id == "77" and event.msg_id


def test_image_carries_its_url_to_be_read():
    event = parse_event(HOOK.image("77"))
    assert event.kind is Kind.IMAGE and event.image_url == "https://photo-stal.zdn.vn/x.jpg" and event.msg_id


@pytest.mark.parametrize("url, extra, allowed", [
    ("https://photo-stal.zdn.vn/x.jpg", (), True),
    ("https://s120-ava-talk.zadn.vn/a/b.jpg", (), True),
    ("http://photo-stal.zdn.vn/x.jpg", (), False),  # https only
    ("https://zdn.vn.evil.example/x.jpg", (), False),
    ("https://evilzdn.vn/x.jpg", (), False),
    ("https://user:pw@photo-stal.zdn.vn/x.jpg", (), False),
    ("https://photo-stal.zdn.vn:8443/x.jpg", (), False),
    ("http://127.0.0.1:9/x.jpg", (), False),  # no internal addresses from a forged event
    ("http://127.0.0.1:9/media/x.jpg", ("127.0.0.1",), True),  # ZALO_MEDIA_HOSTS (tests: the fake's CDN)
    ("file:///etc/passwd", ("127.0.0.1",), False),
    ("not a url", (), False),
])
def test_pictures_are_fetched_only_from_zalo(url, extra, allowed):
    assert media_url_allowed(url, frozenset(extra)) is allowed


def test_blank_text_asks_for_text():
    assert parse_event(HOOK.text("77", "  \n ")).kind is Kind.UNSUPPORTED


@pytest.mark.parametrize(
    "body",
    [HOOK.receipt("77"), HOOK.receipt("77", seen=True), {**HOOK.follow("77"), "event_name": "unfollow"},
     HOOK.event("oa_send_text", "579745863508352884", {"text": "bot's own reply"}),
     HOOK.event("user_reacted_message", "77", {"react_icon": "/-heart"}), HOOK.event("something_else", "77")],
    ids=["received", "seen", "unfollow", "oa-own-message", "reaction", "unknown"],
)
def test_receipts_unfollow_and_the_oas_own_messages_are_ignored(body):
    assert parse_event(body).kind is Kind.IGNORED


def test_follow_is_a_welcome_keyed_by_user_and_time():
    event = parse_event(HOOK.follow("88"))
    assert event.kind is Kind.FOLLOW and event.user_id == "88" and event.sender_id == "zalo-88"
    assert event.dedupe_key == f"follow:88:{event.timestamp}"


def test_numeric_ids_are_read_as_text():
    body = HOOK.text("1", "hi", msg_id="m")
    body["sender"]["id"], body["timestamp"] = 2512523625412515, 154390853474
    event = parse_event(body)
    assert (event.user_id, event.timestamp, event.dedupe_key) == ("2512523625412515", "154390853474", "m")


def test_not_an_object_is_malformed():
    with pytest.raises(MalformedEvent):
        parse_event(["user_send_text"])


def test_user_ref_hides_the_id():
    assert "2512523625412515" not in user_ref("2512523625412515")
    assert user_ref("a") == user_ref("a") != user_ref("b")


# --- split_text ----------------------------------------------------------------------------------------------


def test_short_text_is_one_message():
    assert split_text("  Xin chào\n\nbạn  ") == ["Xin chào\n\nbạn"]
    assert split_text("") == [] and split_text(" \n ") == []


def test_6000_characters_split_on_paragraphs_within_the_limit():
    paragraphs = [f"Đoạn {i}: " + "hướng dẫn sử dụng dịch vụ công " * 9 for i in range(24)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    assert len(text) >= 6000
    parts = split_text(text)
    assert len(parts) >= 3 and all(len(p) <= MAX_TEXT_CHARS for p in parts)
    assert "\n\n".join(parts) == text  # cut only between paragraphs: nothing lost, nothing reordered
    assert all(p.startswith("Đoạn ") for p in parts)


def test_lines_when_no_paragraph_fits():
    text = "\n".join(f"{i}. " + ("bước " * 30).strip() for i in range(60))
    parts = split_text(text)
    assert all(len(p) <= MAX_TEXT_CHARS for p in parts)
    assert "\n".join(parts) == text


def test_words_then_hard_cut_as_last_resort():
    words = "chữ " * 1500
    assert all(len(p) <= MAX_TEXT_CHARS for p in split_text(words))
    assert " ".join(split_text(words)) == words.strip()
    blob = "x" * 4500
    assert split_text(blob) == ["x" * 2000, "x" * 2000, "x" * 500]


# --- buttons and messages -------------------------------------------------------------------------------------


def test_short_title_cuts_at_a_word():
    assert short_title("VNeID") == "VNeID"
    assert short_title("Kích hoạt tài khoản định danh điện tử") == "Kích hoạt tài khoản…"
    assert len(short_title("x" * 50)) == MAX_BUTTON_TITLE
    assert all(len(short_title(t)) <= MAX_BUTTON_TITLE for t in ["a " * 30, "Tra cứu hồ sơ, nộp phí", "ab" * 11])


def test_rasa_buttons_become_at_most_five_hidden_query_buttons():
    rasa = [{"title": f"Mục số {i} rất dài dài dài", "payload": f'/ask_question{{"entry_id": "e{i}"}}'}
            for i in range(7)]
    rasa.insert(1, {"title": "", "payload": "/x"})  # unusable: skipped
    buttons = template_buttons(rasa)
    assert len(buttons) == MAX_BUTTONS
    assert all(b["type"] == "oa.query.hide" and len(b["title"]) <= MAX_BUTTON_TITLE for b in buttons)
    assert buttons[0]["payload"] == '/ask_question{"entry_id": "e0"}'


def test_buttons_ride_on_the_last_part_of_a_long_reply():
    long = "\n\n".join(["đoạn văn " * 40] * 8)
    messages = zalo_messages([{"text": long, "buttons": [{"title": "Gặp người hỗ trợ", "payload": "/request_human"}]},
                              {"text": "Bạn cần hỏi thêm gì không?"}])
    assert len(messages) >= 3
    assert all(len(m["text"]) <= MAX_TEXT_CHARS for m in messages)
    with_buttons = [i for i, m in enumerate(messages) if "attachment" in m]
    assert with_buttons == [len(messages) - 2]
    payload = messages[-2]["attachment"]
    assert payload == {"type": "template", "payload": {"buttons": [
        {"title": "Gặp người hỗ trợ", "type": "oa.query.hide", "payload": "/request_human"}]}}


def test_image_and_button_only_replies_still_have_text():
    messages = zalo_messages(
        [{"image": "https://x/y.png"}, {"buttons": [{"title": "A", "payload": "/a"}]}, {"custom": {}}]
    )
    assert [m["text"] for m in messages] == ["https://x/y.png", "Bạn chọn một mục:"]


# --- de-duplication -----------------------------------------------------------------------------------------


def test_deduper_remembers_within_the_ttl():
    now = [0.0]
    d = Deduper(max_items=10, ttl_s=60, clock=lambda: now[0])
    assert not d.seen("m1") and d.seen("m1") and not d.seen("m2")
    now[0] = 61
    assert not d.seen("m1")  # expired, then remembered again
    assert len(d) == 1


def test_deduper_memory_is_bounded():
    d = Deduper(max_items=100, ttl_s=3600)
    for i in range(10_000):
        d.seen(f"m{i}")
    assert len(d) == 100
    assert d.seen("m9999") and not d.seen("m0")


# --- issue 9: nesting, huge numbers, freshness -------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"[" * 60000, b'{"a":' * 12000, b"[" * 21 + b"]" * 21],
                         ids=["60k-brackets", "12k-objects", "21-deep"])
@pytest.mark.parametrize("header", ["mac=" + "0" * 64, None], ids=["signed-garbage", "unsigned"])
def test_deep_nesting_is_400_before_json_is_parsed(raw, header, monkeypatch):
    import bot.messengers.zalo_events as events

    def no_parse(*a, **k):
        raise AssertionError("json.loads reached")

    monkeypatch.setattr(events.json, "loads", no_parse)
    verdict = check_webhook(raw, header, APP_ID, SECRET)
    # unsigned: 401 first (cheapest); signed: 400 without parsing (was RecursionError, a 500)
    assert verdict.status == (401 if header is None else 400) and verdict.event is None


def test_brackets_inside_texts_are_not_nesting():
    raw, header = signed(HOOK.text("1", "[" * 500 + "{" * 500 + '\\"['))
    verdict = check_webhook(raw, header, APP_ID, SECRET)
    assert verdict.status == 200 and verdict.event.text.startswith("[[[")


def test_a_real_event_nests_well_within_the_limit():
    from bot.messengers.zalo_events import nesting_depth_exceeds

    assert not nesting_depth_exceeds(HOOK.encode(HOOK.location("1")))
    assert nesting_depth_exceeds(b"[" * 21) and not nesting_depth_exceeds(b"[" * 20 + b"]" * 20)


def test_a_number_of_5000_digits_is_400_not_a_server_error():
    raw = b'{"app_id": "1", "timestamp": "1", "x": ' + b"9" * 5000 + b"}"
    verdict = check_webhook(raw, "mac=" + "0" * 64, APP_ID, SECRET)
    assert verdict.status == 400


NOW = 1_796_000_000.0  # 2026-11


def at(seconds: float) -> dict:
    return {**HOOK.text("1", "xin chao"), "timestamp": str(int(seconds * 1000))}


def test_signed_event_from_2020_is_refused():
    raw, header = signed(at(1_590_000_000))  # May 2020, correctly signed
    verdict = check_webhook(raw, header, APP_ID, SECRET, now=NOW)
    assert verdict.status == 403 and "stale" in verdict.error and verdict.event is None


def test_freshness_window_edges():
    from bot.messengers.zalo_events import MAX_CLOCK_SKEW_S, MAX_EVENT_AGE_S

    def status(sent_at: float) -> int:
        raw, header = signed(at(sent_at))
        return check_webhook(raw, header, APP_ID, SECRET, now=NOW).status

    assert status(NOW) == 200
    assert status(NOW - MAX_EVENT_AGE_S + 1) == 200
    assert status(NOW - MAX_EVENT_AGE_S - 1) == 403
    assert status(NOW + MAX_CLOCK_SKEW_S - 1) == 200
    assert status(NOW + MAX_CLOCK_SKEW_S + 1) == 403
    raw, header = signed(at(NOW - 600))
    assert check_webhook(raw, header, APP_ID, SECRET, now=NOW, max_age_s=300).status == 403


@pytest.mark.parametrize("timestamp", ["²", "12.5", "-1", "1e12", "9" * 17, " 1796000000000"])
def test_a_timestamp_that_is_not_milliseconds_is_400(timestamp):
    raw, header = signed({**HOOK.text("1", "xin chao"), "timestamp": timestamp})
    verdict = check_webhook(raw, header, APP_ID, SECRET, now=NOW)
    assert verdict.status == 400 and "timestamp" in verdict.error


def test_the_freshness_check_comes_after_the_signature():
    raw, _ = signed(at(1_590_000_000))
    assert check_webhook(raw, "mac=" + "0" * 64, APP_ID, SECRET, now=NOW).error == "wrong signature"
