"""Clients of the messaging platforms, used by whoever sends: Zalo OA (client, events, tokens) and Telegram
formatting. No Rasa import: the Rasa-side Zalo channel, the Telegram relay and team notices share them.
"""
