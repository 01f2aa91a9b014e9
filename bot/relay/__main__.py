"""`python -m bot.relay`: start the Telegram relay (bot/relay/main.py)."""

import sys

from bot.relay.main import main

sys.exit(main())
