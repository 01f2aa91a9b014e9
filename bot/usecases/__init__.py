"""Use cases: what an admin does to the bot's data, written once for every front end.

Each module is one family: entries (add, edit, retire, restore, reactivate, import), releases (publish, roll
back to a release), users (add, disable, enable), sessions (sign in, sign out), tickets (answer, close), menus
(pin a topic's menu order), teams (a commune's team contact, a province's fallback: save, remove). A use case is a
small class or function that takes its collaborators as parameters (the store, the audit writer, the publisher, the
notifier) and does the whole operation: the store calls, the side effects, and the one audit line, worded here
once in Vietnamese as the admin page's audit log shows it (audit.py).

The front ends (bot/admin/cli.py, bot/admin/web/) parse their input, call a use case, and present its result
or its exception (the store's Conflict, NotFound, ValidationFailed; the publisher's Busy) in their own words.

Imports: bot.core, bot.knowledge, bot.store, bot.indexing, bot.handoff, bot.team only. Never a front end
(actions, bot.admin, bot.relay, bot.rasa_side), nor tools; import-linter checks it (pyproject.toml).
"""
