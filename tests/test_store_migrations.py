"""The store's migrations (bot/store/migrations/) on real SQLite files and real PostgreSQL databases (a fresh one per
test, conftest.postgres_url; no skip): an empty store, a store at the first revision and a store that create_all made
before migrations all reach the newest revision with their rows; schema.py and the migrations agree; several
processes opening a fresh store at once; the Rasa environment (no Alembic) only checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, select, text

from bot.core.localtime import utcnow
from bot.store import migrate, schema, schema_version
from bot.store.outbox import Outbox

ROOT = Path(__file__).resolve().parents[1]
PY_RASA = ROOT / ".venv-rasa" / "bin" / "python"
STORE_TABLES = set(schema.metadata.tables)


def tables(engine) -> set[str]:
    with engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def at_revision(url: str, revision: str, version_table: bool = True):
    """A store brought to `revision` by its migrations; without the version table, it is what create_all made before
    migrations existed (revision 0001 is that schema: checked against schema.py at 3006876^ when it was written)."""
    engine = schema.new_engine(url)
    migrate.upgrade(engine, revision)
    if not version_table:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE alembic_version"))
    return engine


def add_entry(engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(schema.entries).values(id="vneid-1", topic="vneid", status="active", revision=1,
                                                   data="{}", updated_at=utcnow(), updated_by="seed"))


def entry_ids(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(schema.entries.c.id)).scalars())


def differences(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": migrate.include_name})
        return compare_metadata(context, schema.metadata)


def test_an_empty_store_opens_at_the_newest_revision_with_every_table(store_url):
    engine = schema.engine_for(store_url)
    assert schema_version.current(engine) == schema_version.head() == "0004"
    assert tables(engine) == STORE_TABLES | {"alembic_version"}


def test_a_store_of_the_previous_version_keeps_its_rows_and_gains_the_outbox(store_url):
    old = at_revision(store_url, "0001")
    add_entry(old)
    assert "outbox" not in tables(old)
    engine = schema.engine_for(store_url)
    assert schema_version.current(engine) == "0004"
    assert entry_ids(engine) == ["vneid-1"]
    assert Outbox.open(store_url, "zalo").add("user-1", [{"text": "xin chào"}], now=1.0) == [1]
    old.dispose()


@pytest.mark.parametrize("made_at", ["0001", "0002"])
def test_a_store_made_by_create_all_before_migrations_is_stamped_then_upgraded(store_url, made_at):
    old = at_revision(store_url, made_at, version_table=False)
    add_entry(old)
    engine = schema.engine_for(store_url)  # 0002 was stamped (the outbox exists) or upgraded to: never created twice
    assert schema_version.current(engine) == "0004"
    assert entry_ids(engine) == ["vneid-1"]
    assert differences(engine) == []
    old.dispose()


def test_a_failed_upgrade_leaves_the_previous_revision_whole(store_url):
    old = at_revision(store_url, "0001")
    with old.begin() as conn:  # 0002's second statement will fail: its index name is taken
        conn.execute(text("CREATE INDEX ix_outbox_due_at ON kb_entries (topic)"))
    with pytest.raises(Exception, match="ix_outbox_due_at"):
        schema.engine_for(store_url)
    assert schema_version.current(old) == "0001"
    assert "outbox" not in tables(old)  # created, then rolled back with the rest
    old.dispose()


def test_store_tables_matching_no_revision_are_refused_not_guessed(store_url):
    old = at_revision(store_url, "0001", version_table=False)
    with old.begin() as conn:
        conn.execute(text("DROP TABLE helper_activity"))
    with pytest.raises(migrate.UnknownSchema, match="helper_activity"):
        schema.engine_for(store_url)
    assert store_url not in schema._engines  # tried again at the next open
    old.dispose()


def test_schema_py_and_the_migrations_agree(store_url):
    """Fails when a table changes in schema.py without a revision: python -m bot.store.migrate revision -m ..."""
    assert differences(schema.engine_for(store_url)) == []


def test_the_migrations_go_down_and_up_again(store_url):
    engine = schema.engine_for(store_url)
    cfg = migrate.config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert tables(engine) == {"alembic_version"}
    migrate.upgrade(engine)
    assert tables(engine) == STORE_TABLES | {"alembic_version"}


OPEN_AT = """
import sys, time
from bot.store import migrate, schema, schema_version
engine = schema.new_engine(sys.argv[1])
wait = float(sys.argv[2]) - time.time()
time.sleep(max(0.0, wait))  # every process starts its upgrade at the same moment
migrate.upgrade(engine)
print(schema_version.current(engine) if wait > 0 else "late")
"""


def test_processes_opening_a_fresh_store_at_once_do_not_collide(store_url):
    """Two action servers starting on a new PostgreSQL database both ran its DDL and collided (duplicate pg_type
    rows, or one's lock timeout); on SQLite, the second one's CREATE TABLE found the first one's table."""
    start_at = time.time() + 4  # after every process has imported SQLAlchemy and Alembic (about 1 s each)
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT, store_url, str(start_at)], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [p.communicate(timeout=90) for p in procs]
    assert [(p.returncode, out.strip()) for p, (out, _) in zip(procs, results, strict=True)] == [(0, "0004")] * 4, \
        [err[-600:] for _, err in results]


RASA_OPEN = """
import json, sys
from bot.store import schema, schema_version
from bot.store.outbox import Outbox
try:
    ids = Outbox.open(sys.argv[1], "zalo").add("user-1", [{"text": "a"}], now=1.0)
except schema_version.StoreNotMigrated as exc:
    ids = str(exc)
import sqlalchemy
print(json.dumps({"sqlalchemy": sqlalchemy.__version__, "result": ids}))
"""


def open_in_rasa(url: str) -> dict:
    out = subprocess.run([str(PY_RASA), "-c", RASA_OPEN, url], cwd=ROOT, env={"PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_rasa_side_never_creates_tables_and_opens_an_upgraded_store(store_url):
    refused = open_in_rasa(store_url)
    assert refused["sqlalchemy"].startswith("1.4.")
    assert "make db-upgrade" in refused["result"]
    assert tables(schema.new_engine(store_url)) == set()
    schema.engine_for(store_url)  # the action side upgrades
    assert open_in_rasa(store_url)["result"] == [1]


def test_revision_ids_are_the_file_names_in_one_line():
    """The Rasa side reads the newest revision from the file names, without Alembic."""
    script = ScriptDirectory.from_config(migrate.config())
    walked = [(s.revision, s.down_revision) for s in reversed(list(script.walk_revisions()))]
    ids = schema_version.revisions()
    assert [r for r, _ in walked] == ids
    assert [d for _, d in walked] == [None, *ids[:-1]]
    assert script.get_current_head() == schema_version.head() == migrate.head()

