"""Team contacts in the store: per commune, and a province's fallback, as the admin page maps them ("Liên hệ theo
xã/phường"). A row is keyed by its kind and official code; its contact is JSON the domain reads
(bot.handoff.teams.Team.from_data). Checking what may be saved (a real commune, a well-formed chat id) is the use
case's (bot/usecases/teams.py); the store keeps what it is given. The action server reads every row when a resident
reaches a person (a few hundred rows at most: one per commune served).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.core.localtime import utcnow
from bot.store.schema import as_utc, commune_teams, engine_for


@dataclass(frozen=True)
class StoredTeam:
    kind: str  # commune | province
    code: int
    label: str
    data: dict
    updated_by: str
    updated_at: dt.datetime


class TeamContacts:
    """The commune_teams table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> TeamContacts:
        return cls(engine_for(url))

    def all(self) -> list[StoredTeam]:
        """Every mapping, provinces first, then by label."""
        query = select(commune_teams).order_by(commune_teams.c.kind.desc(), commune_teams.c.label)
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def get(self, kind: str, code: int) -> StoredTeam | None:
        query = select(commune_teams).where(commune_teams.c.kind == kind, commune_teams.c.code == code)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _stored(row)

    def put(self, kind: str, code: int, label: str, data: dict, who: str) -> bool:
        """Save the mapping (replacing the one of the same kind and code); True when it is new."""
        values = dict(label=label, data=json.dumps(data, ensure_ascii=False, sort_keys=True), updated_by=who,
                      updated_at=utcnow())
        key = (commune_teams.c.kind == kind) & (commune_teams.c.code == code)
        with self.engine.begin() as conn:
            if conn.execute(update(commune_teams).where(key).values(**values)).rowcount:
                return False
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(commune_teams).values(kind=kind, code=code, **values))
            return True
        except IntegrityError:  # another admin added it in between: the last save wins, as for an edit
            with self.engine.begin() as conn:
                conn.execute(update(commune_teams).where(key).values(**values))
            return False

    def remove(self, kind: str, code: int) -> StoredTeam | None:
        """Delete the mapping; what was deleted, None when there was none."""
        key = (commune_teams.c.kind == kind) & (commune_teams.c.code == code)
        with self.engine.begin() as conn:
            row = conn.execute(select(commune_teams).where(key)).first()
            if row is None:
                return None
            conn.execute(delete(commune_teams).where(key))
        return _stored(row)


def _stored(row) -> StoredTeam:
    try:
        data = json.loads(row.data)
    except ValueError:
        data = {}
    return StoredTeam(row.kind, int(row.code), row.label, data if isinstance(data, dict) else {}, row.updated_by,
                      as_utc(row.updated_at))
