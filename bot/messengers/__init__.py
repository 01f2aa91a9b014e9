"""Clients of the messaging platforms, used by whoever sends: Zalo OA (client, events, tokens, an httpx transport) and
Telegram (formatting; telegram_api.py, the one way a message is sent to Telegram). No Rasa import: the Rasa-side Zalo
channel, the Telegram relay and team notices share them; wiring.py plugs the senders into bot/handoff/notify.py.
"""
