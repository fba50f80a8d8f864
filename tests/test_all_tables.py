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
    assert derived(query, "exercises") == {}  # its lists were null: a rule that changed nothing adds no row
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


def event(eid, parent=None, **kw):
    return {"id": eid, "user_id": U1, "title": f"event {eid}", "event_type": "general", "start_time": "2026-01-05",
            "all_day": 0, "parent_event_id": parent, "created_at": CREATED, "updated_at": CREATED, **kw}


def test_g3b_a_self_reference_is_resolved_to_a_fixed_point_and_orphans_cascade_down_the_chain(
        tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [USER], "calendar_events": [
        event("grandchild", "child"), event("child", "root"), event("root"),  # children first: order is no matter
        event("lost_child", "lost_parent"), event("lost_parent", "gone"), event("lost_grandchild", "lost_child"),
        event("loop_a", "loop_b"), event("loop_b", "loop_a"),
    ]})
    assert sorted(r[0] for r in query("select title from public.calendar_events")) == [
        "event child", "event grandchild", "event root"]
    orphans = query("select source_ord, fk_column, action from migration.orphans where source_table = 'calendar_events'"
                    " order by source_ord")
    assert orphans == [(i, "parent_event_id", "skipped") for i in (3, 4, 5, 6, 7)]
    assert_validates(pg_settings)


def test_g3a_a_reference_without_foreign_key_is_translated_and_a_missing_parent_nulled(tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [USER], "workouts": [workout("w_1")], "calendar_events": [
        event("with_workout", workout_id="w_1"), event("missing_workout", workout_id="w_gone")]})
    got = dict(query("select title, workout_id::text from public.calendar_events"))
    assert got["event with_workout"] == str(query("select id from public.workouts")[0][0])
    assert got["event missing_workout"] is None
    assert query("select fk_column, action, missing_value from migration.orphans") == [
        ("workout_id", "nulled", "w_gone")]
    assert_validates(pg_settings)


def skill(sid, key):
    return {"id": sid, "key": key, "name": key.title(), "description": None, "category": "general", "icon": None,
            "max_level": 10, "stars_per_level": 10, "sort_order": 0, "created_at": CREATED}


def quest(qid, skill_id=None, created_by=None, **kw):
    return {"id": qid, "title": f"quest {qid}", "type": "daily", "xp_reward": 10, "coin_reward": 5, "target": 1,
            "skill_id": skill_id, "is_active": 1, "created_by": created_by, "created_at": CREATED,
            "updated_at": CREATED, **kw}


def test_g2_a_reference_by_key_holding_a_parents_id_becomes_its_key(tmp_path, pg_settings, query):
    run(tmp_path, pg_settings, {"users": [USER], "skill_definitions": [skill("skill_focus", "focus")],
                                "universal_quests": [
        quest("by_key", "focus"), quest("by_key_too", "focus"), quest("by_id", "skill_focus"),
        quest("unknown", "cooking", created_by=U1), quest("system", created_by="system"),
        quest("special", type="special")]})
    assert dict(query("select title, skill_key from public.universal_quests")) == {
        "quest by_key": "focus", "quest by_key_too": "focus", "quest by_id": "focus", "quest unknown": None,
        "quest system": None}
    assert dict(query("select title, created_by::text from public.universal_quests"))["quest unknown"] == U1
    assert sorted(query("select fk_column, action, missing_value from migration.orphans")) == [
        ("created_by", "nulled", "system"), ("skill_key", "nulled", "cooking")]
    assert [(r[2], r[3], r[4]) for r in rejects(query)] == [("type", "check_violation", "special")]
    assert derived(query, "universal_quests") == {("skill_key", "the key of the parent whose id it held"): 1}
    assert_validates(pg_settings)


def test_g7_derived_values_of_each_rule(tmp_path, pg_settings, query):
    long = "Practice scales daily " * 10
    run(tmp_path, pg_settings, {
        "users": [USER],
        "user_interests": [{"id": f"interest_{U1}_music", "user_id": U1, "interest_key": "music", "priority": 2,
                            "created_at": CREATED}],
        "ideas": [{"id": "idea_1", "user_id": U1, "content": f"{long}\nsecond line", "is_favorite": 1,
                   "created_at": CREATED, "updated_at": CREATED},
                  {"id": "idea_2", "user_id": U1, "title": "Own title", "content": "x", "is_favorite": 0,
                   "created_at": CREATED, "updated_at": CREATED}],
        "feedback": [{"id": "feedback-1", "user_id": U1, "type": "bug", "message": "It broke\r\nbadly", "status": "new",
                      "page_url": "/today", "user_agent": None, "created_at": CREATED},
                     {"id": "feedback-2", "user_id": None, "type": "bug", "message": "anon", "status": "new",
                      "created_at": CREATED}],
        "authenticators": [{"credentialID": "cred-1", "userId": U1, "providerAccountId": "p",
                            "credentialPublicKey": "k", "counter": 3, "credentialDeviceType": "singleDevice",
                            "credentialBackedUp": 1}],
    })
    assert query("select interest_key, interest_label from public.user_interests") == [("music", "music")]
    titles = sorted(r[0] for r in query("select title from public.ideas"))
    assert titles == sorted(["Own title", long[:120]])
    assert query("select title, metadata, status from public.feedback") == [
        ("It broke", {"page_url": "/today"}, "open")]
    assert [(r[0], r[2], r[3]) for r in rejects(query)] == [("feedback", "user_id", "null_not_allowed")]
    assert query("select credential_id from public.authenticators") == [("cred-1",)]
    assert query("select new_id::text from migration.id_map where table_name = 'authenticators'") == [
        (str(query("select id from public.authenticators")[0][0]),)]
    rules = {**derived(query, "ideas"), **derived(query, "feedback"), **derived(query, "user_interests"),
             **derived(query, "authenticators")}
    assert rules == {("title", "the first line of content, cut to 120 characters"): 1,
                     ("title", "the first line of description, cut to 120 characters"): 1,
                     ("metadata", "an object of the non-null page_url, user_agent"): 1,
                     ("interest_label", "a copy of interest_key"): 1,
                     ("id", "section 3's id of credentialID when the row has no id key"): 1}
    assert_validates(pg_settings)


def test_g7_status_rules_purchases_quest_progress_and_onboarding(tmp_path, pg_settings, query):
    item = {"id": "item_theme_dark", "key": "theme_dark", "name": "Dark", "category": "theme", "cost_coins": 10,
            "is_global": 1, "is_available": 1, "is_active": 1, "is_consumable": 0, "sort_order": 0,
            "created_at": CREATED}

    def purchase(pid, **kw):
        return {"id": pid, "user_id": U1, "item_id": "item_theme_dark", "cost_coins": 10, "purchased_at": CREATED, **kw}

    def progress(pid, uid, status, completed, updated=CREATED):
        return {"id": pid, "user_id": uid, "quest_id": "uq_focus_1", "status": status, "progress": 1,
                "completed": completed, "created_at": CREATED, "updated_at": updated}

    flow = {"id": "flow_main_v1", "name": "main", "is_active": 1, "total_steps": 1, "version": 1,
            "created_at": CREATED}
    u2 = "2d8fac40-6c6d-4daf-9d3c-2f4e5f6a7b82"
    run(tmp_path, pg_settings, {
        "users": [USER, user(u2)], "market_items": [item],
        "user_purchases": [purchase("p_open"), purchase("p_redeemed", redeemed_at=CREATED),
                           purchase("p_old_shape", redeemed=1)],
        "universal_quests": [quest("uq_focus_1")],
        "user_quest_progress": [progress("uqp_1", U1, "available", 1), progress("uqp_2", u2, "claimed", 1),
                                progress("uqp_3", u2, "in_progress", 0, "2026-01-09 10:00:00"),
                                progress("uqp_4", U1, "available", "yes")],
        "onboarding_flows": [flow],
        "user_onboarding_state": [{"id": f"onboarding_{U1}", "user_id": U1, "flow_id": "flow_main_v1",
                                   "completed": 0, "skipped": 1, "current_step": 2, "can_resume": 1,
                                   "created_at": CREATED, "updated_at": CREATED}],
    })
    assert sorted(r[0] for r in query("select status from public.user_purchases")) == [
        "purchased", "redeemed", "redeemed"]
    # U2's in_progress row is the latest, so it keeps (user, quest) and the claimed one is a duplicate
    assert sorted(query("select status from public.user_quest_progress")) == [("completed",), ("in_progress",)]
    assert sorted((r[2], r[3]) for r in rejects(query)) == [("status", "invalid_boolean"),
                                                            ("user_id, quest_id", "duplicate_key")]
    assert query("select status from public.user_onboarding_state") == [("skipped",)]
    assert_validates(pg_settings)


def focus(fid, **kw):
    return {"id": fid, "user_id": U1, "mode": "focus", "started_at": CREATED, "xp_awarded": 0, "coins_awarded": 0,
            "created_at": CREATED, **kw}


def test_alias_when_an_older_end_time_is_read_by_the_status_it_ended_with(tmp_path, pg_settings, query):
    end = "2026-01-02 10:25:00"
    run(tmp_path, pg_settings, {"users": [USER], "focus_sessions": [
        focus("f_c", duration=1500, status="completed", completed_at=end),
        focus("f_a_done", planned_duration=1500, status="completed", ended_at=end),
        focus("f_a_quit", planned_duration=900, status="abandoned", ended_at=end),
        focus("f_a_active", planned_duration=600, status="active", ended_at=end)]})
    t = "2026-01-02 10:25:00+00"
    rows = sorted(query("select status, duration_seconds, completed_at::text, abandoned_at::text"
                        " from public.focus_sessions"))
    assert rows == [("abandoned", 900, None, t), ("active", 600, None, None), ("completed", 1500, t, None),
                    ("completed", 1500, t, None)]
    # ended_at of a status that is neither is not read: an unmapped value
    assert unmapped(query, "focus_sessions") == {"ended_at": 1}
    assert_validates(pg_settings)


def test_a_backup_shaped_like_the_apps_route_migrates_with_accept_missing_and_the_report_leads_with_what_is_lost(
        tmp_path, pg_settings, query):
    """The admin backup route exports 37 names: every one has a declared outcome (no unmapped table), the
    tables it lacks stop the run unless accepted, and the impact document then opens with them by name;
    "passed" never reads as "nothing lost" (issue: every table of the D1 database)."""
    from d1pg.errors import InputError
    from d1pg.generate import ROUTE_TABLES, generate_backup
    from d1pg.mapping import mapped_source_names, skip_of
    from d1pg.migrate import migrate
    from d1pg.transform import Options

    backup = tmp_path / "route.json"
    generate_backup(backup, users=3, seed=7, dirty=0, shape="route")
    assert all(name in mapped_source_names() or skip_of(name) for name in ROUTE_TABLES)  # every name has an outcome
    with pytest.raises(InputError, match="does not hold tables that the mappings read: access_requests"):
        migrate(pg_settings, backup, Options(), progress=False)
    run_id = migrate(pg_settings, backup, Options(accept_missing=True), progress=False)
    outcomes = dict(query("select source_table, skip_reason from migration.table_outcomes where run_id = %s",
                          [run_id]))
    assert "unmapped_accepted" not in outcomes.values()
    assert {outcomes[n] for n in ("workout_sets", "rewards", "reward_purchases", "user_feedback")} == {
        "no_source_schema"}
    assert {outcomes[n] for n in ("courses", "lessons")} == {"deprecated_feature"}
    # G9: without universal_quests and learn_lessons, every quest and lesson progress row is an orphan
    assert query("select count(*) from public.user_quest_progress") == [(0,)]
    orphaned = dict(query("select source_table, orphaned from migration.table_outcomes where run_id = %s",
                          [run_id]))
    assert orphaned["user_quest_progress"] > 0 and orphaned["user_lesson_progress"] > 0
    impact = next((pg_settings.reports_dir / run_id).glob("data_migration_impact.md")).read_text()
    head = impact.split("## In short")[0]
    absent = sorted(mapped_source_names() - set(ROUTE_TABLES))
    assert "were absent from the input and are NOT migrated" in head and all(t in head for t in absent)
    assert "user_wallet" in head and "points_ledger" in head
    assert "does NOT mean nothing was lost" in impact
