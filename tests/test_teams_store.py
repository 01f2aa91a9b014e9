"""Team contacts in the store (bot/store/teams.py) and the use cases that save and remove them
(bot/usecases/teams.py), on a SQLite file and a real PostgreSQL database: only real communes and provinces are saved,
an ambiguous name gives the choices and saves nothing, a save replaces the earlier one, each change writes one audit
line without the Zalo ids, and a store of the previous revision gains the table with its rows kept."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.localtime import utcnow
from bot.handoff.directory import Directory
from bot.handoff.teams import COMMUNE, FROM_COMMUNE, FROM_PROVINCE, PROVINCE, Target
from bot.store import schema, schema_version
from bot.store.accounts import Accounts
from bot.store.teams import TeamContacts
from bot.usecases.teams import TeamForm, TeamRefused, current_teams, remove_team, save_team
from tests.test_store_migrations import add_entry, at_revision, entry_ids, tables

ADMIN = "ngoc-anh"
PHU_DONG = "Xã Phù Đổng, Thành phố Hà Nội"


@pytest.fixture
def repo(store_url) -> TeamContacts:
    return TeamContacts.open(store_url)


def audit(repo: TeamContacts, n: int = 1) -> list[tuple[str, str, str, str]]:
    return [(r.username, r.action, r.target, r.detail) for r in Accounts(repo.engine).audit_log(limit=n)]


def test_rows_are_saved_replaced_listed_and_removed(repo):
    assert repo.all() == [] and repo.get(COMMUNE, 541) is None
    assert repo.put(COMMUNE, 541, PHU_DONG, {"notify": {"telegram_chat": "-1"}}, ADMIN) is True
    assert repo.put(PROVINCE, 1, "Thành phố Hà Nội", {"office_hours": "sáng"}, "van-ba") is True
    assert repo.put(COMMUNE, 541, PHU_DONG, {"notify": {"telegram_chat": "-2"}}, "van-ba") is False
    stored = repo.get(COMMUNE, 541)
    assert stored.data == {"notify": {"telegram_chat": "-2"}} and stored.updated_by == "van-ba"
    assert abs(utcnow() - stored.updated_at) < dt.timedelta(minutes=1)
    assert [(r.kind, r.code) for r in repo.all()] == [(PROVINCE, 1), (COMMUNE, 541)]  # provinces first
    assert repo.remove(COMMUNE, 541).label == PHU_DONG and repo.remove(COMMUNE, 541) is None
    assert [r.code for r in repo.all()] == [1]


def test_saving_by_a_typed_old_address_maps_the_new_commune_and_writes_one_audit_line(repo):
    form = TeamForm(COMMUNE, "xa yen thuong, huyen gia lam, ha noi", telegram_chat="-100541",
                    zalo_users="5410 5411", people="Tổ CNS xã Phù Đổng: gọi chị Lan", office_hours="sáng thứ Hai")
    saved = save_team(repo, Accounts(repo.engine), form, ADMIN)
    assert saved.new and saved.team.label == PHU_DONG and saved.team.code == 541
    assert saved.old_names == ("Xã Yên Thường, Huyện Gia Lâm, Thành phố Hà Nội",)
    [(who, action, target, detail)] = audit(repo)
    assert (who, action, target) == (ADMIN, "team_set", PHU_DONG)
    assert detail == ("thêm mới; thông báo tới nhóm Telegram -100541, 2 người dùng Zalo; 1 người liên hệ; "
                      "có giờ làm việc")
    assert "5410" not in detail  # a Zalo id is a person's: counted, not written
    directory = Directory.parse({"notify": {"telegram_chat": "-1"}}).with_teams(current_teams(repo))
    assert directory.target_for(PHU_DONG) == Target("-100541", ("5410", "5411"))
    assert directory.by_label(PHU_DONG).notify_from == FROM_COMMUNE


def test_a_province_fallback_and_an_edit_by_code(repo):
    accounts = Accounts(repo.engine)
    saved = save_team(repo, accounts, TeamForm(PROVINCE, "Hà Nội", zalo_users="77"), ADMIN)
    assert (saved.team.kind, saved.team.code, saved.team.label) == (PROVINCE, 1, "Thành phố Hà Nội")
    assert audit(repo)[0][2] == "Cả tỉnh: Thành phố Hà Nội"
    edited = save_team(repo, accounts, TeamForm(PROVINCE, "", code=1, telegram_chat="-99"), "van-ba")
    assert not edited.new and audit(repo)[0][3].startswith("sửa; thông báo tới nhóm Telegram -99")
    directory = Directory.parse({}).with_teams(current_teams(repo))
    ba_dinh = directory.by_label("Phường Ba Đình, Thành phố Hà Nội")
    assert (ba_dinh.notify, ba_dinh.notify_from) == (Target("-99"), FROM_PROVINCE)


def test_an_ambiguous_name_offers_the_choices_and_a_chosen_code_saves(repo):
    accounts = Accounts(repo.engine)
    with pytest.raises(TeamRefused) as refused:
        save_team(repo, accounts, TeamForm(COMMUNE, "xã Ngũ Hiệp, huyện Thanh Trì", telegram_chat="-5"), ADMIN)
    assert [c.code for c in refused.value.choices] == [640, 685] and refused.value.problems == {}
    assert repo.all() == [] and audit(repo) == []
    saved = save_team(repo, accounts, TeamForm(COMMUNE, "xã Ngũ Hiệp, huyện Thanh Trì", code=685, telegram_chat="-5"),
                      ADMIN)
    assert saved.team.label == "Xã Nam Phù, Thành phố Hà Nội"


@pytest.mark.parametrize(("form", "fields"), [
    (TeamForm(COMMUNE, "Hà Nội", telegram_chat="-1"), {"place"}),  # a province is no commune
    (TeamForm(COMMUNE, "xã Không Có Thật", telegram_chat="-1"), {"place"}),
    (TeamForm(COMMUNE, "", code=99_999_999, telegram_chat="-1"), {"place"}),  # a code that is no commune
    (TeamForm(PROVINCE, "", code=541, telegram_chat="-1"), {"place"}),  # a commune's code as a province
    (TeamForm("district", "Gia Lâm", telegram_chat="-1"), {"place"}),
    (TeamForm(COMMUNE, "xa phu dong ha noi"), {"telegram_chat"}),  # nowhere to announce tickets
    (TeamForm(COMMUNE, "xa phu dong ha noi", telegram_chat="nhom-to", people="không có dấu hai chấm"),
     {"telegram_chat", "people"}),
])
def test_what_cannot_be_saved_is_refused_by_field_and_nothing_is_written(repo, form, fields):
    with pytest.raises(TeamRefused) as refused:
        save_team(repo, Accounts(repo.engine), form, ADMIN)
    assert set(refused.value.problems) == fields and str(refused.value)
    assert repo.all() == [] and audit(repo) == []


def test_removing_writes_one_audit_line_and_a_missing_one_is_refused(repo):
    accounts = Accounts(repo.engine)
    save_team(repo, accounts, TeamForm(COMMUNE, "phuong ba dinh", telegram_chat="-4"), ADMIN)
    removed = remove_team(repo, accounts, COMMUNE, 4, "van-ba")
    assert removed.label == "Phường Ba Đình, Thành phố Hà Nội" and repo.all() == []
    assert audit(repo) == [("van-ba", "team_remove", "Phường Ba Đình, Thành phố Hà Nội", "")]
    with pytest.raises(TeamRefused):
        remove_team(repo, accounts, COMMUNE, 4, "van-ba")


def test_a_store_of_the_previous_revision_keeps_its_rows_and_gains_the_table(store_url):
    old = at_revision(store_url, "0003")
    add_entry(old)
    assert "commune_teams" not in tables(old)
    engine = schema.engine_for(store_url)
    assert schema_version.current(engine) == schema_version.head() == "0004"
    assert entry_ids(engine) == ["vneid-1"]
    assert TeamContacts(engine).put(COMMUNE, 541, PHU_DONG, {}, ADMIN) and TeamContacts(engine).get(COMMUNE, 541)
    old.dispose()
