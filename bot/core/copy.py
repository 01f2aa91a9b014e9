"""Texts the bot says in more than one place (several channels, or a channel and the actions): written once here.

Entry-specific wording lives in knowledge/; the replies Rasa sends by itself live in domain.yml.
"""

from __future__ import annotations

# When the bot behind a channel does not answer in time (Rasa or the action server down or overloaded).
BUSY_APOLOGY = (
    "Xin lỗi, hệ thống đang bận nên tôi chưa trả lời được. Bạn vui lòng thử lại sau ít phút, "
    "hoặc liên hệ Tổ công nghệ số cộng đồng, công an xã/phường để được hỗ trợ."
)

# The greeting: Telegram's /start and /help, the Zalo channel's welcome when Rasa cannot greet a new follower, and
# domain.yml's utter_greet (the greeting Rasa sends; tests/test_telegram_format.py checks that it says the same).
WELCOME = (
    "Xin chào! Tôi là trợ lý ảo hỗ trợ người dân dùng dịch vụ công trực tuyến. Tôi hướng dẫn về:\n"
    "- VNeID (định danh điện tử)\n"
    "- Sổ sức khỏe điện tử và bảo hiểm y tế (BHYT)\n"
    "- Hóa đơn điện tử\n"
    "- Cổng Dịch vụ công quốc gia\n"
    "Bạn cứ gõ câu hỏi, có dấu hay không dấu đều được, ví dụ: “quên mật khẩu VNeID” hoặc "
    "“tra cuu hoa don dien tu”. Cần người thật giúp, bạn gõ “gặp người hỗ trợ”.\n"
    "Lưu ý: không gửi số CCCD, mật khẩu hay mã OTP cho bất kỳ ai, kể cả trong cuộc trò chuyện này."
)
