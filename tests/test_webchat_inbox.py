"""The web chat inbox's checks (bot/rasa_side/channels/webchat_inbox.py), called directly on a SQLite ticket store."""

from __future__ import annotations

import pytest

from bot.rasa_side.channels.webchat_inbox import read_inbox
from bot.store.tickets import Tickets

PAGE_ID = "web-0123456789abcdef01234567"


@pytest.fixture
def store_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    Tickets.open(url)
    return url


@pytest.mark.parametrize("after", ["²", "³", "١٢", "𝟙", "-3", "1e9", "9" * 17, " 1", "0x10"])  # noqa: RUF001 - look-alike digits on purpose
def test_after_must_be_ascii_digits_and_anything_else_is_a_400(store_url, after):
    status, body = read_inbox(store_url, PAGE_ID, after)  # "²".isdigit() is True, int("²") raises: was a 500
    assert status == 400 and "after" in body["error"]


@pytest.mark.parametrize(
    "sender", [None, "", "tg-4401", "zalo-1", "web-xyz", "web-eval-1a2b3c4d5e6f", "web-" + "a" * 125]
)
def test_only_unguessable_web_ids_open_an_inbox(store_url, sender):
    assert read_inbox(store_url, sender, None)[0] == 400


@pytest.mark.parametrize("sender", [PAGE_ID, "web-" + "Ab3_.:-x" * 3, "web-" + "f" * 124])
def test_a_page_id_or_a_long_rest_id_reads_its_inbox(store_url, sender):
    assert read_inbox(store_url, sender, "0") == (200, {"messages": [], "open": False})
