"""Alembic's entry for the store (bot/store/migrate.py runs it; there is no alembic.ini).

Online: the caller passes its connection, already in a transaction and holding the upgrade lock. Offline (`sql`):
the DDL is printed.
"""

from __future__ import annotations

from alembic import context

from bot.store.migrate import include_name
from bot.store.schema import metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    context.configure(
        connection=connection,
        url=None if connection is not None else context.config.get_main_option("sqlalchemy.url"),
        literal_binds=connection is None,
        target_metadata=metadata,
        include_name=include_name,
        compare_type=True,
        render_as_batch=True,  # SQLite alters a table by copying it: batch mode writes that for us
    )
    with context.begin_transaction():
        context.run_migrations()


run()
