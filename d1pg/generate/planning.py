"""Quests and planning (all-tables.md: "Quests", "Planning")."""

from __future__ import annotations

import random
from collections.abc import Iterator

from d1pg.generate.catalogs import QUESTS, UNIVERSAL_QUESTS, UQ_IDS
from d1pg.generate.people import Ctx
from d1pg.generate.values import (
    CATALOG_CREATED,
    DAY,
    JSON_TEXT,
    NOW,
    TS_ISO,
    TS_MIXED,
    TS_MOSTLY_ISO,
    TS_MOSTLY_SQLITE,
    day,
    pick,
    rand36,
    ts,
    ts_ms,
    uuid,
)

_QUEST_TITLES = ("Finish the drum loop", "Read 30 pages", "Clean the studio desk", "Call grandma",
                 "Stretch for 10 minutes", "Sketch three melodies", "Inbox zero", "Run 5 km")
_QUEST_CATEGORIES = ("focus", "fitness", "learning", "music", "planning", "health")
_QUEST_STATUSES = ("available", "available", "accepted", "completed", "completed", "abandoned", "expired",
                   "pending")  # 'pending': an older code path, mapped to 'available'


def quests_catalog(c: Ctx, rng: random.Random) -> Iterator[dict]:
    yield from (dict(r) for r in QUESTS)


def quests(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for qid, ms in u.quests(seed):
            t = ms // 1000
            status = pick(x, _QUEST_STATUSES)
            repeatable = x() < 0.25
            done = status == "completed"
            accepted = status in ("accepted", "completed", "abandoned") or x() < 0.1
            finished = t + int(x() * (NOW - t))
            yield {
                "id": qid, "user_id": u.id, "title": pick(x, _QUEST_TITLES),
                "description": None if x() < 0.5 else "Small and completable.",
                "category": pick(x, _QUEST_CATEGORIES), "difficulty": pick(x, ("starter", "easy", "medium", "hard",
                                                                                "epic")),
                "xp_reward": 10 + 5 * int(x() * 10), "coin_reward": 5 + int(x() * 20), "is_universal": 0,
                "is_active": 1 if x() < 0.9 else 0, "status": status,
                "accepted_at": ts(t + 60, x(), TS_ISO) if accepted else None,
                "completed_at": ts(finished, x(), TS_ISO) if done else None,
                "expires_at": ts(t + 7 * DAY, x(), TS_ISO) if x() < 0.3 else None,
                "is_repeatable": 1 if repeatable else 0,
                "repeat_frequency": pick(x, ("daily", "weekly")) if repeatable else None,
                "last_completed_date": day(finished // DAY) if repeatable and done else None,
                "streak_count": int(x() * 12) if repeatable else 0,
                "created_at": ts_ms(ms, x(), TS_MOSTLY_ISO),
            }


def universal_quests_catalog(c: Ctx, rng: random.Random) -> Iterator[dict]:
    yield from (dict(r) for r in UNIVERSAL_QUESTS)
    admin = c.user(0)
    for k, (title, type_, target, skill) in enumerate((("Monthly Marathon", "monthly", 20, "endurance"),
                                                       ("First Release", "one_time", 1, None))):
        ms = 1_760_000_000_000 + k * 86_400_000 + 417
        yield {"id": f"quest-{ms}", "title": title, "description": f"{title}: created in the admin panel",
               "type": type_, "xp_reward": 200, "coin_reward": 100, "target": target, "skill_id": skill,
               "is_active": 1, "created_by": admin.id if admin else "system",
               "created_at": ts_ms(ms, 0.5, TS_ISO), "updated_at": ts_ms(ms, 0.5, TS_ISO)}


def user_quest_progress(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        n = int(x() ** 2 * 6)
        if not n:
            continue
        quest_ids = rng.sample(UQ_IDS, n)
        for qid, ms in zip(quest_ids, u.stamps([u.when(x) for _ in range(n)]), strict=True):
            t = ms // 1000
            done = x() < 0.45
            claimed = done and x() < 0.2
            yield {
                "id": f"uqp_{ms}", "user_id": u.id, "quest_id": qid,
                "status": "claimed" if claimed else ("in_progress" if x() < 0.2 else "available"),
                "progress": 1 + int(x() * 5) if done else int(x() * 3), "completed": 1 if done else 0,
                "accepted_at": ts(t, x(), TS_ISO) if x() < 0.6 else None,
                "completed_at": ts(t + int(x() * 20 * 3600), x(), TS_ISO) if done else None,
                "created_at": ts_ms(ms, x(), TS_MOSTLY_SQLITE),
                "updated_at": ts(t + int(x() * 24 * 3600), x(), TS_MIXED),
            }


_EVENT_TITLES = ("Studio session", "Dentist", "Leg day", "Team sync", "Mix review with Sam", "Yoga 🧘",
                 "Mastering deadline", "Coffee with Léa")
_EVENT_TYPES = ("meeting", "appointment", "workout", "other", "general", "focus", "reminder")
_RRULES = ("FREQ=WEEKLY;BYDAY=MO,WE,FR", "FREQ=DAILY", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "FREQ=MONTHLY;BYMONTHDAY=1")


def calendar_events(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        n = int(x() ** 1.5 * 5)
        if not n:
            continue
        workouts = [w[0] for w in u.workouts(seed)]
        for ms in u.stamps([u.when(x) for _ in range(n)]):
            event_type = pick(x, _EVENT_TYPES)
            recurring = x() < 0.25
            root = uuid(rng.getrandbits(128)) if x() < 0.5 else f"event_{ms}_{rand36(rng)}"
            start = ms // 1000 + int(x() * 14) * DAY
            all_day = x() < 0.15
            title = pick(x, _EVENT_TITLES)
            workout = pick(x, workouts) if event_type == "workout" and workouts else None
            children = 1 + int(x() * 2) if recurring else 0
            for k in range(1 + children):
                t = start + k * 7 * DAY
                yield {
                    "id": root if k == 0 else uuid(rng.getrandbits(128)), "user_id": u.id,
                    "title": title, "description": None if x() < 0.6 else "Bring headphones.",
                    "event_type": event_type,
                    "start_time": day(t // DAY) if all_day else ts(t, x(), TS_MOSTLY_ISO),
                    "end_time": None if all_day or x() < 0.1 else ts(t + 3600, x(), TS_MOSTLY_ISO),
                    "all_day": 1 if all_day else 0, "location": None if x() < 0.7 else "Studio B",
                    "workout_id": workout,
                    "recurrence_rule": pick(x, _RRULES) if recurring and k == 0 else None,
                    "recurrence_end": day((t + 90 * DAY) // DAY) if recurring and k == 0 and x() < 0.5 else None,
                    "parent_event_id": root if k else None,
                    "color": pick(x, ("#3b82f6", "#22c55e", "#f97316", None)),
                    "reminder_minutes": pick(x, (None, 5, 10, 15, 30, 60)),
                    "metadata": JSON_TEXT({"source": "planner", "instance": k}) if x() < 0.3 else None,
                    "created_at": ts_ms(ms, x(), TS_MOSTLY_ISO), "updated_at": ts_ms(ms, x(), TS_MIXED),
                }


def daily_plans(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        n = int(x() ** 1.5 * 9)
        span = (NOW - u.created) // DAY
        if not n or span < n:
            continue
        quest_ids = [q for q, _ in u.quests(seed)]
        workouts = [w[0] for w in u.workouts(seed)]
        days = sorted(rng.sample(range(u.created // DAY + 1, u.created // DAY + 1 + span), n))
        for d, ms in zip(days, u.stamps([d * DAY + 6 * 3600 + int(x() * 4 * 3600) for d in days]), strict=True):
            items = []
            for k in range(1 + int(x() * 4)):
                f = x()
                if f < 0.4 and quest_ids:
                    item = {"id": f"plan_quest_{pick(x, quest_ids)}", "type": "quest", "title": "Quest"}
                elif f < 0.6 and workouts:
                    item = {"id": f"plan_workout_{pick(x, workouts)}", "type": "workout", "title": "Workout"}
                else:
                    item = {"id": f"plan_focus_{k}", "type": "focus", "title": "Focus block"}
                items.append({**item, "completed": x() < 0.5})
            yield {"id": f"plan_{ms}", "user_id": u.id, "date": day(d), "items_json": JSON_TEXT(items),
                   "notes": None if x() < 0.8 else "Keep it light today.",
                   "created_at": ts_ms(ms, x(), TS_MOSTLY_ISO),
                   "updated_at": ts(ms // 1000 + int(x() * 12 * 3600), x(), TS_MIXED)}


_TEMPLATES = (("Deep work morning", "focus", [{"type": "focus", "minutes": 50}, {"type": "break", "minutes": 10}]),
              ("Gym day", "fitness", [{"type": "workout"}, {"type": "habit", "name": "Stretch"}]),
              ("Release week", "music", [{"type": "focus", "minutes": 90}, {"type": "quest", "title": "Bounce"}]))


def plan_templates_catalog(c: Ctx, rng: random.Random) -> Iterator[dict]:
    for name, category, items in _TEMPLATES:
        yield {"id": uuid(rng.getrandbits(128)), "user_id": None, "name": name, "description": "Shared template",
               "items_json": JSON_TEXT(items), "is_public": 1, "category": category, "created_at": CATALOG_CREATED}


def plan_templates(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if x() >= 0.1:
            continue
        name, category, items = pick(x, _TEMPLATES)
        yield {"id": uuid(rng.getrandbits(128)), "user_id": u.id, "name": f"My {name.lower()}",
               "description": None, "items_json": JSON_TEXT(items) if x() < 0.9 else "[]",
               "is_public": 1 if x() < 0.2 else 0, "category": category if x() < 0.8 else None,
               "created_at": ts(u.when(x), x(), TS_MOSTLY_ISO)}


PASSES = {
    "quests": (quests_catalog, quests),
    "universal_quests": (universal_quests_catalog, None),
    "user_quest_progress": (None, user_quest_progress),
    "calendar_events": (None, calendar_events),
    "daily_plans": (None, daily_plans),
    "plan_templates": (plan_templates_catalog, plan_templates),
}
