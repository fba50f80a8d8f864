"""The core tables (core-tables.md): users and sign-in, the gamification tables, habits and goals."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from d1pg.generate.people import Ctx
from d1pg.generate.values import (
    CATALOG_CREATED,
    DAY,
    JSON_TEXT,
    NOW,
    TS_EPOCH,
    TS_MIXED,
    TS_MOSTLY_ISO,
    TS_MOSTLY_SQLITE,
    TS_SQLITE,
    day,
    iso,
    token,
    ts,
    uuid,
)

VERSION = 14
VERSION_NAME = "0014_add_performance_indexes"

SKILLS = (
    # key, name, category, icon, description
    ("focus", "Focus", "mind", "🎯", "Deep work and attention"),
    ("discipline", "Discipline", "mind", "🧱", "Doing it anyway"),
    ("strength", "Strength", "body", "💪", "Training and recovery"),
    ("endurance", "Endurance", "body", "🏃", "Cardio, long efforts"),
    ("knowledge", "Knowledge", "craft", "📚", "Reading and courses"),
    ("creativity", "Creativity", "craft", "🎨", "Making things"),
    ("production", "Production", "craft", "🎛️", "Music production in the DAW"),
    ("wellness", "Wellness", "life", "🧘", "Sleep, calm, balance"),
)
SKILL_KEYS = tuple(s[0] for s in SKILLS)
DANGLING_SKILLS = ("meditation", "legacy_focus", "Focus", "cooking")

ACHIEVEMENTS = (
    # key, name, category, icon, trigger_type, trigger config, coins, xp, hidden
    ("first_focus", "First Focus", "focus", "🎯", "first", {"event": "focus_complete"}, 10, 50, 0),
    ("focus_10", "In the Zone", "focus", "🔥", "count", {"event": "focus_complete", "count": 10}, 25, 100, 0),
    ("focus_100", "Monk Mode", "focus", "🧘", "count", {"event": "focus_complete", "count": 100},
     100, 500, 0),
    ("first_habit", "Creature of Habit", "habits", "✅", "first", {"event": "habit_complete"}, 10, 50, 0),
    ("habit_streak_7", "One Week Strong", "habits", "📅", "streak", {"streak": "habits", "days": 7},
     30, 150, 0),
    ("habit_streak_30", "Unbreakable", "habits", "🏆", "streak", {"streak": "habits", "days": 30},
     150, 750, 0),
    ("first_goal", "Goal Setter", "goals", "🚩", "first", {"event": "goal_create"}, 5, 25, 0),
    ("goal_complete", "Mission Accomplished", "goals", "🎉", "count", {"event": "goal_complete", "count": 1},
     50, 200, 0),
    ("first_workout", "Warm-up Done", "fitness", "🏋️", "first", {"event": "workout_complete"}, 10, 50, 0),
    ("level_5", "Rising", "progress", "⭐", "level", {"level": 5}, 50, 0, 0),
    ("level_10", "Veteran", "progress", "🌟", "level", {"level": 10}, 100, 0, 0),
    ("night_owl", "Night Owl", "secret", "🦉", "time", {"after": "23:00", "event": "focus_complete"},
     20, 80, 1),
)
ACH_KEYS = tuple(a[0] for a in ACHIEVEMENTS)

_STREAK_TYPES = ("daily_login", "focus", "habits", "workout")
_LEDGER_EVENTS = (
    # event_type, coins, xp, skill_key or None, reason
    ("focus_complete", 10, 25, "focus", "Completed focus session"),
    ("habit_complete", 5, 10, "discipline", "Habit completed"),
    ("goal_complete", 50, 100, None, "Goal completed"),
    ("achievement_earned", 25, 100, None, "Achievement unlocked"),
    ("workout_complete", 15, 40, "strength", "Workout logged"),
    ("lesson_complete", 10, 30, "knowledge", "Lesson finished"),
    ("daily_login", 2, 5, None, "Daily login bonus"),
    ("purchase", -120, 0, None, "Bought theme: Dark Synthwave"),
)
_EVENT_TYPES = (
    "focus_start", "focus_complete", "habit_complete", "goal_update", "workout_complete",
    "login", "page_view", "quest_complete",
)
_PAGES = ("/today", "/focus", "/habits", "/goals", "/learn", "/hub/ableton", "/progress", "/market")
_HABIT_NAMES = (
    "Drink water", "Read 20 pages", "Méditation", "Stretch", "练习吉他", "Journal",
    "Walk 10k steps", "No sugar", "Practice scales", "Sleep by 23:00", "Finish one loop in Ableton",
    "Cold shower ❄️",
)
_HABIT_ICONS = ("💧", "📖", "🧘", "🤸", "🎸", "📝", "🚶", "🍏", "🎹", "😴", "🎛️", "🚿")
_COLORS = ("#22c55e", "#3b82f6", "#f59e0b", "#ef4444", "#a855f7", "#14b8a6", "#64748b")
_GOAL_TITLES = (
    "Finish my first EP", "Run a half marathon", "Read 24 books", "Learn Japanese basics",
    "Ship the side project", "Save €5,000", "Bench 100 kg", "Release a track every month",
    "Get to level 10", "Meditate 100 days",
)
_GOAL_CATEGORIES = ("music", "health", "learning", "career", "personal", "finance")
_MILESTONES = (
    "Outline the plan", "First draft", "Halfway there", "Get feedback", "Polish", "Done-done",
    "Buy the gear", "Book the date",
)
_LOG_NOTES = ("felt great", "barely made it", "5 min only", "with Sam", "🔥", "late night", "rainy day")



def rows_users(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        created = u.created
        updated = u.when(x)
        v = x()
        if v < 0.55:
            verified: int | None = 1
        elif v < 0.75:
            verified = created * 1000 + int(x() * 86_400_000)
        elif v < 0.9:
            verified = None
        else:
            verified = 0
        tos = 1 if x() < 0.8 else 0
        role = "user" if x() < 0.97 else ("admin" if x() < 0.5 else "moderator")
        image = f"https://lh3.googleusercontent.com/a/{token(rng, 24)}=s96-c" if x() < 0.6 else None
        yield {
            "id": u.id,
            "name": u.name,
            "email": u.email,
            "emailVerified": verified,
            "image": image,
            "role": role,
            "approved": 1 if x() < 0.95 else 0,
            "age_verified": 1 if x() < 0.9 else 0,
            "tos_accepted": tos,
            "tos_accepted_at": ts(created + int(x() * 600), x(), TS_MOSTLY_ISO) if tos else None,
            "tos_version": ("2025-06-01" if x() < 0.7 else "v1") if tos else None,
            "last_activity_at": ts(updated, x(), TS_MOSTLY_ISO) if x() < 0.85 else None,
            "created_at": ts(created, x(), TS_MOSTLY_SQLITE),
            "updated_at": ts(updated, x(), TS_MIXED),
        }


_PROVIDERS = ("google", "microsoft-entra-id", "credentials")


def rows_accounts(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if not u.n_accounts:
            continue
        if u.n_accounts == 1:
            p = x()
            providers: tuple[str, ...] = ("google",) if p < 0.6 else (
                ("microsoft-entra-id",) if p < 0.85 else ("credentials",))
        else:
            providers = ("google", "microsoft-entra-id") if x() < 0.7 else ("credentials", "google")
        for provider in providers:
            row_id = uuid(rng.getrandbits(128))
            expires = u.when(x) + 3599
            if provider == "credentials":
                yield {
                    "id": row_id, "userId": u.id, "type": "credentials", "provider": provider,
                    "providerAccountId": u.id, "refresh_token": None, "access_token": None,
                    "expires_at": None, "token_type": None, "scope": None, "id_token": None,
                    "session_state": None,
                }
            elif provider == "google":
                yield {
                    "id": row_id, "userId": u.id, "type": "oidc" if x() < 0.5 else "oauth",
                    "provider": provider, "providerAccountId": str(10**20 + rng.getrandbits(64)),
                    "refresh_token": "1//0" + token(rng, 72) if x() < 0.7 else None,
                    "access_token": "ya29." + token(rng, 120), "expires_at": expires,
                    "token_type": "Bearer", "scope": "openid https://www.googleapis.com/auth/userinfo.email "
                    "https://www.googleapis.com/auth/userinfo.profile",
                    "id_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6IjE2NzI2In0." + token(rng, 180) + "."
                    + token(rng, 64),
                    "session_state": None,
                }
            else:
                yield {
                    "id": row_id, "userId": u.id, "type": "oidc", "provider": provider,
                    "providerAccountId": uuid(rng.getrandbits(128)),
                    "refresh_token": "0.AXEA" + token(rng, 96),
                    "access_token": "eyJ0eXAiOiJKV1QiLCJub25jZSI6" + token(rng, 150),
                    "expires_at": expires, "token_type": "bearer",
                    "scope": "openid profile email offline_access User.Read",
                    "id_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + token(rng, 160),
                    "session_state": uuid(rng.getrandbits(128)),
                }


def rows_sessions(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        for _ in range(u.n_sessions):
            t = u.when(x) + 30 * DAY
            yield {
                "id": uuid(rng.getrandbits(128)),
                "sessionToken": uuid(rng.getrandbits(128)),
                "userId": u.id,
                "expires": ts(t, x(), TS_MOSTLY_ISO),
            }


def rows_verification_tokens(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if u.has_vt:
            yield {
                "identifier": u.email,
                "token": f"{rng.getrandbits(256):064x}",
                "expires": iso(u.when(x) + DAY, int(x() * 1000)),
            }


def rows_db_metadata(c: Ctx, rng: random.Random) -> Iterator[dict]:
    yield {"key": "version", "value": str(VERSION), "updated_at": "2025-12-18 09:12:44"}
    yield {"key": "version_name", "value": VERSION_NAME, "updated_at": "2025-12-18 09:12:44"}
    yield {"key": "last_seeded_at", "value": "2025-03-01T00:00:00.000Z", "updated_at": CATALOG_CREATED}


def rows_skill_definitions(c: Ctx, rng: random.Random) -> Iterator[dict]:
    for n, (key, name, category, icon, description) in enumerate(SKILLS):
        yield {
            "id": f"skill_{key}", "key": key, "name": name, "description": description,
            "category": category, "icon": icon, "max_level": 10, "stars_per_level": 10,
            "sort_order": n, "created_at": CATALOG_CREATED,
        }


def rows_achievement_definitions(c: Ctx, rng: random.Random) -> Iterator[dict]:
    for n, (key, name, category, icon, trigger, config, coins, xp, hidden) in enumerate(ACHIEVEMENTS):
        yield {
            "id": f"ach_{key}", "key": key, "name": name, "description": f"Unlock: {name}",
            "category": category, "icon": icon, "trigger_type": trigger,
            "trigger_config_json": JSON_TEXT(config), "reward_coins": coins, "reward_xp": xp,
            "is_hidden": hidden, "sort_order": n, "created_at": CATALOG_CREATED,
        }


def rows_user_skills(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if not u.n_skills:
            continue
        for key in rng.sample(SKILL_KEYS, u.n_skills):
            stars = int(x() * 100)
            yield {
                "id": uuid(rng.getrandbits(128)), "user_id": u.id, "skill_key": key,
                "current_stars": stars, "current_level": 1 + stars // 10,
                "updated_at": ts(u.when(x), x(), TS_MIXED),
            }


def rows_user_achievements(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if not u.n_achievements:
            continue
        for key in rng.sample(ACH_KEYS, u.n_achievements):
            yield {
                "id": uuid(rng.getrandbits(128)), "user_id": u.id, "achievement_key": key,
                "earned_at": ts(u.when(x), x(), TS_MOSTLY_ISO), "notified": 1 if x() < 0.8 else 0,
            }


def rows_user_wallet(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if u.has_wallet:
            yield {
                "id": uuid(rng.getrandbits(128)), "user_id": u.id, "coins": u.coins, "xp": u.xp,
                "level": u.level, "xp_to_next_level": 1000 - u.xp % 1000, "total_skill_stars": u.stars,
                "updated_at": ts(u.when(x), x(), TS_MIXED),
            }


def rows_user_progress(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if u.has_progress:
            xp = u.prog_xp if u.has_wallet else u.xp
            yield {
                "id": f"prog_{u.id}", "user_id": u.id, "total_xp": xp, "current_level": 1 + xp // 1000,
                "coins": u.prog_coins if u.has_wallet else u.coins,
                "created_at": ts(u.created + int(x() * 60), x(), TS_SQLITE),
                "updated_at": ts(u.when(x), x(), TS_MIXED),
            }


def rows_points_ledger(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    n_events = len(_LEDGER_EVENTS)
    for u in c.each_user():
        for _ in range(u.n_ledger):
            event_type, coins, xp, skill_key, reason = _LEDGER_EVENTS[int(x() * n_events)]
            row_id = uuid(rng.getrandbits(128))
            t = u.when(x)
            e = x()
            if e < 0.45:
                event_id: str | None = uuid(rng.getrandbits(128))
            elif e < 0.8:
                kind = event_type.split("_")[0]
                event_id = f"{kind}:{uuid(rng.getrandbits(128))}:{day(t // DAY)}"
            elif e < 0.95:
                event_id = None
            else:
                event_id = ""
            yield {
                "id": row_id, "user_id": u.id, "event_type": event_type, "event_id": event_id,
                "coins": coins, "xp": xp, "skill_stars": 1 if skill_key else 0, "skill_key": skill_key,
                "reason": reason, "idempotency_key": f"{event_type}:{row_id}" if x() < 0.7 else None,
                "created_at": ts(t, x(), TS_EPOCH),
            }


def rows_user_streaks(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if not u.n_streaks:
            continue
        for streak_type in rng.sample(_STREAK_TYPES, u.n_streaks):
            longest = int(x() * 60)
            t = u.when(x)
            yield {
                "id": uuid(rng.getrandbits(128)), "user_id": u.id, "streak_type": streak_type,
                "current_streak": int(x() * (longest + 1)), "longest_streak": longest,
                "last_activity_date": day(t // DAY), "updated_at": ts(t, x(), TS_MIXED),
            }


def _event_metadata(event_type: str, x: Callable[[], float]) -> str | None:
    m = x()
    if m < 0.1:
        return None
    if m < 0.13:
        return ""
    if m < 0.2:
        return "{}"
    if event_type.startswith("focus"):
        meta: dict = {"mode": "pomodoro" if x() < 0.7 else "deep", "duration": 300 * (1 + int(x() * 10))}
    elif event_type == "page_view":
        meta = {"path": _PAGES[int(x() * len(_PAGES))], "ref": None}
    elif event_type == "habit_complete":
        meta = {"habitName": _HABIT_NAMES[int(x() * len(_HABIT_NAMES))], "streak": int(x() * 30)}
    elif event_type == "goal_update":
        meta = {"progress": int(x() * 101), "note": "café ☕" if x() < 0.3 else "on track"}
    else:
        meta = {"source": "web" if x() < 0.8 else "pwa", "tags": ["daily", "auto"]}
    return JSON_TEXT(meta)


def rows_activity_events(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    n = len(_EVENT_TYPES)
    for u in c.each_user():
        for _ in range(u.n_events):
            event_type = _EVENT_TYPES[int(x() * n)]
            yield {
                "id": uuid(rng.getrandbits(128)), "user_id": u.id, "event_type": event_type,
                "metadata_json": _event_metadata(event_type, x),
                "created_at": ts(u.when(x), x(), TS_EPOCH),
            }


def rows_habits(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for hid, created, _ in u.habits(seed):
            k = int(x() * len(_HABIT_NAMES))
            f = x()
            updated = created + int(x() * (NOW - created))
            description = None if x() < 0.6 else "Keep it small and daily"
            color = _COLORS[int(x() * len(_COLORS))]
            yield {
                "id": hid, "user_id": u.id, "name": _HABIT_NAMES[k], "description": description,
                "frequency": "daily" if f < 0.75 else ("weekly" if f < 0.92 else "custom"),
                "target_count": 1 + int(x() * 3) if x() < 0.3 else 1, "icon": _HABIT_ICONS[k], "color": color,
                "is_active": 1 if x() < 0.85 else 0,
                "created_at": ts(created, x(), TS_MOSTLY_SQLITE),
                "updated_at": ts(updated, x(), TS_MIXED),
            }


def rows_habit_logs(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for hid, created, n_logs in u.habits(seed):
            first_day = created // DAY + 1
            span = NOW // DAY - first_day
            if span <= 0 or not n_logs:
                continue
            for d in sorted(rng.sample(range(span), min(n_logs, span))):
                t = (first_day + d) * DAY + int(x() * DAY)
                yield {
                    "id": uuid(rng.getrandbits(128)), "habit_id": hid, "user_id": u.id,
                    "completed_at": ts(t, x(), TS_EPOCH),
                    "notes": _LOG_NOTES[int(x() * len(_LOG_NOTES))] if x() < 0.15 else None,
                }


_STATUSES = ("active", "active", "active", "completed", "paused", "abandoned")


def rows_goals(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for gid, created, _ in u.goals(seed):
            status = _STATUSES[int(x() * len(_STATUSES))]
            progress = 100 if status == "completed" else int(x() * 100)
            target = day(created // DAY + 30 + int(x() * 300)) if x() < 0.7 else None
            yield {
                "id": gid, "user_id": u.id, "title": _GOAL_TITLES[int(x() * len(_GOAL_TITLES))],
                "description": None if x() < 0.5 else "Why: because future me will thank me.",
                "category": _GOAL_CATEGORIES[int(x() * len(_GOAL_CATEGORIES))], "target_date": target,
                "status": status, "progress": progress, "created_at": ts(created, x(), TS_MOSTLY_SQLITE),
                "updated_at": ts(created + int(x() * (NOW - created)), x(), TS_MIXED),
            }


def rows_goal_milestones(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for gid, created, n in u.goals(seed):
            for k in range(n):
                done = x() < 0.4
                yield {
                    "id": uuid(rng.getrandbits(128)), "goal_id": gid,
                    "title": _MILESTONES[int(x() * len(_MILESTONES))], "is_completed": 1 if done else 0,
                    "completed_at": (ts(created + int(x() * (NOW - created)), x(), TS_MIXED)
                                     if done else None),
                    "sort_order": k,
                }


CATALOGS = ("db_metadata", "skill_definitions", "achievement_definitions")
"""Catalogs the app seeds by SQL: kept clean, so the dirty fraction lands on user data."""

PASSES = {name[5:]: ((fn, None) if name[5:] in CATALOGS else (None, fn))
          for name, fn in list(globals().items()) if name.startswith("rows_")}
"""table -> (catalog rows, per-user rows): each a function of (Ctx, the table's random stream)."""
