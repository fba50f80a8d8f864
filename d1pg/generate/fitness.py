"""Fitness (all-tables.md "Fitness"): the exercise catalog of the seed script (comma lists, plain
text), exercises, workouts and programs from the app's routes (JSON arrays, ``we_<ms>_<i>_<rand>``,
``pr_<ms>_<rand>``, ``prog_<ms>``, ``week_<program>_<n>``, ``pw_<ms>``), REAL weights."""

from __future__ import annotations

import random
from collections.abc import Iterator

from d1pg.generate.catalogs import EXERCISES, WEIGHTED
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
    pick,
    rand36,
    real,
    ts,
    ts_ms,
)

_CUSTOM = (
    # name, category, muscle groups, equipment (the API writes JSON arrays)
    ("Landmine Press", "strength", ["shoulders", "chest"], ["barbell"]),
    ("Bulgarian Split Squat", "strength", ["quadriceps", "glutes"], ["dumbbell"]),
    ("Zone 2 Ride", "cardio", ["quadriceps"], ["bike"]),
    ("Handstand hold", "strength", ["shoulders"], []),
    ("Mobility flow", "stretching", [], None),
)


def exercises_catalog(c: Ctx, rng: random.Random) -> Iterator[dict]:
    for cid, name, category, muscles, equipment in EXERCISES:
        yield {"id": f"ex_{cid}", "name": name, "description": None, "category": category,
               "muscle_groups": muscles, "equipment": equipment, "is_custom": 0, "is_builtin": 1, "user_id": None,
               "created_at": CATALOG_CREATED}


def exercises(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for eid, ms in u.custom_exercises(seed):
            name, category, muscles, equipment = pick(x, _CUSTOM)
            yield {"id": eid, "name": name, "description": None if x() < 0.7 else "My variation",
                   "category": category, "muscle_groups": JSON_TEXT(muscles),
                   "equipment": None if equipment is None else JSON_TEXT(equipment), "is_custom": 1, "is_builtin": 0,
                   "user_id": u.id, "created_at": ts_ms(ms, x(), TS_MOSTLY_ISO)}


_WORKOUT_NAMES = ("Push day", "Pull day", "Leg day 🦵", "Full body A", "Full body B", "Morning mobility",
                  "5×5 Strength", "Intervals")
_SECTION_NAMES = ("Warm-up", "Main", "Accessories", "Finisher", "Cooldown")
_REPS = ("8-12", "5", "3-5", "10", "AMRAP", "12,10,8", None)
_WEIGHT_TEXT = ("135lbs", "60kg", "RPE 8", "bodyweight", "70%", "22.5 kg", None, None)


def workouts(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for wid, ms, _, n in u.workouts(seed):
            yield {"id": wid, "user_id": u.id, "name": pick(x, _WORKOUT_NAMES),
                   "description": None if x() < 0.6 else "From the template library",
                   "estimated_duration": 20 + 5 * n + int(x() * 30) if x() < 0.8 else None,
                   "is_template": 1 if x() < 0.2 else 0, "created_at": ts_ms(ms, x(), TS_MOSTLY_ISO),
                   "updated_at": ts(ms // 1000 + int(x() * (NOW - ms // 1000)), x(), TS_MIXED)}


def workout_sections(c: Ctx, rng: random.Random) -> Iterator[dict]:
    seed = c.seed
    for u in c.each_user():
        for wid, _, sections, _ in u.workouts(seed):
            for k, sid in enumerate(sections):
                yield {"id": sid, "workout_id": wid, "name": _SECTION_NAMES[k % len(_SECTION_NAMES)],
                       "sort_order": k}


def workout_exercises(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        pool = None
        for wid, ms, sections, n in u.workouts(seed):
            pool = pool or u.exercise_pool(seed)
            for k in range(n):
                timed = x() < 0.15
                yield {
                    "id": f"we_{ms}_{k}_{rand36(rng)}", "workout_id": wid,
                    "section_id": pick(x, sections) if sections and x() < 0.8 else None,
                    "exercise_id": pick(x, pool), "sets": 1 + int(x() * 5),
                    "reps": None if timed else pick(x, _REPS), "weight": None if timed else pick(x, _WEIGHT_TEXT),
                    "duration": 30 + 15 * int(x() * 8) if timed else None,
                    "rest_seconds": pick(x, (None, 60, 90, 120, 180)),
                    "notes": None if x() < 0.85 else "Slow eccentric", "sort_order": k,
                }


def workout_sessions(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for sid, ms, wid, _ in u.workout_sessions(seed):
            done = x() < 0.85
            yield {"id": sid, "user_id": u.id, "workout_id": wid, "started_at": ts_ms(ms, x(), TS_MOSTLY_ISO),
                   "completed_at": ts(ms // 1000 + 1800 + int(x() * 3600), x(), TS_ISO) if done else None,
                   "notes": None if x() < 0.8 else "Felt strong 💪",
                   "rating": 1 + int(x() * 5) if done and x() < 0.6 else None}


def _weight(x, exercise_id: str) -> float | int | None:
    """A logged weight in kg: plates in 2.5 kg steps, dumbbells in 0.5 kg steps; none for bodyweight."""
    if exercise_id not in WEIGHTED:
        return None
    if x() < 0.5:
        return real(20 + 2.5 * int(x() * 49), 1)
    return real(4 + 0.5 * int(x() * 60), 1)


def exercise_sets(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for sid, ms, _, sets in u.workout_sessions(seed):
            t = ms // 1000
            number: dict[str, int] = {}
            for set_id, ex in sets:
                number[ex] = number.get(ex, 0) + 1
                t += 60 + int(x() * 180)
                timed = ex not in WEIGHTED and x() < 0.3
                yield {
                    "id": set_id, "session_id": sid, "exercise_id": ex, "set_number": number[ex],
                    "reps": None if timed else 3 + int(x() * 10), "weight": _weight(x, ex),
                    "duration": 30 + int(x() * 60) if timed else None,
                    "is_warmup": 1 if number[ex] == 1 and x() < 0.3 else 0, "is_dropset": 1 if x() < 0.05 else 0,
                    "rpe": 6 + int(x() * 5) if x() < 0.4 else None, "notes": None,
                    "completed_at": ts(t, x(), TS_ISO) if x() < 0.9 else None,
                }


def personal_records(c: Ctx, rng: random.Random) -> Iterator[dict]:
    """One record per (user, exercise, record type), taken from a logged set: the clean data holds no
    record history (the special cases do)."""
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        seen: set[str] = set()
        picks = []
        for _, ms, _, sets in u.workout_sessions(seed):
            for set_id, ex in sets:
                if ex in WEIGHTED and ex not in seen and x() < 0.5:
                    seen.add(ex)
                    picks.append((set_id, ex, ms // 1000 + 600))
        if not picks:
            continue
        for (set_id, ex, t), ms in zip(picks, u.stamps([p[2] for p in picks]), strict=True):
            reps = 1 + int(x() * 8)
            best = real(40 + 2.5 * int(x() * 50), 1)
            kind = pick(x, ("max_weight", "max_weight", "max_reps", "max_volume"))
            value = best if kind == "max_weight" else (reps if kind == "max_reps" else real(best * reps, 1))
            yield {
                "id": f"pr_{ms}_{rand36(rng)}", "user_id": u.id, "exercise_id": ex, "record_type": kind,
                "value": value, "reps": reps, "achieved_at": ts(t, x(), TS_MOSTLY_ISO),
                "exercise_set_id": set_id if x() < 0.8 else None,
                "previous_value": real(value * 0.95, 2) if x() < 0.5 else None,
                "created_at": ts_ms(ms, x(), TS_MOSTLY_SQLITE),
            }


_PROGRAMS = (("Beginner strength", "strength", "beginner"), ("Hypertrophy block", "hypertrophy", "intermediate"),
             ("Marathon base", "endurance", "intermediate"), ("Peaking", "strength", "advanced"))


def training_programs(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for pid, ms, weeks in u.programs(seed):
            name, goal, difficulty = pick(x, _PROGRAMS)
            t = ms // 1000
            started = x() < 0.7
            finished = started and t + weeks * 7 * DAY < NOW and x() < 0.5
            yield {"id": pid, "user_id": u.id, "name": name, "description": None, "duration_weeks": weeks,
                   "goal": goal if x() < 0.8 else None, "difficulty": difficulty if x() < 0.9 else None,
                   "is_active": 1 if started and not finished else 0,
                   "started_at": ts(t + DAY, x(), TS_ISO) if started else None,
                   "completed_at": ts(t + weeks * 7 * DAY, x(), TS_ISO) if finished else None,
                   "created_at": ts_ms(ms, x(), TS_MOSTLY_SQLITE), "updated_at": ts(t + DAY, x(), TS_MIXED)}


def program_weeks(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for pid, _, weeks in u.programs(seed):
            for n in range(1, weeks + 1):
                deload = n == weeks and x() < 0.5
                yield {"id": f"week_{pid}_{n}", "program_id": pid, "week_number": n,
                       "name": "Deload" if deload else f"Week {n}", "is_deload": 1 if deload else 0,
                       "notes": None if x() < 0.9 else "Add 2.5 kg to the main lifts"}


_INTENSITY = (1, 1, 0.9, 1.05, 0.85, 1.1, 0.95, None)


def program_workouts(c: Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        programs = u.programs(seed)
        workouts = [w[0] for w in u.workouts(seed)] if programs else []
        if not workouts:
            continue
        # The program editor saves every slot at once: the same Date.now(), made unique by stamps().
        slots = [(pid, created // 1000, n, k) for pid, created, weeks in programs for n in range(1, weeks + 1)
                 for k in range(min(len(workouts), 3))]
        for (pid, _, n, k), ms in zip(slots, u.stamps([s[1] for s in slots]), strict=True):
            yield {"id": f"pw_{ms}", "program_week_id": f"week_{pid}_{n}", "workout_id": workouts[k],
                   "day_of_week": (k * 2 + 1) % 7 if x() < 0.9 else None, "order_index": k,
                   "intensity_modifier": pick(x, _INTENSITY)}


PASSES = {
    "exercises": (exercises_catalog, exercises),
    "workouts": (None, workouts),
    "workout_sections": (None, workout_sections),
    "workout_exercises": (None, workout_exercises),
    "workout_sessions": (None, workout_sessions),
    "exercise_sets": (None, exercise_sets),
    "personal_records": (None, personal_records),
    "training_programs": (None, training_programs),
    "program_weeks": (None, program_weeks),
    "program_workouts": (None, program_workouts),
}
