"""Rasa input channels: the REST door and its body checks, the Telegram relay's door, the web chat page and its
inbox, and the Zalo OA webhook with de-duplication and a durable outbox."""
