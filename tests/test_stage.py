"""invoke stage: streaming load of the backup into JSONB staging (contract §1, §2, §4 unstorable, §6)."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys

import pytest

from d1pg import mapping
from d1pg.errors import InputError
from d1pg.stage import stage
from tests.conftest import ROOT, SAMPLE, write_backup

USERS = [
    {"id": "0b6f8a2e-4a4b-4b8e-9b1a-0d2f3c4e5f60", "name": "Ada", "email": "ada@example.com",
     "emailVerified": 1, "approved": 1, "created_at": "2026-01-03 12:00:00"},
    {"id": "1c7f9b3f-5b5c-4c9f-8c2b-1e3f4d5e6f71", "name": "Bob\ttab", "email": "bob@example.com",
     "emailVerified": None, "approved": 0, "created_at": "2026-01-03T12:34:56.789Z", "bio": "line\nbreak \\ back"},
]


def test_stage_keeps_every_row_as_it_was(tmp_path, pg_settings, query):
    backup = write_backup(tmp_path / "b.json", {"users": USERS, "sessions": [{"id": "s1", "sessionToken": "t"}],
                                                 "empty_table": []})
    result = stage(pg_settings, backup, quiet=True)
    assert [(t.name, t.rows) for t in result.tables] == [("users", 2), ("sessions", 1), ("empty_table", 0)]
    rows = query("select ord, doc from staging.users order by ord")
    assert [r[1] for r in rows] == USERS
    assert [r[0] for r in rows] == [0, 1]
    staged = query("select table_name, staged_rows, position from migration.staged_tables order by position")
    assert staged == [("users", 2, 0), ("sessions", 1, 1), ("empty_table", 0, 2)]


def test_stage_records_the_envelope_size_and_sha256(tmp_path, pg_settings, query):
    backup = write_backup(tmp_path / "b.json", {"users": USERS})
    import hashlib

    digest = hashlib.sha256(backup.read_bytes()).hexdigest()
    stage(pg_settings, backup, quiet=True)
    run = query("select status, backup_sha256, backup_size_bytes, backup_version, backup_version_name,"
                " backup_created_at, backup_created_by from migration.runs where step = 'stage'")
    assert run == [("succeeded", digest, backup.stat().st_size, "14", "0014_add_performance_indexes",
                    "2026-01-06T21:14:03.512Z", "admin@example.com")]
    counts = query("select counts from migration.audit_log where table_name = 'users'")
    assert counts[0][0]["rows"] == 2


def test_gzip_is_detected_by_magic_bytes_whatever_the_name(tmp_path, pg_settings, query):
    plain = write_backup(tmp_path / "b.json", {"users": USERS})
    disguised = tmp_path / "backup.json"  # gzip content, plain name
    disguised.write_bytes(gzip.compress(plain.read_bytes()))
    stage(pg_settings, disguised, quiet=True)
    assert query("select count(*) from staging.users") == [(2,)]


def test_staging_view_shows_top_level_keys_as_text_columns(tmp_path, pg_settings, query):
    stage(pg_settings, write_backup(tmp_path / "b.json", {"users": USERS}), quiet=True)
    rows = query("select ord, id, email, \"emailVerified\", bio from staging_view.users order by ord")
    assert rows[0] == (0, USERS[0]["id"], "ada@example.com", "1", None)
    assert rows[1][4] == "line\nbreak \\ back"


def test_unstorable_text_rows_are_rejected_at_load_and_still_count_as_staged(tmp_path, pg_settings, query):
    raw = ('{"tables": {"notes": [{"id": "a", "t": "ok"}, {"id": "b", "t": "nul \\u0000 here"},'
           ' {"id": "c", "t": "lone \\ud800"}, {"id": "d", "t": "pair \\ud83d\\ude00"}]}}')
    backup = tmp_path / "b.json"
    backup.write_text(raw)
    stage(pg_settings, backup, quiet=True)
    assert query("select staged_rows, loaded_rows, unstorable_rows from migration.staged_tables") == [(4, 2, 2)]
    rejects = query("select source_table, source_ord, reason, raw_value from migration.rejects order by source_ord")
    assert [(r[0], r[1], r[2]) for r in rejects] == [("notes", 1, "unstorable_text"), ("notes", 2, "unstorable_text")]
    assert "\\u0000" in rejects[0][3]
    assert query("select doc->>'t' from staging.notes where ord = 3") == [("pair \U0001F600",)]


def test_integers_beyond_2_53_are_counted_per_table_and_column(tmp_path, pg_settings, query):
    row = {"id": "a", "big": 2**53 + 1, "ok": 2**53, "s": "1234567890123456789"}
    backup = write_backup(tmp_path / "b.json", {"t": [row,
                                                       {"id": "b", "big": -(2**60)}]})
    result = stage(pg_settings, backup, quiet=True)
    assert result.tables[0].long_integers == {"big": 2}
    assert query("select long_integers from migration.staged_tables") == [({"big": 2},)]


def test_restage_replaces_staging_and_a_failed_stage_leaves_the_old_one(tmp_path, pg_settings, query):
    stage(pg_settings, write_backup(tmp_path / "a.json", {"users": USERS, "old_only": [{"id": "x"}]}), quiet=True)
    bad = tmp_path / "bad.json"
    good_text = json.dumps({"tables": {"users": USERS[:1], "new": [{"id": "y"}]}})
    bad.write_text(good_text[:-5])  # truncated
    with pytest.raises(InputError, match="truncated"):
        stage(pg_settings, bad, quiet=True)
    assert query("select count(*) from staging.users") == [(2,)]
    assert query("select table_name from migration.staged_tables order by position") == [("users",), ("old_only",)]
    failed = query("select status, failure from migration.runs where step = 'stage' and status = 'failed'")
    assert len(failed) == 1 and "truncated" in failed[0][1]
    stage(pg_settings, write_backup(tmp_path / "c.json", {"users": USERS[:1], "new": []}), quiet=True)
    assert query("select table_name from migration.staged_tables order by position") == [("users",), ("new",)]
    assert query("select to_regclass('staging.old_only') is null") == [(True,)]


def test_table_name_that_is_not_a_plain_identifier_is_refused_and_nothing_committed(tmp_path, pg_settings, query):
    backup = write_backup(tmp_path / "b.json", {"users": USERS, 'Bad"; drop table x; --': [{"id": 1}]})
    with pytest.raises(InputError, match="not a plain identifier") as err:
        stage(pg_settings, backup, quiet=True)
    assert "--skip-table" in str(err.value)
    assert query("select count(*) from migration.staged_tables") == [(0,)]
    assert query("select to_regclass('staging.users') is null") == [(True,)]


def test_skip_table_records_the_table_as_skipped_with_its_row_count(tmp_path, pg_settings, query):
    name = 'Bad"; drop table x; --'
    backup = write_backup(tmp_path / "b.json", {"users": USERS, name: [{"id": 1}, {"id": 2}]})
    stage(pg_settings, backup, skip_tables=(name,), quiet=True)
    assert query("select table_name, staged_rows, loaded_rows, skipped_reason from migration.staged_tables"
                 " order by position") == [("users", 2, 2, None), (name, 2, 0, "skipped_by_name")]


BAD_FILES = {
    "not_json.json": (b"hello", "byte 0"),
    "empty.json": (b"", "byte 0"),
    "array.json": (b"[1, 2]", "must be a JSON object"),
    "tables_string.json": (b'{"tables": "x"}', "'tables' must be an object"),
    "no_tables.json": (b'{"version": 14}', "no 'tables' object"),
    "table_object.json": (b'{"tables": {"users": {"id": 1}}}', "table 'users' must be an array"),
    "row_number.json": (b'{"tables": {"users": [{"id": "a"}, 7]}}', "table 'users', row 1: a row must be an object"),
    "bad_row_json.json": (b'{"tables": {"users": [{"id": "a", "x": tru}]}}', "table 'users', row 0: not valid JSON"),
    "truncated.json": (b'{"tables": {"users": [{"id": "a"}, {"id": "b", "na', "row 1: the file ends inside this row"),
    "invalid_utf8.json": (b'{"tables": {"users": [{"id": "\xff\xfe"}]}}', "invalid UTF-8"),
    "bom.json": (b'\xef\xbb\xbf{"tables": {}}', "byte order mark"),
    "trailing.json": (b'{"tables": {}} x', "after the end"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_gives_one_clear_line_naming_the_file_and_nothing_is_staged(name, tmp_path, pg_settings, query):
    content, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        stage(pg_settings, path, quiet=True)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and expected in message
    assert query("select count(*) from migration.staged_tables") == [(0,)]


def test_cli_bad_file_exits_2_with_one_line_and_no_traceback(tmp_path, pg_url):
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"tables": {"users": [{"id": "a"},')
    proc = subprocess.run([sys.executable, "-m", "invoke", "stage", str(path), "--database-url", pg_url],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("d1pg: error:") and str(path) in lines[0]


def test_sample_backup_stages_completely(tmp_path, pg_settings, query):
    if not SAMPLE.exists():
        pytest.skip("examples/sample-backup.json not generated yet")
    copy = tmp_path / "sample.json"
    shutil.copy(SAMPLE, copy)
    expected = {name: len(rows) for name, rows in json.loads(SAMPLE.read_text())["tables"].items()}
    result = stage(pg_settings, copy, quiet=True)
    assert {t.name: t.rows for t in result.tables} == expected
    for name, n in expected.items():
        if mapping.skip_of(name) is not None and mapping.skip_of(name).code == "d1_bookkeeping":
            assert query("select skipped_reason from migration.staged_tables where table_name = %s", [name]) == [
                ("d1_bookkeeping",)]  # counted, not staged (contract-additions §6)
            continue
        assert query(f"select count(*) from staging.{name}") == [(n,)]  # noqa: S608 - known names
