"""Hand-built rows that guarantee the interesting cases (the committed sample, ``special_cases``)."""

from __future__ import annotations

import random

from d1pg.generate.values import DAY, NOW, day, iso, sqlite, token, uuid


def special_plan(seed: int) -> dict[str, list[dict]]:
    """Rows appended at the end of their tables when ``special_cases`` is set. Small, built once."""
    r = random.Random(f"{seed}:special")

    def uid() -> str:
        return uuid(r.getrandbits(128))

    both, only_prog, dup_case, missing_user, missing_habit = uid(), uid(), uid(), uid(), uid()
    habit = uid()
    t = NOW - 20 * DAY + 3_723
    at_sql, at_iso = sqlite(t), iso(t + 60, 417)
    plan = {
        "users": [
            {"id": both, "name": "Ada Lovelace", "email": "ada.lovelace@example.com", "emailVerified": 1,
             "image": None, "role": "admin", "approved": 1, "age_verified": 1, "tos_accepted": 1,
             "tos_accepted_at": at_iso, "tos_version": "2025-06-01", "last_activity_at": at_iso,
             "created_at": at_sql, "updated_at": at_iso},
            {"id": only_prog, "name": "Grace Hopper", "email": "grace.hopper@example.org",
             "emailVerified": (t - DAY) * 1000 + 250, "image": None, "role": "user", "approved": 1,
             "age_verified": 1, "tos_accepted": 0, "tos_accepted_at": None, "tos_version": None,
             "last_activity_at": None, "created_at": at_sql, "updated_at": at_sql},
            # Same e-mail as the first special user in another letter case (a warning, not a reject).
            {"id": dup_case, "name": "ADA LOVELACE", "email": "Ada.Lovelace@Example.com",
             "emailVerified": None, "image": None, "role": "user", "approved": 1, "age_verified": 1,
             "tos_accepted": 0, "tos_accepted_at": None, "tos_version": None, "last_activity_at": None,
             "created_at": at_sql, "updated_at": at_sql},
        ],
        "accounts": [
            {"id": uid(), "userId": both, "type": "oidc", "provider": "microsoft-entra-id",
             "providerAccountId": uid(), "refresh_token": "0.AXEA" + token(r, 48),
             "access_token": "eyJ0eXAiOiJKV1QiLCJub25jZSI6" + token(r, 60), "expires_at": t + 3599,
             "token_type": "bearer", "scope": "openid profile email offline_access User.Read",
             "id_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + token(r, 60), "session_state": uid()},
            # Orphan: the user was deleted in D1 but the account stayed.
            {"id": uid(), "userId": missing_user, "type": "oauth", "provider": "google",
             "providerAccountId": "104857600000000000042", "refresh_token": None,
             "access_token": "ya29." + token(r, 60), "expires_at": t + 3599, "token_type": "Bearer",
             "scope": "openid email profile", "id_token": None, "session_state": None},
        ],
        "sessions": [
            {"id": uid(), "sessionToken": uid(), "userId": both, "expires": iso(t + 30 * DAY, 0)},
            {"id": uid(), "sessionToken": uid(), "userId": only_prog, "expires": sqlite(t + 30 * DAY)},
        ],
        "user_skills": [
            {"id": uid(), "user_id": both, "skill_key": "focus", "current_stars": 12, "current_level": 2,
             "updated_at": "yesterday"},  # invalid timestamp -> rejected
        ],
        "user_wallet": [
            {"id": uid(), "user_id": both, "coins": 300, "xp": 1200, "level": 2, "xp_to_next_level": 800,
             "total_skill_stars": 12, "updated_at": at_iso},
        ],
        "user_progress": [
            # Disagrees with the wallet on xp and coins (the wallet wins, a conflict is logged).
            {"id": f"prog_{both}", "user_id": both, "total_xp": 950, "current_level": 1, "coins": 280,
             "created_at": at_sql, "updated_at": at_sql},
            # The only source of this user's progress and wallet.
            {"id": f"prog_{only_prog}", "user_id": only_prog, "total_xp": 40, "current_level": 1,
             "coins": 15, "created_at": at_sql, "updated_at": at_iso},
        ],
        "points_ledger": [
            {"id": uid(), "user_id": both, "event_type": "focus_complete", "event_id": f"focus:{uid()}:"
             + day(t // DAY), "coins": 10, "xp": 25, "skill_stars": 1, "skill_key": "meditation",
             "reason": "Completed focus session", "idempotency_key": None, "created_at": t * 1000 + 5},
        ],
        "activity_events": [
            {"id": uid(), "user_id": both, "event_type": "focus_complete", "metadata_json": '{"a":',
             "created_at": str(t * 1000 + 7)},  # invalid JSON text -> rejected
        ],
        "habits": [
            {"id": habit, "user_id": both, "name": "Practice scales", "description": None,
             "frequency": "daily", "target_count": 1, "icon": "🎹", "color": "#a855f7", "is_active": 1,
             "created_at": at_sql, "updated_at": at_sql},
            {"id": uid(), "user_id": both, "name": "Stretch", "description": None,
             "frequency": "daily", "target_count": 1, "icon": "🤸", "color": "#22c55e", "is_active": "yes",
             "created_at": at_sql, "updated_at": at_sql},  # invalid boolean -> rejected
        ],
        "habit_logs": [
            {"id": uid(), "habit_id": habit, "user_id": both, "completed_at": at_iso, "notes": None},
            {"id": uid(), "habit_id": habit, "user_id": both, "completed_at": "2026-02-30 10:00:00",
             "notes": "invalid timestamp"},
            {"id": uid(), "habit_id": missing_habit, "user_id": both, "completed_at": (t + DAY) * 1000,
             "notes": "habit deleted"},  # orphan: the habit does not exist
        ],
    }

    # -- the other tables: one of each messy case the declarations must handle ------------------
    ms = t * 1000 + 417
    workout, section, program, book = uid(), uid(), f"prog_{ms}", f"book_{ms}"
    session, set_id, deck = uid(), uid(), uid()
    root, child, orphan_parent, orphan_child, orphan_grandchild = uid(), uid(), uid(), uid(), uid()
    track, item = f"track_{ms}_{'k3j9x0q2z'}", f"item_user_{both}_5eedf00d"
    custom_ex = f"exercise_{ms}_p4l8m2n6q"
    long_line = ("Idea: a generative ambient patch that listens to the weather API and changes the scale, "
                 "the tempo and the reverb size with the clouds — needs a name")
    plan.update({
        "verification_tokens": [
            {"identifier": "ada.lovelace@example.com", "token": f"{r.getrandbits(256):064x}",
             "expires": iso(t + DAY, 0)},
        ],
        "authenticators": [
            # Shape C has no id key: the target id derives from credentialID (all-tables.md G7).
            {"credentialID": "pQ3x9" + token(r, 24), "userId": both, "providerAccountId": "pQ3x9-passkey",
             "credentialPublicKey": "pQECAyYgASFYI" + token(r, 48), "counter": 7, "credentialDeviceType": "multiDevice",
             "credentialBackedUp": 1, "transports": '["internal","hybrid"]'},
        ],
        "user_settings": [
            # The four onboarding preferences set (a named loss: unmapped in the target).
            {"id": f"settings_{both}", "user_id": both, "nudge_intensity": "energetic", "default_focus_duration": 1500,
             "gamification_visible": "subtle", "planner_mode": "expanded", "theme": "dark",
             "notifications_enabled": 0, "created_at": at_sql, "updated_at": at_iso},
            {"id": f"settings_{only_prog}", "user_id": only_prog, "nudge_intensity": "gentle",
             "default_focus_duration": 600, "gamification_visible": "hidden", "planner_mode": "collapsed",
             "theme": None, "notifications_enabled": None, "created_at": at_sql, "updated_at": at_sql},
        ],
        "user_ui_modules": [
            {"id": f"module_{both}_planner", "user_id": both, "module_key": "planner", "weight": 80, "enabled": 1,
             "last_shown_at": at_iso, "created_at": at_sql},
        ],
        "user_onboarding_state": [
            {"id": f"onboarding_{both}", "user_id": both, "flow_id": "flow_main_v1",
             "current_step_id": "step_99_removed",  # a step that no longer exists (nulled)
             "status": "in_progress", "started_at": at_iso, "completed_at": None, "skipped_at": None,
             "last_step_completed_at": at_iso,
             "responses_json": '{"step_2_interests":["music","focus"],"step_3_intensity":"energetic"}',
             "can_resume": 1, "created_at": at_sql, "updated_at": at_iso},
        ],
        "market_items": [
            # Written by market.ts: no key (the target key derives from the id, G7).
            {"id": item, "name": "Sushi night 🍣", "description": "Reward for a finished EP", "category": "custom",
             "cost_coins": 500, "icon": "gift", "is_global": 0, "is_available": 1, "is_active": 1,
             "is_consumable": 1, "sort_order": 100, "created_by_user_id": both, "created_at": at_iso},
        ],
        "user_purchases": [
            {"id": uid(), "user_id": both, "item_id": item, "cost_coins": 500, "purchased_at": at_iso,
             "redeemed_at": iso(t + DAY, 88)},
            {"id": uid(), "user_id": both, "item_id": "item_theme_dark", "cost_coins": 100, "purchased_at": at_sql,
             "redeemed_at": None},
        ],
        "focus_sessions": [
            # Shape A/B: planned_duration and ended_at (status completed) stand for duration and completed_at.
            {"id": uid(), "user_id": both, "mode": "focus", "planned_duration": 1500, "actual_duration": 1493,
             "started_at": at_iso, "ended_at": iso(t + 1553, 4), "status": "completed",
             "metadata": '{"source":"v1"}', "xp_awarded": 25, "coins_awarded": 10, "created_at": at_sql},
            # An alias beside its shape-C key: the alias is not read (an unmapped column).
            {"id": uid(), "user_id": both, "mode": "focus", "duration": 600, "planned_duration": 900,
             "started_at": at_iso, "completed_at": iso(t + 660, 9), "ended_at": iso(t + 700, 9),
             "abandoned_at": None, "paused_at": None, "paused_remaining": None, "expires_at": None,
             "status": "completed", "xp_awarded": 10, "coins_awarded": 4, "created_at": at_sql},
        ],
        "focus_pause_state": [
            {"id": f"pause_{both}", "user_id": both, "mode": "focus", "time_remaining": 840, "paused_at": at_iso,
             "created_at": at_sql, "updated_at": at_iso},
        ],
        "quests": [
            # 'in-progress' is value-mapped to 'accepted'.
            {"id": f"quest_{ms}_x7k2m9p4q", "user_id": both, "title": "Bounce the EP", "description": None,
             "category": "music", "difficulty": "hard", "xp_reward": 50, "coin_reward": 20, "is_universal": 0,
             "is_active": 1, "status": "in-progress", "accepted_at": at_iso, "completed_at": None,
             "expires_at": None, "is_repeatable": 0, "repeat_frequency": None, "last_completed_date": None,
             "streak_count": 0, "created_at": at_sql},
        ],
        "universal_quests": [
            {"id": "quest-1762000000001", "title": "Keep the Focus", "description": "A skill by its key",
             "type": "weekly", "xp_reward": 60, "coin_reward": 30, "target": 5, "skill_id": "focus", "is_active": 1,
             "created_by": both, "created_at": at_iso, "updated_at": at_iso},
            {"id": "quest-1762000000002", "title": "Focus by id", "description": "A skill by its id, not its key",
             "type": "daily", "xp_reward": 20, "coin_reward": 10, "target": 1, "skill_id": "skill_focus",
             "is_active": 1, "created_by": "system", "created_at": at_iso, "updated_at": at_iso},
            {"id": "quest-1762000000003", "title": "Guts", "description": "A skill that does not exist (nulled)",
             "type": "daily", "xp_reward": 20, "coin_reward": 10, "target": 1, "skill_id": "guts",
             "is_active": 0, "created_by": missing_user, "created_at": at_iso, "updated_at": at_iso},
            # Shape A's type 'special' has no target value: check_violation.
            {"id": "quest-daily-focus", "title": "Special event", "description": "Shape A's special quest",
             "type": "special", "xp_reward": 100, "coin_reward": 50, "target": 1, "skill_id": None, "is_active": 1,
             "created_by": "system", "created_at": at_sql, "updated_at": at_sql},
        ],
        "user_quest_progress": [
            # The same (user, quest) twice: the latest updated_at keeps the key.
            {"id": f"uqp_{ms}", "user_id": both, "quest_id": "uq_focus_1", "status": "available", "progress": 1,
             "completed": 1, "accepted_at": at_iso, "completed_at": at_iso, "created_at": at_sql,
             "updated_at": iso(t + 3 * DAY, 1)},
            {"id": f"uqp_{ms + 1}", "user_id": both, "quest_id": "uq_focus_1", "status": "available",
             "progress": 0, "completed": 0, "accepted_at": None, "completed_at": None, "created_at": at_sql,
             "updated_at": iso(t + DAY, 1)},
        ],
        "calendar_events": [
            # A valid chain root <- child <- grandchild, and a chain whose root is missing (orphans all
            # the way down), and a workout that does not exist (nulled).
            _event(root, both, "Weekly review", "appointment", at_iso, None, None),
            _event(child, both, "Weekly review (moved)", "meeting", at_iso, root, None),
            _event(uid(), both, "Weekly review (cancelled)", "other", at_iso, child, None),
            _event(orphan_child, both, "Band practice", "general", at_iso, orphan_parent, None),
            _event(orphan_grandchild, both, "Band practice (moved)", "general", at_iso, orphan_child, None),
            _event(uid(), both, "Leg day", "workout", at_iso, None, uid()),
        ],
        "daily_plans": [
            {"id": f"plan_{ms}", "user_id": both, "date": day(t // DAY),
             "items_json": f'[{{"id":"plan_workout_{workout}","type":"workout","completed":false}}]',
             "notes": None, "created_at": at_sql, "updated_at": at_iso},
        ],
        "plan_templates": [
            {"id": uid(), "user_id": both, "name": "Ada's week", "description": None, "items_json": "[]",
             "is_public": 0, "category": None, "created_at": at_iso},
        ],
        "exercises": [
            {"id": custom_ex, "name": "Cable Fly", "description": None, "category": "strength",
             "muscle_groups": '["chest","triceps"]', "equipment": '["cable"]', "is_custom": 1, "is_builtin": 0,
             "user_id": both, "created_at": at_iso},
            {"id": "ex_dips", "name": "Dips - Triceps Version", "description": None, "category": "strength",
             "muscle_groups": "triceps, chest", "equipment": "body only", "is_custom": 0, "is_builtin": 1,
             "user_id": None, "created_at": at_sql},
            {"id": f"exercise_{ms}_b4d1nt", "name": "Broken list", "description": "numbers in the list",
             "category": "strength", "muscle_groups": "[1,2]", "equipment": None, "is_custom": 1, "is_builtin": 0,
             "user_id": both, "created_at": at_iso},
            {"id": f"exercise_{ms}_b4dj50n", "name": "Broken JSON", "description": "an unfinished JSON array",
             "category": "strength", "muscle_groups": '["a",', "equipment": "", "is_custom": 1, "is_builtin": 0,
             "user_id": both, "created_at": at_iso},
        ],
        "workouts": [
            {"id": workout, "user_id": both, "name": "Push day", "description": None, "estimated_duration": 45,
             "is_template": 0, "created_at": at_sql, "updated_at": at_iso},
        ],
        "workout_sections": [
            # Shape A: order_index stands for sort_order.
            {"id": section, "workout_id": workout, "name": "Main", "section_type": "main", "order_index": 1,
             "notes": None, "created_at": at_sql},
        ],
        "workout_exercises": [
            {"id": f"we_{ms}_0_q1w2e3r4t", "workout_id": workout, "section_id": section, "exercise_id": custom_ex,
             "sets": 3, "reps": "8-12", "weight": "RPE 8", "duration": None, "rest_seconds": 90, "notes": None,
             "sort_order": 0},
        ],
        "workout_sessions": [
            {"id": session, "user_id": both, "workout_id": workout, "started_at": at_iso,
             "completed_at": iso(t + 3600, 5), "notes": None, "rating": 4},
        ],
        "exercise_sets": [
            # REAL values: 0.1 changes in float4, "62.5" is numeric text, "abc" is not a number.
            _set(set_id, session, custom_ex, 1, 0.1),
            _set(uid(), session, custom_ex, 2, "62.5"),
            _set(uid(), session, custom_ex, 3, "abc"),
            _set(uid(), session, custom_ex, 4, 1e-3),
        ],
        "personal_records": [
            # History of one record: (user, exercise, record type) three times; the greatest value wins.
            _record(f"pr_{ms}_aaaaaaaaa", both, custom_ex, 100, iso(t, 1), set_id),
            _record(f"pr_{ms + 1}_bbbbbbbbb", both, custom_ex, 102.5, iso(t + DAY, 1), None),
            _record(f"pr_{ms + 2}_ccccccccc", both, custom_ex, 97.5, iso(t + 2 * DAY, 1), None),
            _record(f"pr_{ms + 3}_ddddddddd", both, "ex_deadlift", 1e39, iso(t, 2), None),  # out of range
        ],
        "training_programs": [
            {"id": program, "user_id": both, "name": "Ada's strength block", "description": None,
             "duration_weeks": 1, "goal": "strength", "difficulty": None, "is_active": 1, "started_at": at_iso,
             "completed_at": None, "created_at": at_sql, "updated_at": at_iso},
        ],
        "program_weeks": [
            {"id": f"week_{program}_1", "program_id": program, "week_number": 1, "name": "Week 1", "is_deload": 0,
             "notes": None},
        ],
        "program_workouts": [
            {"id": f"pw_{ms}", "program_week_id": f"week_{program}_1", "workout_id": workout, "day_of_week": 1,
             "order_index": 0, "intensity_modifier": 0.9},
            {"id": f"pw_{ms + 1}", "program_week_id": f"week_{program}_1", "workout_id": workout,
             "day_of_week": 4, "order_index": 1, "intensity_modifier": "1.05"},
        ],
        "books": [
            # Shape A: finished_at stands for completed_at; the app's 'want-to-read' maps to want_to_read.
            {"id": book, "user_id": both, "title": "Gödel, Escher, Bach", "author": "Douglas Hofstadter",
             "total_pages": 777, "current_page": 777, "status": "want-to-read", "started_at": at_iso,
             "finished_at": iso(t + 30 * DAY, 3), "rating": 5, "notes": None, "genre": "science",
             "cover_url": None, "created_at": at_sql, "updated_at": at_iso},
            {"id": f"book_{ms + 1}", "user_id": both, "title": "Infinite Jest", "author": "", "total_pages": 0,
             "current_page": 212, "status": "dnf", "started_at": at_iso, "completed_at": None, "rating": None,
             "notes": None, "created_at": at_sql, "updated_at": at_iso},
        ],
        "reading_sessions": [
            {"id": f"session_{ms}", "book_id": book, "user_id": both, "pages_read": 40, "duration_minutes": 35,
             "started_at": at_iso, "notes": None},
        ],
        "flashcard_decks": [
            {"id": deck, "user_id": both, "name": "Intervals", "description": None, "category": "music",
             "card_count": 2, "created_at": at_sql, "updated_at": at_iso},
        ],
        "flashcards": [
            {"id": uid(), "deck_id": deck, "front": "C → E♭", "back": "minor third", "ease_factor": 2.5,
             "interval": 0, "next_review": None, "review_count": 0, "created_at": at_sql},
            {"id": uid(), "deck_id": deck, "front": "C → G", "back": "perfect fifth", "ease_factor": 2.36,
             "interval": 6, "next_review": iso(t + 6 * DAY, 0), "review_count": 3, "created_at": at_sql},
        ],
        "journal_entries": [
            {"id": uid(), "user_id": both, "title": None, "content": "Finished the mix.\nSlept well.",
             "mood": "good", "tags_json": '["music"]', "created_at": at_sql, "updated_at": at_iso},
        ],
        "infobase_entries": [
            # A shared entry (user_id NULL): the target requires a user (null_not_allowed).
            {"id": f"info_{ms}", "user_id": None, "title": "House rules", "content": "Be kind.", "category": None,
             "tags_json": None, "is_public": 1, "created_at": at_sql, "updated_at": at_sql},
        ],
        "ideas": [
            # No title in shape C: it derives from the first line of content, cut to 120 characters.
            {"id": uid(), "user_id": both, "content": long_line + "\r\nsecond line\nthird line", "category": None,
             "tags_json": None, "is_favorite": 1, "created_at": at_iso, "updated_at": at_iso},
        ],
        "reference_tracks": [
            {"id": track, "user_id": both, "title": "Night Bus (ref)", "artist": None,
             "r2_key": f"reference-tracks/{both}/{ms}_night_bus.wav", "mime_type": "audio/wav", "bytes": 52_428_800,
             "sha256": None, "duration_seconds": "215.5", "tags_json": None, "visibility": "private",
             "created_at": at_iso, "updated_at": at_iso},
        ],
        "track_analysis_cache": [
            {"id": uid(), "track_id": track, "bpm": 92, "key": "A minor", "energy": 0.42, "danceability": 0.61,
             "sections_json": None, "waveform_json": None, "analyzer_version": "1.4.2", "analyzed_at": at_iso,
             "created_at": at_sql},
        ],
        "feedback": [
            # The user was deleted (SET NULL in D1): the target requires a user. Status 'new' maps to 'open'.
            {"id": f"feedback-{ms}", "user_id": None, "type": "bug", "message": "Export button does nothing",
             "page_url": "/settings", "user_agent": None, "status": "new", "created_at": at_sql},
        ],
        "notifications": [
            {"id": uid(), "user_id": both, "type": "achievement", "title": "New badge!", "message": None,
             "data_json": '{"achievement":"first_focus"}', "is_read": 0, "created_at": at_sql},
        ],
        "admin_audit_log": [
            {"id": uid(), "admin_id": both, "action": "approve_user", "target_type": "user", "target_id": only_prog,
             "details_json": None, "created_at": at_sql},
        ],
        "access_requests": [
            {"id": uid(), "email": "grace.hopper@example.org", "name": "Grace Hopper", "reason": None,
             "status": "approved", "reviewed_by": missing_user, "reviewed_at": at_iso, "created_at": at_sql},
        ],
    })
    return plan


def _event(id_: str, user: str, title: str, event_type: str, at: str, parent: str | None,
           workout: str | None) -> dict:
    return {"id": id_, "user_id": user, "title": title, "description": None, "event_type": event_type,
            "start_time": at, "end_time": None, "all_day": 0, "location": None, "workout_id": workout,
            "recurrence_rule": None if parent else "FREQ=WEEKLY;BYDAY=FR", "recurrence_end": None,
            "parent_event_id": parent, "color": None, "reminder_minutes": 15, "metadata": None, "created_at": at,
            "updated_at": at}


def _set(id_: str, session: str, exercise: str, n: int, weight) -> dict:
    return {"id": id_, "session_id": session, "exercise_id": exercise, "set_number": n, "reps": 10, "weight": weight,
            "duration": None, "is_warmup": 0, "is_dropset": 0, "rpe": None, "notes": None, "completed_at": None}


def _record(id_: str, user: str, exercise: str, value, at: str, set_id: str | None) -> dict:
    return {"id": id_, "user_id": user, "exercise_id": exercise, "record_type": "max_weight", "value": value,
            "reps": 1, "achieved_at": at, "exercise_set_id": set_id, "previous_value": None, "created_at": at}
