"""docs/zalo.md says what the code does: how `make run` exposes Rasa's API, and every Zalo setting."""

from __future__ import annotations

import dataclasses
import re

from bot.core.settings import ROOT, ZaloSettings

DOC = (ROOT / "docs" / "zalo.md").read_text(encoding="utf-8")
RUN = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")


def test_make_run_enables_the_api_only_with_a_token_and_the_page_says_so():
    assert re.search(r'api=\(--enable-api --auth-token "\$RASA_API_TOKEN"\)', RUN)
    assert '[ -n "${RASA_API_TOKEN:-}" ]' in RUN
    assert "without authentication" not in DOC  # the old claim
    assert "RASA_API_TOKEN" in DOC and "only when `RASA_API_TOKEN` is set" in DOC


def test_every_setting_is_documented():
    for field in dataclasses.fields(ZaloSettings):
        assert f"`ZALO_{field.name.upper()}`" in DOC, field.name
        assert f"`{field.name}`" in DOC, field.name
    for name in ("REDIS_HOST", "ZALO_REDIS_DB", "BOT_STORE_URL"):
        assert f"`{name}`" in DOC
