"""Bringing in a person: the commune directory and its team contacts (a commune's own, a province's fallback),
tickets, the replies of the handoff, which rule a closed ticket falls back to, and notices to the commune's team and
to the resident.

Domain logic; reaches Telegram and Zalo only through senders passed in (bot/messengers builds them).
"""
