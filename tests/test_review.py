"""invoke status and invoke review: what is staged, the last runs, and every row that did not move as it
was, with raw values and secrets masked (contract §2, §6, §9)."""

from __future__ import annotations

import csv
import shutil

import psycopg
import pytest

from d1pg import mapping
from d1pg.errors import InputError
from d1pg.review import review, spreadsheet_safe, status
from d1pg.schema import create_schema
from d1pg.stage import stage
from d1pg.transform import Options, transform
from tests.conftest import SAMPLE, write_backup

U1 = "0b6f8a2e-4a4b-4b8e-9b1a-0d2f3c4e5f60"
U2 = "1c7f9b3f-5b5c-4c9f-8c2b-1e3f4d5e6f71"
MISSING = "9e9e9e9e-0000-4000-8000-000000000000"
SOURCES = tuple(sorted(mapping.mapped_source_names()))


def user(uid, **kw):
    return {"id": uid, "name": "Ada", "email": f"{uid[:4]}@example.com", "role": "user",
            "created_at": "2026-01-03 12:00:00", "updated_at": "2026-01-04 12:00:00", **kw}


def account(aid, uid=U1, provider="google", **kw):
    return {"id": aid, "userId": uid, "provider": provider, "providerAccountId": f"p-{aid}", **kw}


def planted_backup(path):
    """Rows with distinctive secrets that end up rejected, orphaned, unstorable or in a conflict."""
    tables = {name: [] for name in SOURCES}
    tables["users"] = [user(U1), user(U2, role="=HYPERLINK(\"http://x\")")]
    tables["accounts"] = [
        account("a-ok", access_token="tok-PLANTED-KEPT"),
        account("a-github", provider="github", access_token="tok-PLANTED-ACCESS", refresh_token="tok-PLANTED-REFRESH"),
        account("a-object", access_token={"nested": "tok-PLANTED-OBJECT"}),
        account("a-orphan", uid=MISSING, id_token="tok-PLANTED-ID"),
        {"id": "a-nul", "userId": U1, "provider": "google", "providerAccountId": "n",
         "access_token": "tok-PLANTED-NUL\u0000"},
    ]
    tables["activity_events"] = [{"id": "e1", "user_id": U1, "event_type": "x", "created_at": "2026-01-01",
                                  "metadata_json": '{"session_state": "tok-PLANTED-META", "broken'}]
    tables["user_wallet"] = [{"id": "w1", "user_id": U1, "coins": 10, "xp": 5, "level": 1,
                              "updated_at": "2026-01-05 00:00:00"}]
    tables["user_progress"] = [{"id": "p1", "user_id": U1, "total_xp": 4, "current_level": 1, "coins": 12,
                                "created_at": "2026-01-01 00:00:00", "updated_at": "2026-01-02 00:00:00"}]
    return write_backup(path, tables)


def migrate(settings, backup, **options):
    create_schema(settings, quiet=True)
    stage(settings, backup, quiet=True)
    return transform(settings, Options(**options), quiet=True)


def read_csv(path):
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_review_lists_every_reject_and_orphan_the_outcomes_count(tmp_path, pg_settings, query):
    copy = tmp_path / "sample.json"
    shutil.copy(SAMPLE, copy)
    run_id = migrate(pg_settings, copy)
    got = review(pg_settings, quiet=True)
    assert got.run_id == run_id and got.step == "transform"
    totals = query("select sum(rejected), sum(orphaned) from migration.table_outcomes where run_id = %s", [run_id])
    assert len(got.rejects) == totals[0][0] > 0
    assert sum(o["action"] == "skipped" for o in got.orphans) == totals[0][1] > 0
    assert len(got.conflicts) == query("select count(*) from migration.conflicts")[0][0] > 0
    only = review(pg_settings, tables=("habit_logs",), quiet=True)
    assert only.rejects and {r["source_table"] for r in only.rejects + only.orphans} == {"habit_logs"}
    assert only.conflicts == []


def test_review_csv_holds_the_rows_with_secrets_masked(tmp_path, pg_settings, capsys):
    migrate(pg_settings, planted_backup(tmp_path / "b.json"))
    capsys.readouterr()
    got = review(pg_settings, csv_dir=tmp_path / "out")
    out = capsys.readouterr().out
    files = {p.name: p.read_text(encoding="utf-8-sig") for p in (tmp_path / "out").iterdir()}
    assert set(files) == {"rejects.csv", "orphans.csv", "conflicts.csv"}
    for where, text in [("stdout", out), *files.items()]:
        assert "tok-PLANTED" not in text, where
    rejects = {(r["source_table"], r["source_id"]): r for r in read_csv(tmp_path / "out" / "rejects.csv")}
    assert len(rejects) == len(got.rejects) == 5
    github = rejects[("accounts", "a-github")]
    assert (github["reason"], github["column_name"], github["raw_value"]) == ("check_violation", "provider", "github")
    assert '"providerAccountId": "p-a-github"' in github["source_row"] and "[masked]" in github["source_row"]
    assert rejects[("accounts", "a-object")]["raw_value"] == "[masked]"
    assert rejects[("activity_events", "e1")]["reason"] == "invalid_json"
    assert rejects[("users", U2)]["raw_value"] == "'=HYPERLINK(\"http://x\")"  # no formula in a spreadsheet
    unstorable = [r for r in read_csv(tmp_path / "out" / "rejects.csv") if r["reason"] == "unstorable_text"]
    assert len(unstorable) == 1 and '"providerAccountId": "n"' in unstorable[0]["raw_value"]
    [orphan] = read_csv(tmp_path / "out" / "orphans.csv")
    assert (orphan["source_id"], orphan["fk_column"], orphan["missing_value"]) == ("a-orphan", "user_id", MISSING)
    assert "[masked]" in orphan["source_row"]
    conflicts = read_csv(tmp_path / "out" / "conflicts.csv")
    assert {c["target_table"] for c in conflicts} == {"user_progress", "user_wallet"}


def test_review_csv_leaves_source_rows_out_once_staging_holds_another_backup(tmp_path, pg_settings):
    migrate(pg_settings, planted_backup(tmp_path / "b.json"))
    stage(pg_settings, write_backup(tmp_path / "other.json", {"accounts": [account("zzz")] * 5}), quiet=True)
    review(pg_settings, csv_dir=tmp_path / "out", quiet=True)
    rows = read_csv(tmp_path / "out" / "rejects.csv")
    assert rows and all(r["source_row"] == "" for r in rows)


def test_review_picks_the_run_asked_for_and_refuses_unknown_ones(tmp_path, pg_settings, query):
    first = migrate(pg_settings, planted_backup(tmp_path / "b.json"))
    transform(pg_settings, Options(replace=True), quiet=True)
    assert review(pg_settings, run_id=first, quiet=True).run_id == first
    with pytest.raises(InputError, match="no such run"):
        review(pg_settings, run_id="6a061f31-e1f2-448f-9265-d3177f1d5d19", quiet=True)
    with pytest.raises(InputError, match="not a run id"):
        review(pg_settings, run_id="yesterday", quiet=True)


def test_review_before_any_transform_shows_the_stage_unstorable_rows(tmp_path, pg_settings):
    stage(pg_settings, planted_backup(tmp_path / "b.json"), quiet=True)
    got = review(pg_settings, quiet=True)
    assert got.step == "stage" and [r["reason"] for r in got.rejects] == ["unstorable_text"]


def test_review_without_bookkeeping_says_so(pg_settings):
    with pytest.raises(InputError, match="nothing to review"):
        review(pg_settings, quiet=True)


def test_spreadsheet_safe_neutralises_formulas_but_not_numbers():
    assert spreadsheet_safe("=1+1") == "'=1+1" and spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet_safe("+33 1 23") == "'+33 1 23" and spreadsheet_safe("-x") == "'-x"
    assert spreadsheet_safe("-12.5") == "-12.5" and spreadsheet_safe("plain") == "plain"
    assert spreadsheet_safe(None) == ""


def test_status_shows_what_is_staged_and_the_last_runs_with_their_outcome(tmp_path, pg_settings, capsys):
    backup = write_backup(tmp_path / "b.json", {**{n: [] for n in SOURCES}, "users": [user(U1)],
                                                "focus_sessions": [{"id": 1}], "sessions": [{"id": "s"}]})
    create_schema(pg_settings, quiet=True)
    stage(pg_settings, backup, skip_tables=("sessions",), quiet=True)
    with pytest.raises(InputError):
        transform(pg_settings, quiet=True)
    run_id = transform(pg_settings, Options(accept_unmapped=True), quiet=True)
    capsys.readouterr()
    got = status(pg_settings)
    out = capsys.readouterr().out
    staged = {r[0]: r[1:5] for r in got.staged}
    assert staged["users"] == (1, 1, 0, None) and staged["sessions"] == (1, 0, 0, "skipped_by_name")
    assert got.stage_run["backup_path"] == str(backup)
    assert [(r["step"], r["status"]) for r in got.runs] == [("transform", "succeeded"), ("transform", "failed"),
                                                            ("stage", "succeeded")]
    assert "without a mapping: focus_sessions" in got.runs[1]["failure"]
    assert "without a mapping: focus_sessions" in out and str(run_id) in out
    assert str(got.last_transform["run_id"]) == run_id and got.last_transform["staged"] == 3
    assert [r["step"] for r in status(pg_settings, runs=1, quiet=True).runs] == ["transform"]


def test_status_of_a_run_left_running_without_the_lock_says_interrupted(tmp_path, pg_settings, pg_url, capsys):
    stage(pg_settings, write_backup(tmp_path / "b.json", {"users": []}), quiet=True)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("insert into migration.runs (run_id, step, started_at) values (gen_random_uuid(), 'transform',"
                     " now() + interval '1 minute')")
    capsys.readouterr()
    got = status(pg_settings)
    assert got.runs[0]["status"] == "running" and not got.lock_held
    assert "interrupted" in capsys.readouterr().out


def test_status_of_an_empty_database_says_so_and_creates_nothing(pg_settings, query, capsys):
    got = status(pg_settings)
    assert got.staged == [] and got.runs == []
    assert "nothing is staged" in capsys.readouterr().out
    assert query("select count(*) from pg_namespace where nspname = 'migration'") == [(0,)]
