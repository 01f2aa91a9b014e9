"""Texts the bot says in more than one place (several channels, or a channel and the actions): written once here.

Entry-specific wording lives in knowledge/; the replies Rasa sends by itself live in domain.yml.
"""

from __future__ import annotations

# When the bot behind a channel does not answer in time (Rasa or the action server down or overloaded).
BUSY_APOLOGY = (
    "Xin lỗi, hệ thống đang bận nên tôi chưa trả lời được. Bạn vui lòng thử lại sau ít phút, "
    "hoặc liên hệ Tổ công nghệ số cộng đồng, công an xã/phường để được hỗ trợ."
)
