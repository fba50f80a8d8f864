"""invoke validate (contract §8), the report files (§9) and the audit trail, on a real server.

Each check gets a test that plants a row it must catch; the sample backup passes every check."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest
from psycopg import sql

from d1pg import mapping
from d1pg.errors import CheckFailed, InputError
from d1pg.migrate import migrate, run_validate
from d1pg.transform import Options
from d1pg.validate import validate
from tests.conftest import ROOT, SAMPLE


@pytest.fixture
def change(pg_url):
    """Run one statement that returns nothing (a planted defect), autocommitted."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        yield lambda statement, params=None: conn.execute(statement, params)


@pytest.fixture
def migrated(sample_migrated):
    """The sample backup migrated and validated (a copy of one migration); returns the transform run id."""
    return sample_migrated


def failing(pg_settings, **kw) -> dict:
    """Run validate expecting failure; return {check name: offending rows} of the failed checks."""
    with pytest.raises(CheckFailed):
        validate(pg_settings, quiet=True, progress=False, **kw)
    return {r.name: r.offending for r in _last_results(pg_settings) if r.offending}


def _last_results(pg_settings):
    from d1pg.validate import Result

    with psycopg.connect(pg_settings.database_url) as conn:
        rows = conn.execute(
            "select check_name, category, offending_rows from migration.checks where run_id = ("
            " select run_id from migration.runs where step = 'validate' order by started_at desc limit 1)"
            " order by position").fetchall()
    return [Result(name, category, offending) for name, category, offending in rows]


def test_sample_backup_passes_every_check_and_migrate_ends_with_validate(migrated, pg_settings, query):
    checks = query("select category, count(*), sum(offending_rows) from migration.checks group by category")
    by_category = {c: (n, s) for c, n, s in checks}
    assert set(by_category) == {"accounting", "counts", "foreign_key", "unique_key", "fates", "value_fidelity"}
    assert all(s == 0 for _, s in by_category.values())
    fks = query("select count(*) from pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace")
    # One check per declared reference: each foreign key of the target schema, and each reference the
    # target holds without one (calendar_events.workout_id, G3 a).
    no_fk = sum(1 for t in mapping.tables() for c in t.refs if not c.foreign_key)
    assert by_category["foreign_key"][0] == fks[0][0] + no_fk and no_fk >= 1 and fks[0][0] > 16
    compared = query("select sum((c.examples = '[]')::int) from migration.checks as c")[0][0]
    assert compared == sum(n for n, _ in by_category.values())


def test_accounting_identity_check_catches_an_unexplained_row(migrated, change, pg_settings, query):
    change("update migration.table_outcomes set migrated = migrated - 1 where source_table = 'habits'")
    failed = failing(pg_settings, sample=10)
    assert failed["accounting identity"] == 1
    assert failed["target row counts"] == 1  # habits now holds one row more than the outcome says


def test_bucket_evidence_check_catches_a_reject_that_was_not_logged(migrated, change, pg_settings, query):
    change("delete from migration.rejects where reject_id = (select min(reject_id) from migration.rejects"
          " where source_table = 'activity_events')")
    assert failing(pg_settings, sample=10) == {"rejects and orphans logged": 1,
                                               "row fates activity_events (every row)": 1}


def test_target_count_check_catches_a_missing_target_row(migrated, change, pg_settings, query):
    change("delete from goal_milestones where id = (select id from goal_milestones order by id limit 1)")
    failed = failing(pg_settings, sample=10)
    assert failed["target row counts"] == 1


def test_foreign_key_check_catches_a_dangling_reference(migrated, change, pg_settings, query):
    change("alter table goal_milestones drop constraint goal_milestones_goal_id_fkey")
    change("update goal_milestones set goal_id = '00000000-0000-4000-8000-000000000001'"
          " where id = (select id from goal_milestones order by id limit 1)")
    failed = failing(pg_settings, sample=10)
    assert failed["foreign key goal_milestones.goal_id -> goals.id"] == 1


def test_unique_key_check_catches_duplicate_emails_the_seed_query(migrated, change, pg_settings, query):
    change("alter table users drop constraint users_email_key")
    change("update users set email = (select min(email) from users)"
           " where id = (select id from users order by id desc limit 1)")
    failed = failing(pg_settings, sample=10)
    assert failed["unique users (email) - duplicate user e-mails"] == 1


@pytest.mark.parametrize("table, edit", [
    ("habits", "set name = name || ' (edited)'"),
    ("habit_logs", "set completed_at = completed_at + interval '1 microsecond'"),
    ("activity_events", "set metadata = coalesce(metadata, '{}'::jsonb) || '{\"x\": 1}'::jsonb"),
    ("users", "set approved = not approved"),
    ("user_progress", "set xp_to_next_level = xp_to_next_level + 1"),
])
def test_value_fidelity_catches_a_changed_value(migrated, pg_settings, change, table, edit):
    change(f"update {table} {edit} where id = (select id from {table} order by id limit 1)")  # noqa: S608 - test literals
    failed = failing(pg_settings, full=True)
    fidelity = {k: v for k, v in failed.items() if k.startswith("value fidelity")}
    assert fidelity, failed
    assert all(v >= 1 for v in fidelity.values())


def test_value_fidelity_catches_a_wrong_id_map_entry(migrated, change, pg_settings, query):
    change("update migration.id_map set new_id = '00000000-0000-4000-8000-000000000002'"
          " where (table_name, old_id) = (select table_name, old_id from migration.id_map"
          " where table_name = 'skill_definitions' order by old_id limit 1)")
    failed = failing(pg_settings, full=True)
    assert failed == {"row fates skill_definitions (every row)": 1}


def _fate_examples(pg_settings, table: str) -> list[dict]:
    with psycopg.connect(pg_settings.database_url) as conn:
        return conn.execute(
            "select examples from migration.checks where check_name = %s and run_id = (select run_id from"
            " migration.runs where step = 'validate' order by started_at desc limit 1)",
            [f"row fates {table} (every row)"]).fetchone()[0]


# A wrong transform that keeps its books consistent (target, rejects, orphans, outcome counts all
# agree with each other): only validate's own model of every row's fate can catch it.

def test_row_fates_catch_a_valid_set_null_reference_nulled_with_consistent_books(migrated, change, pg_settings,
                                                                                 query):
    row_id, key = query("select id, skill_key from points_ledger where skill_key is not null order by id limit 1")[0]
    change("update points_ledger set skill_key = null where id = %s", [row_id])
    change("insert into migration.orphans (run_id, source_table, source_ord, source_id, fk_column, missing_value,"
           " parent_table, action) select %s, 'points_ledger', s.ord, s.doc ->> 'id', 'skill_key', %s,"
           " 'skill_definitions', 'nulled' from staging.points_ledger as s where s.doc ->> 'id' = %s",
           [migrated, key, str(row_id)])
    failed = failing(pg_settings, sample=10)
    assert failed == {"row fates points_ledger (every row)": 1, "value fidelity points_ledger (sample of 10)": 1} \
        or failed == {"row fates points_ledger (every row)": 1}
    [example] = _fate_examples(pg_settings, "points_ledger")
    assert example["source_id"] == str(row_id)
    assert example["expected"].startswith("migrated; references")
    assert example["found"].startswith("migrated, nulled skill_key")


def _reject_quietly(change, run_id: str, table: str, row_id: str, reason: str, column: str,
                    bucket: str = "rejected") -> None:
    """Move one migrated row to another bucket with every book kept consistent."""
    staged = sql.Identifier("staging", table)
    change(sql.SQL("delete from {} where id = %s").format(sql.Identifier(table)), [row_id])
    if bucket == "rejected":
        change(sql.SQL("insert into migration.rejects (run_id, source_table, source_ord, source_id, column_name,"
                       " raw_value, reason) select %s, %s, s.ord, s.doc ->> 'id', %s, null, %s from {} as s"
                       " where s.doc ->> 'id' = %s").format(staged), [run_id, table, column, reason, row_id])
    else:
        change(sql.SQL("insert into migration.orphans (run_id, source_table, source_ord, source_id, fk_column,"
                       " missing_value, parent_table, action) select %s, %s, s.ord, s.doc ->> 'id', %s, s.doc ->> %s,"
                       " 'users', 'skipped' from {} as s where s.doc ->> 'id' = %s").format(staged),
               [run_id, table, column, column, row_id])
    change(sql.SQL("update migration.table_outcomes set migrated = migrated - 1, {bucket} = {bucket} + 1"
                   " where run_id = %s and source_table = %s").format(bucket=sql.Identifier(bucket)), [run_id, table])


@pytest.mark.parametrize("bucket, reason, column", [
    ("rejected", "invalid_date", "completed_date"),  # e.g. a valid leap day rejected
    ("rejected", "duplicate_key", "habit_id, completed_date"),
    ("orphaned", None, "user_id"),
])
def test_row_fates_catch_a_valid_row_moved_to_another_bucket_with_consistent_books(
        migrated, change, pg_settings, query, bucket, reason, column):
    row_id = query("select l.id::text from habit_logs as l where (select count(*) from staging.habit_logs as s"
                   " where s.doc ->> 'id' = l.id::text) = 1 order by l.id limit 1")[0][0]
    _reject_quietly(change, migrated, "habit_logs", row_id, reason, column, bucket)
    failed = failing(pg_settings, sample=10)
    assert set(failed) == {"row fates habit_logs (every row)"}, failed  # every SQL check agrees with the books
    [example] = [e for e in _fate_examples(pg_settings, "habit_logs") if e["ord"] is not None]
    assert (example["source_id"], example["expected"]) == (row_id, "migrated")
    logged = f"rejected {reason} at {column}" if reason else f"orphaned at {column}"
    assert example["found"] == logged + "; no target row"


def test_row_fates_catch_the_wrong_duplicate_kept_with_consistent_books(migrated, change, pg_settings, query):
    """Of two rows with one id, the last kept instead of the first (its values in the target, the
    first one logged as the duplicate)."""
    first, last = query("select r.source_ord - 1, r.source_ord from migration.rejects as r where r.source_table ="
                        " 'activity_events' and r.reason = 'duplicate_id' and exists (select 1 from"
                        " staging.activity_events as s where s.ord = r.source_ord - 1"
                        " and s.doc ->> 'id' = r.source_id) order by r.source_ord limit 1")[0]
    change("update migration.rejects set source_ord = %s where source_table = 'activity_events' and source_ord = %s",
           [first, last])
    failed = failing(pg_settings, sample=10)
    assert failed["row fates activity_events (every row)"] == 2
    found = {e["ord"]: (e["expected"], e["found"]) for e in _fate_examples(pg_settings, "activity_events")}
    assert found == {first: ("migrated", "rejected duplicate_id at id"),
                     last: ("rejected duplicate_id at id", "migrated")}


def test_row_fates_catch_a_merged_wallet_row_with_another_id(migrated, change, pg_settings, query):
    user = query("select user_id from user_wallet order by user_id limit 1")[0][0]
    change("update user_wallet set id = '00000000-0000-4000-8000-000000000003' where user_id = %s", [user])
    failed = failing(pg_settings, sample=10)
    assert failed["row fates user_progress, user_wallet (every row)"] == 1
    [example] = _fate_examples(pg_settings, "user_progress, user_wallet")
    assert example["table"] == "user_wallet" and example["found"] == "row 00000000-0000-4000-8000-000000000003"


def test_value_fidelity_masks_secrets_in_its_examples_and_the_report(migrated, change, pg_settings, query, capsys):
    token = query("select access_token from accounts where access_token is not null limit 1")[0][0]
    change("update accounts set access_token = access_token || 'X' where access_token = %s", [token])
    capsys.readouterr()
    with pytest.raises(CheckFailed):
        run_validate(pg_settings, full=True, progress=False)
    out = capsys.readouterr()
    assert "value fidelity accounts" in out.out
    folder = next((pg_settings.reports_dir).iterdir())
    texts = [out.out, out.err, (folder / "report.json").read_text(), (folder / "data_migration_impact.md").read_text(),
             json.dumps(query("select examples from migration.checks"))]
    assert all(token not in t for t in texts)


def test_validate_without_a_transform_is_bad_usage(pg_settings):
    with pytest.raises(InputError, match="no succeeded transform"):
        validate(pg_settings, quiet=True, progress=False)


def test_exit_codes_zero_one_two(migrated, change, pg_url, tmp_path):
    def validate_task(*args):
        return subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(ROOT), "validate", "--no-progress",
                               *args], cwd=tmp_path, env={**os.environ, "DATABASE_URL": pg_url},
                              capture_output=True, text=True, check=False)

    ok = validate_task()
    assert ok.returncode == 0, ok.stderr
    change("delete from goal_milestones where id = (select id from goal_milestones order by id limit 1)")
    bad = validate_task()
    assert bad.returncode == 1
    assert bad.stderr.startswith("d1pg: error: validation failed") and "Traceback" not in bad.stderr
    usage = validate_task("--sample", "0")
    assert usage.returncode == 2 and "--sample" in usage.stderr


def test_report_numbers_equal_the_database(migrated, pg_settings, query):
    folder = pg_settings.reports_dir / migrated
    data = json.loads((folder / "report.json").read_text())
    db = {r[0]: r[1:] for r in query("select source_table, staged, migrated, merged, skipped, orphaned, rejected"
                                     " from migration.table_outcomes where run_id = %s", [migrated])}
    assert {t["source_table"]: (t["staged"], t["migrated"], t["merged"], t["skipped"], t["orphaned"], t["rejected"])
            for t in data["tables"]} == db
    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))["tables"]
    assert data["totals"]["staged"] == sum(v[0] for v in db.values()) == sum(map(len, sample.values()))
    rejects = query("select count(*) from migration.rejects")[0][0]
    assert sum(r["rows"] for r in data["rejects_by_reason"]) == rejects
    assert data["validation"]["verdict"] == "passed"
    assert data["validation"]["checks_failed"] == 0
    impact = (folder / "data_migration_impact.md").read_text()
    assert "DEC-001=A" in impact and "signs in again" in impact
    assert "microsoft-entra-id" in impact  # the value map's change is listed as a loss
    assert "invoke rollback --yes" in impact
    sessions = next(t for t in data["tables"] if t["source_table"] == "sessions")
    assert f"| sessions | {sessions['skipped']} |" in impact


def test_report_rebuilds_from_the_database(migrated, pg_settings):
    from d1pg.report import write_report

    folder = pg_settings.reports_dir / migrated
    before = json.loads((folder / "report.json").read_text())
    for f in folder.iterdir():
        f.unlink()
    write_report(pg_settings, quiet=True)
    assert json.loads((folder / "report.json").read_text()) == before


def test_audit_trail_has_start_end_and_counts_of_each_step(migrated, query):
    runs = query("select step, status from migration.runs order by started_at")
    assert [r[0] for r in runs] == ["stage", "transform", "validate"] and {r[1] for r in runs} == {"succeeded"}
    for step in ("stage", "transform", "validate"):
        messages = [m for (m,) in query(
            "select a.message from migration.audit_log as a join migration.runs as r using (run_id)"
            " where r.step = %s order by a.audit_id", [step])]
        assert messages[-1] == f"{step} succeeded", messages[-3:]
    per_table = query("select count(*) from migration.audit_log where counts ? 'migrated'")[0][0]
    assert per_table >= 15


def test_value_fidelity_follows_the_merge_winner_setting(pg_settings, change):
    migrate(pg_settings, SAMPLE, Options(merge_winner="progress"), progress=False)
    results = validate(pg_settings, full=True, quiet=True, progress=False).results
    assert all(r.passed for r in results)
    change("update user_progress set total_xp = total_xp + 1 where user_id in (select user_id from user_wallet)")
    failed = failing(pg_settings, full=True)
    assert failed["value fidelity user_progress (every row)"] >= 1
