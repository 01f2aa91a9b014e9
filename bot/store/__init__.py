"""The live database behind the bot: knowledge entries with revisions, releases, admin accounts,
and what residents asked. SQLite by default (no set-up); PostgreSQL by URL for several servers."""
