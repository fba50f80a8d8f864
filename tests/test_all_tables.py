"""The rules the other tables brought (all-tables.md G1-G9, contract-additions 4.2-4.6, 5.1-5.3, §6),
each through a real transform and a full validate: the tests are named after the rule."""

from __future__ import annotations

import struct

import pytest

from d1pg.validate import validate
from tests.test_transform import U1, rejects, run, user

USER = user(U1)
CREATED = "2026-01-02 10:00:00"


def float4(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def derived(query, table):
    return {(r[0], r[1]): r[2] for r in query(
        "select column_name, rule, rows_changed from migration.derived_values where source_table = %s", [table])}


def unmapped(query, table):
    return dict(query("select column_name, rows_with_value from migration.unmapped_columns where source_table = %s",
                      [table]))


def assert_validates(settings):
    result = validate(settings, full=True, quiet=True)
    assert [r.name for r in result.results if not r.passed] == []


def exercise(eid, **kw):
    return {"id": eid, "name": f"Exercise {eid}", "description": None, "category": "strength", "muscle_groups": None,
            "equipment": None, "is_custom": 0, "is_builtin": 1, "user_id": None, "created_at": CREATED, **kw}


def test_g4_json_arrays_and_comma_lists_become_text_arrays_and_other_json_is_rejected(tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [USER], "exercises": [
        exercise("ex_bench", muscle_groups='["chest","triceps"]', equipment="barbell"),
        exercise("ex_dip", muscle_groups="chest, triceps", equipment=""),
        exercise("ex_row", muscle_groups="[]", equipment="null"),
        exercise("ex_bad_array", muscle_groups="[1,2]"),
        exercise("ex_bad_json", muscle_groups='["a",'),
    ]})
    lists = dict(query("select name, muscle_groups from public.exercises"))
    assert lists == {"Exercise ex_bench": ["chest", "triceps"], "Exercise ex_dip": ["chest", "triceps"],
                     "Exercise ex_row": []}
    assert dict(query("select name, equipment from public.exercises")) == {
        "Exercise ex_bench": ["barbell"], "Exercise ex_dip": None, "Exercise ex_row": None}
    assert [(r[0], r[2], r[3]) for r in rejects(query)] == [
        ("exercises", "muscle_groups", "check_violation"), ("exercises", "muscle_groups", "invalid_json")]
    assert derived(query, "exercises") == {("muscle_groups", "a comma list read as a list"): 1,
                                           ("equipment", "a comma list read as a list"): 1}
    assert_validates(pg_settings)


def session_rows():
    return {"users": [USER], "exercises": [exercise("ex_bench")],
            "workout_sessions": [{"id": "ws_1", "user_id": U1, "workout_id": None, "started_at": CREATED}]}


def test_g5_real_values_are_rounded_to_float4_and_the_precision_loss_is_counted(tmp_path, pg_settings, query):
    sets = [{"id": f"set_{i}", "session_id": "ws_1", "exercise_id": "ex_bench", "set_number": i, "weight": w,
             "is_warmup": 0, "is_dropset": 0} for i, w in enumerate([62.5, 0.1, "82.5", 1e39, "abc", ".5"])]
    run(tmp_path, pg_settings, session_rows() | {"exercise_sets": sets})
    weights = dict(query("select set_number, weight::double precision from public.exercise_sets"))
    assert weights == {0: 62.5, 1: float4(0.1), 2: 82.5}
    assert [(r[1], r[3]) for r in rejects(query) if r[0] == "exercise_sets"] == [
        (3, "out_of_range"), (4, "invalid_number"), (5, "invalid_number")]
    assert derived(query, "exercise_sets") == {("weight", "rounded to float4: differs from the source number"): 1}
    assert_validates(pg_settings)


def test_g6_personal_records_keep_the_greatest_value_then_the_latest_achievement(tmp_path, pg_settings, query):
    def record(rid, value, achieved):
        return {"id": rid, "user_id": U1, "exercise_id": "ex_bench", "record_type": "max_weight", "value": value,
                "achieved_at": achieved, "created_at": CREATED}

    run(tmp_path, pg_settings, session_rows() | {"personal_records": [
        record("pr_1", 100, "2026-01-01 10:00:00"), record("pr_2", 120, "2026-01-02 10:00:00"),
        record("pr_3", 120, "2026-01-03 10:00:00"), record("pr_4", 110, "2026-01-04 10:00:00")]})
    kept = query("select value, achieved_at::text from public.personal_records")
    assert kept == [(120.0, "2026-01-03 10:00:00+00")]
    assert sorted((r[1], r[3]) for r in rejects(query)) == [(0, "duplicate_key"), (1, "duplicate_key"),
                                                             (3, "duplicate_key")]
    assert_validates(pg_settings)


def workout(wid="w_1"):
    return {"id": wid, "user_id": U1, "name": "Push", "is_template": 0, "created_at": CREATED, "updated_at": CREATED}


def test_older_alias_keys_are_read_only_when_the_current_key_is_absent(tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [USER], "workouts": [workout()], "workout_sections": [
        {"id": "sec_a", "workout_id": "w_1", "name": "shape A", "order_index": 3},
        {"id": "sec_c", "workout_id": "w_1", "name": "shape C", "sort_order": 1},
        {"id": "sec_both", "workout_id": "w_1", "name": "both", "sort_order": 2, "order_index": 9},
        {"id": "sec_null", "workout_id": "w_1", "name": "null current", "sort_order": None, "order_index": 7},
    ]})
    assert dict(query("select name, sort_order from public.workout_sections")) == {
        "shape A": 3, "shape C": 1, "both": 2, "null current": 0}
    # the alias beside its current key is an unmapped value, counted (contract-additions 4.4)
    assert unmapped(query, "workout_sections") == {"order_index": 2}
    assert_validates(pg_settings)


def test_g7_a_missing_key_is_the_source_id_and_is_counted_as_derived(tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"learn_topics": [
        {"id": "topic_intervals", "key": "intervals", "name": "Intervals", "category": "theory", "created_at": CREATED},
        {"id": "topic_chords", "name": "Chords", "category": "theory", "created_at": CREATED},
        {"id": "topic_scales", "key": None, "name": "Scales", "category": "theory", "created_at": CREATED},
    ]})
    assert dict(query("select name, key from public.learn_topics")) == {
        "Intervals": "intervals", "Chords": "topic_chords", "Scales": "topic_scales"}
    assert derived(query, "learn_topics") == {("key", "the row's source id, as text"): 2}
    assert_validates(pg_settings)


@pytest.mark.parametrize("status, expected", [("want-to-read", "want_to_read"), ("dnf", "abandoned"),
                                              ("reading", "reading")])
def test_value_maps_apply_after_aliasing_books_status(status, expected, tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [USER], "books": [
        {"id": "book_1", "user_id": U1, "title": "Dune", "status": status, "finished_at": "2026-01-05 10:00:00",
         "current_page": 0, "created_at": CREATED, "updated_at": CREATED}]})
    assert query("select status, completed_at::text from public.books") == [(expected, "2026-01-05 10:00:00+00")]
    assert_validates(pg_settings)
