"""invoke profile: the shapes of the staged values (contract §1, §3, §4), counted in SQL on staging."""

from __future__ import annotations

import pytest

from d1pg.errors import InputError
from d1pg.profile import SHAPES, profile
from d1pg.stage import stage
from tests.conftest import write_backup

U = "0b6f8a2e-4a4b-4b8e-9b1a-0d2f3c4e5f60"
ABSENT = object()

# column -> [(value, expected shape)]; every row of the table gets one value of each column, in order
PLANTED = {
    "ts": [("2026-01-03 12:34:56", "text_sqlite_timestamp"), ("2026-01-03 12:34:56.5", "text_sqlite_timestamp"),
           ("2026-01-03T12:34:56.789Z", "text_iso_z"), ("2026-01-03t12:34:56z", "text_iso_z"),
           ("2026-01-03T12:34:56.789Z", "text_iso_z"), ("2026-01-03T12:34:56+05:30", "text_iso_offset"),
           ("2026-01-03T12:34:56", "text_iso_no_zone"), ("2026-01-03", "text_date"),
           (1767443696, "number_epoch_s"), (1767443696789, "number_epoch_ms"), (1767443696789, "number_epoch_ms"),
           ("1767443696789", "text_epoch_ms"), ("1767443696", "text_epoch_s"),
           ("2026-02-30 10:00:00", "text_timestamp_rejected"), ("2026-01-03 12:00:00Z", "text_timestamp_rejected"),
           ("2026-01-03 24:00:00", "text_timestamp_rejected"), (None, "null"), (ABSENT, "absent")],
    "flag": [(0, "number_0_1"), (1, "number_0_1"), (1, "number_0_1"), ("1", "text_0_1"), ("0", "text_0_1"),
             (2, "number_integer"), (-3, "number_integer"), (True, "boolean"), (False, "boolean"),
             (1.5, "number_decimal"), ("07", "text_integer"), ("2.5", "text_decimal"), ("yes", "text_other"),
             ("", "text_empty"), (None, "null"), (ABSENT, "absent"), (ABSENT, "absent"), (1.0, "number_0_1")],
    "ref": [(U, "text_uuid"), (U.upper(), "text_uuid"), ("skill_focus", "text_other"), (f"prog_{U}", "text_other"),
            ("{" + U + "}", "text_json_invalid"), (U.replace("-", ""), "text_other"), ("", "text_empty"),
            (None, "null")] + [(ABSENT, "absent")] * 10,
    "meta": [('{"a": 1}', "text_json"), ("[1, 2]", "text_json"), (' {"b": [true]}', "text_json"),
             ("{bad", "text_json_invalid"), ("[1,", "text_json_invalid"), ('{"a": "\\u0000"}', "text_json_invalid"),
             ({"obj": 1}, "object"), ([1], "array"), ("plain", "text_other"), ("", "text_empty")]
    + [(None, "null")] * 8,
}


def planted_rows():
    n = len(PLANTED["ts"])
    assert all(len(v) == n for v in PLANTED.values())
    rows = []
    for i in range(n):
        row = {"id": f"row{i}"}
        for column, values in PLANTED.items():
            if values[i][0] is not ABSENT:
                row[column] = values[i][0]
        rows.append(row)
    return rows


def expected_counts() -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {("id", "text_other"): len(PLANTED["ts"])}
    for column, values in PLANTED.items():
        for _, shape in values:
            out[(column, shape)] = out.get((column, shape), 0) + 1
    return out


def test_profile_counts_equal_what_was_planted(tmp_path, pg_settings):
    stage(pg_settings, write_backup(tmp_path / "b.json", {"shapes": planted_rows()}), quiet=True)
    [got] = profile(pg_settings, quiet=True)
    assert {(s.column, s.shape): s.values for s in got.shapes} == expected_counts()
    assert {s.shape for s in got.shapes} <= set(SHAPES)
    for column in ("id", *PLANTED):  # every value has exactly one shape: per key they add up to the rows
        assert sum(s.values for s in got.shapes if s.column == column) == got.stored_rows == len(PLANTED["ts"])
    assert got.keys == ["id", "ts", "flag", "ref", "meta"]
    first = {(s.column, s.shape): s.first_ord for s in got.shapes}
    assert first[("ts", "number_epoch_ms")] == 9 and first[("meta", "text_json_invalid")] == 3


def test_profile_shows_every_staged_table_and_can_be_limited_to_some(tmp_path, pg_settings):
    stage(pg_settings, write_backup(tmp_path / "b.json", {"users": [{"id": U, "approved": 1}], "empty": [],
                                                          "sessions": [{"id": "s1"}]}),
          skip_tables=("sessions",), quiet=True)
    assert [t.name for t in profile(pg_settings, quiet=True)] == ["users", "empty"]  # skipped at stage: not staged
    [users] = profile(pg_settings, tables=("users",), quiet=True)
    assert users.count("approved", "number_0_1") == 1 and users.count("id", "text_uuid") == 1
    with pytest.raises(InputError, match="not staged: nope; staged tables are: users, empty"):
        profile(pg_settings, tables=("nope",), quiet=True)


def test_profile_changes_nothing_in_the_database(tmp_path, pg_settings, query):
    stage(pg_settings, write_backup(tmp_path / "b.json", {"users": [{"id": U}]}), quiet=True)
    before = query("select count(*) from pg_proc where pronamespace = 'migration'::regnamespace")
    profile(pg_settings, quiet=True)
    assert query("select count(*) from pg_proc where pronamespace = 'migration'::regnamespace") == before == [(0,)]


def test_profile_without_staging_says_so(pg_settings):
    with pytest.raises(InputError, match="nothing is staged"):
        profile(pg_settings, quiet=True)


def test_profile_output_masks_secrets_and_shows_data_literally(tmp_path, pg_settings, capsys):
    rows = [{"id": "a1", "access_token": "tok-PLANTED-ACCESS", "sessionToken": "tok-PLANTED-SESSION",
             "meta": '{"refresh_token": "tok-PLANTED-NESTED", "n": 1}', "note": "[bold]kept[/bold] [/x]"}]
    stage(pg_settings, write_backup(tmp_path / "b.json", {"accounts": rows}), quiet=True)
    profile(pg_settings)
    out = capsys.readouterr().out
    assert "tok-PLANTED" not in out
    assert "[masked]" in out and "[bold]kept[/bold] [/x]" in out
