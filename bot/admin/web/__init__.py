"""The admin web page (`python -m bot.admin.web`): entries, publishing, unanswered questions, audit log.
Off unless BOT_ADMIN_ENABLED=1 and an account exists (see docs/admin.md)."""
