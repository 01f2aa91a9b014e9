"""The Telegram relay, its own process (`python -m bot.relay`): main.py starts it, client.py talks to Rasa's relay
door, handlers.py holds the python-telegram-bot handlers, webhook.py serves webhook mode. A front end: it imports
core, messengers and speech, never actions, bot.admin or bot.rasa_side.
"""
