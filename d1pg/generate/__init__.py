"""Generate realistic Cloudflare D1 admin backups, deterministically and in constant memory.

The output is what the app's ``/api/admin/backup`` route returns (contract §1): one JSON document
written exactly as JavaScript ``JSON.stringify(backup, null, 2)`` would write it (two-space indent,
keys in insertion order, non-ASCII characters raw, no trailing newline), optionally gzip-compressed::

    {"version": 14, "versionName": "0014_add_performance_indexes", "createdAt": "…Z",
     "createdBy": "admin@example.com", "tables": {"users": [...], "accounts": [...], ...}}

Tables (D1 column names, core-tables.md): users, accounts, sessions, verification_tokens,
db_metadata, skill_definitions, achievement_definitions, user_skills, user_achievements,
user_wallet, user_progress, points_ledger, user_streaks, activity_events, habits, habit_logs,
goals, goal_milestones.

Size: **about 56 rows per user** on average (measured: 55.8 at 18,000 users, seed 1): 1 user,
1 account, 1 session, 0.05 verification token, 3 user_skills, 2 user_achievements, 0.9 user_wallet,
0.7 user_progress (0.63 of users have both), 10 points_ledger, 2 user_streaks, 10 activity_events,
3 habits, ~16 habit_logs, 2 goals, 3 goal_milestones; plus 3 db_metadata and 20 catalog rows. So
**1M rows ≈ 18,000 users**: about 340 bytes per row, 340 MB of JSON (60 MB gzipped), written in
about 10 s (14 s gzipped) on one core, with a constant ~1.5 MB of Python heap.

Streaming and determinism: nothing is kept per user. Each table is written by its own pass over
the users; user-derived values (id, name, creation time, how many rows of each table, wallet
values, habit and goal ids) are regenerated in every pass from ``random.Random(f"{seed}:{i}")``
(habits and goals from ``f"{seed}:{i}:habits"`` / ``f"{seed}:{i}:goals"``), and row details come
from one stream per table (``f"{seed}:table:<name>"``). Defects come from a separate stream per
table, so the clean rows of a seed are the same whatever ``dirty`` is. Same seed and user count
give a byte-identical file; ``createdAt`` is derived from the seed, never the clock.

Realistic shapes (clean data, ``dirty=0``): timestamps mixed in one column (SQLite
``2026-01-03 12:34:56``, JS ``2026-01-03T12:34:56.789Z``, epoch milliseconds as a number or a
numeric string in ``habit_logs.completed_at``, ``activity_events.created_at`` and
``points_ledger.created_at``); booleans as 0/1; JSON held as text; ``users.emailVerified`` 1, 0,
null or epoch ms; ``accounts.provider`` google / microsoft-entra-id / credentials; readable catalog
ids (``skill_focus``, ``ach_first_focus``); ``prog_<user uuid>`` ids; ``points_ledger.event_id`` a
UUID, a readable value (``habit:<uuid>:2026-01-03``) or null; both wallet and progress rows for most
users, disagreeing on xp/coins for some. With ``dirty=0`` every value is valid for the contract,
every id and unique key is unique and every reference resolves.

Defects (``dirty`` = probability per row, per-user tables only; catalogs stay clean): an invalid
timestamp or date (``2026-02-30 10:00:00``, ``yesterday``, ``now``, ``Invalid Date``), a boolean
2 / "yes" / "true", invalid JSON text (``{"a":``, ``[object Object]``), a missing id (absent,
null or empty), a duplicate id (the previous row's id, sometimes upper-cased), a duplicate unique
key (same email or the same email in another letter case, same user/skill_key, same habit/day,
same provider account, same idempotency key), an orphan reference (unknown user_id / userId /
habit_id / goal_id, a dangling ``points_ledger.skill_key``), a CHECK violation (goal status
``archived`` or progress 150, role ``superuser``, provider ``github``, frequency ``monthly``), or
an unknown extra key (schema drift: ``legacy_flag``, ``migrated_from``, ``deleted_at``).

The committed sample ``examples/sample-backup.json`` is ``sample_backup()``: 8 users, seed
20260125, dirty 0.05, plus hand-built rows appended to each table (``special_cases=True``) that
guarantee one of each interesting case (tests/test_generate.py checks both). Regenerate it with::

    .venv/bin/python -m d1pg.generate examples/sample-backup.json --sample

which is ``sample_backup(Path("examples/sample-backup.json"))``. Any other backup:
``.venv/bin/python -m d1pg.generate OUT.json[.gz] --users N [--seed S] [--dirty P]``.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import random
import time
from collections.abc import Callable, Iterator
from functools import lru_cache
from json.encoder import c_encode_basestring as _c_encode_basestring
from json.encoder import c_make_encoder as _c_make_encoder
from pathlib import Path

from d1pg import console, mapping

__all__ = ["SAMPLE_PARAMS", "TABLES", "generate_backup", "sample_backup"]

VERSION = 14
VERSION_NAME = "0014_add_performance_indexes"
CREATED_BY = "admin@example.com"

TABLES = (
    "users",
    "accounts",
    "sessions",
    "verification_tokens",
    "db_metadata",
    "skill_definitions",
    "achievement_definitions",
    "user_skills",
    "user_achievements",
    "user_wallet",
    "user_progress",
    "points_ledger",
    "user_streaks",
    "activity_events",
    "habits",
    "habit_logs",
    "goals",
    "goal_milestones",
)

SAMPLE_PARAMS = {"users": 8, "seed": 20260125, "dirty": 0.05, "special_cases": True}

DAY = 86_400
# The backup is taken on 2026-01-06 (plus a seed-derived offset); all data lies before that.
_NOW = 1_767_657_600  # 2026-01-06T00:00:00Z
_HISTORY_DAYS = 300
_CATALOG_CREATED = "2025-03-01 00:00:00"

_PROGRESS_BYTES = 1 << 20
_CHUNK_ROWS = 256  # rows joined per write: bounds the memory held at once
# A row is a flat object of scalars, so the item separator alone lays out one key per line at the
# indent of JSON.stringify(…, null, 2); only the braces are re-framed (see _write_table). The C
# encoder is called directly when available: ~4x faster than json.dumps(indent=2) and re-indenting.
_ROW_SEPARATORS = (",\n        ", ": ")
if _c_make_encoder is not None:
    _C_ROW = _c_make_encoder(None, None, _c_encode_basestring, None, *reversed(_ROW_SEPARATORS), False, False, True)

    def _row_encode(row: dict) -> str:
        return "".join(_C_ROW(row, 0))

else:  # pragma: no cover - CPython always has the C accelerator
    _row_encode = json.JSONEncoder(ensure_ascii=False, separators=_ROW_SEPARATORS).encode
_JSON_TEXT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

# --------------------------------------------------------------------------------------------------
# Static vocabulary
# --------------------------------------------------------------------------------------------------

_FIRST = (
    ("Ada", "ada"), ("Zoë", "zoe"), ("José", "jose"), ("Łukasz", "lukasz"), ("Mia", "mia"),
    ("Noah", "noah"), ("Aiko", "aiko"), ("Søren", "soren"), ("Fatima", "fatima"), ("Liam", "liam"),
    ("Chloé", "chloe"), ("Mateo", "mateo"), ("Priya", "priya"), ("Ömer", "omer"), ("Grace", "grace"),
    ("Yusuf", "yusuf"), ("Elena", "elena"), ("Kai", "kai"), ("Nadia", "nadia"), ("Oliver", "oliver"),
    ("Léa", "lea"), ("Ravi", "ravi"), ("Ingrid", "ingrid"), ("Tomás", "tomas"),
)
_LAST = (
    ("Müller", "muller"), ("García", "garcia"), ("Smith", "smith"), ("Nguyễn", "nguyen"),
    ("Kowalski", "kowalski"), ("O'Brien", "obrien"), ("Tanaka", "tanaka"), ("Johansson", "johansson"),
    ("Dubois", "dubois"), ("Rossi", "rossi"), ("Patel", "patel"), ("Yılmaz", "yilmaz"),
    ("Silva", "silva"), ("Novák", "novak"), ("Kim", "kim"), ("Andersen", "andersen"),
    ("李", "li"), ("Okafor", "okafor"), ("Schmidt", "schmidt"), ("Martin", "martin"),
)
_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "users.example.org")

_SKILLS = (
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
_SKILL_KEYS = tuple(s[0] for s in _SKILLS)
_DANGLING_SKILLS = ("meditation", "legacy_focus", "Focus", "cooking")

_ACHIEVEMENTS = (
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
_ACH_KEYS = tuple(a[0] for a in _ACHIEVEMENTS)

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

_BAD_TS = ("2026-02-30 10:00:00", "yesterday", "now", "Invalid Date", "2026-01-03 24:00:00",
           "2025-13-01T00:00:00.000Z", "2026-01-03T12:34:56.789+0100")
_BAD_DATE = ("2026-02-30", "tomorrow", "2025-00-10", "2026/01/03")
_BAD_BOOL = (2, "yes", "true", -1)
_BAD_JSON = ('{"a":', "[object Object]", "undefined", "{'mode': 'pomodoro'}")
_DRIFT = (("legacy_flag", 1), ("migrated_from", "v13"), ("deleted_at", None), ("legacy_flag", 0))

# Probability mixes for timestamp shapes: cumulative thresholds (sqlite, iso, epoch ms number);
# the rest is epoch ms as a numeric string.
_TS_SQLITE = (1.0, 1.0, 1.0)
_TS_MOSTLY_SQLITE = (0.8, 1.0, 1.0)
_TS_MIXED = (0.5, 1.0, 1.0)
_TS_MOSTLY_ISO = (0.15, 1.0, 1.0)
_TS_EPOCH = (0.35, 0.75, 0.9)

# --------------------------------------------------------------------------------------------------
# Value helpers
# --------------------------------------------------------------------------------------------------

_UUID_CLEAR = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_UUID_V4 = (0x4 << 76) | (0x2 << 62)


def _uuid(bits: int) -> str:
    """A lowercase v4 UUID (``crypto.randomUUID()`` style) from 128 random bits."""
    h = "%032x" % ((bits & _UUID_CLEAR) | _UUID_V4)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@lru_cache(maxsize=16_384)
def _day(d: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(d * DAY))


def _sqlite(t: int) -> str:
    d, s = divmod(t, DAY)
    return f"{_day(d)} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _iso(t: int, ms: int) -> str:
    d, s = divmod(t, DAY)
    return f"{_day(d)}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{ms:03d}Z"


def _ts(t: int, x: float, mix: tuple[float, float, float]) -> str | int:
    """Format instant ``t`` (epoch seconds) in one of the shapes of ``mix``, chosen by ``x`` in [0,1)."""
    if x < mix[0]:
        return _sqlite(t)
    ms = int(x * 1_000_000) % 1000
    if x < mix[1]:
        return _iso(t, ms)
    if x < mix[2]:
        return t * 1000 + ms
    return str(t * 1000 + ms)


def _token(rng: random.Random, nbytes: int) -> str:
    """A random-looking url-safe token of about 4/3 * nbytes characters."""
    raw = rng.getrandbits(nbytes * 8).to_bytes(nbytes, "little")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --------------------------------------------------------------------------------------------------
# Per-user skeleton: regenerated identically in every pass
# --------------------------------------------------------------------------------------------------


class _User:
    __slots__ = (
        "i", "id", "first", "last", "domain", "created", "n_accounts", "n_sessions", "has_vt",
        "n_skills", "n_achievements", "has_wallet", "has_progress", "xp", "coins", "stars",
        "prog_xp", "prog_coins", "n_ledger", "n_streaks", "n_events",
    )

    def __init__(self, seed: int, i: int) -> None:
        r = random.Random(f"{seed}:{i}")
        x = r.random
        self.i = i
        self.id = _uuid(r.getrandbits(128))
        self.first = _FIRST[int(x() * len(_FIRST))]
        self.last = _LAST[int(x() * len(_LAST))]
        self.domain = _DOMAINS[int(x() * len(_DOMAINS))]
        self.created = _NOW - DAY - int(x() * _HISTORY_DAYS * DAY)
        a = x()
        self.n_accounts = 0 if a < 0.05 else (2 if a > 0.95 else 1)
        self.n_sessions = int(x() * 3)
        self.has_vt = x() < 0.05
        self.n_skills = int(x() * 7)
        self.n_achievements = int(x() * 5)
        self.has_wallet = x() < 0.9
        self.has_progress = x() < 0.7
        self.xp = int(x() * 20_000)
        self.coins = int(x() * 3_000)
        self.stars = int(x() * 120)
        stale = x() < 0.3  # progress row written by an older code path: disagrees with the wallet
        self.prog_xp = self.xp - int(x() * 400) if stale else self.xp
        self.prog_coins = self.coins + int(x() * 200) - 100 if stale else self.coins
        self.n_ledger = int(x() * 21)
        self.n_streaks = int(x() * 5)
        self.n_events = int(x() * 21)

    @property
    def name(self) -> str:
        return f"{self.first[0]} {self.last[0]}"

    @property
    def email(self) -> str:
        return f"{self.first[1]}.{self.last[1]}.{self.i}@{self.domain}"

    @property
    def level(self) -> int:
        return 1 + self.xp // 1000

    def habits(self, seed: int) -> list[tuple[str, int, int]]:
        """The user's habits: (id, created epoch, number of logs)."""
        r = random.Random(f"{seed}:{self.i}:habits")
        out = []
        for _ in range(int(r.random() * 7)):
            hid = _uuid(r.getrandbits(128))
            created = self.created + int(r.random() * (_NOW - self.created) * 0.5)
            out.append((hid, created, int(r.random() * 12)))
        return out

    def goals(self, seed: int) -> list[tuple[str, int, int]]:
        """The user's goals: (id, created epoch, number of milestones)."""
        r = random.Random(f"{seed}:{self.i}:goals")
        out = []
        for _ in range(int(r.random() * 5)):
            gid = _uuid(r.getrandbits(128))
            created = self.created + int(r.random() * (_NOW - self.created))
            out.append((gid, created, int(r.random() * 4)))
        return out


def _when(rng_x: Callable[[], float], u: _User) -> int:
    """An instant between the user's creation and the backup."""
    return u.created + int(rng_x() * (_NOW - u.created))


# --------------------------------------------------------------------------------------------------
# Defects
# --------------------------------------------------------------------------------------------------


class _Spec:
    __slots__ = ("has_id", "ts", "dates", "bools", "json", "refs", "dup_key", "check", "kinds")

    def __init__(self, *, has_id=True, ts=(), dates=(), bools=(), json=(), refs=(), dup_key=(), check=()):
        self.has_id, self.ts, self.dates, self.bools, self.json = has_id, ts, dates, bools, json
        self.refs, self.dup_key, self.check = refs, dup_key, check
        kinds = ["drift"]
        if has_id:
            kinds += ["missing_id", "dup_id"]
        if ts or dates:
            kinds.append("bad_ts")
        if bools:
            kinds.append("bad_bool")
        if json:
            kinds.append("bad_json")
        if refs:
            kinds.append("orphan")
        if dup_key:
            kinds.append("dup_key")
        if check:
            kinds.append("check")
        self.kinds = tuple(kinds)


def _spec(source) -> _Spec:
    """What can go wrong in a source table's rows, from its declaration: bad timestamps, dates,
    booleans and JSON text in the columns of those kinds, dangling references, duplicates of its
    first unique key (a derived key column stands for the column it is derived from), and values
    outside a CHECK."""
    def keys(kind):
        return tuple(c.source for c in source.columns if c.kind == kind and c.source)

    def key_of(name):
        col = source.column(name)
        return col.source or source.column(col.derive.of).source

    check = []
    for c in source.columns:
        if c.source and c.allowed:
            check += [(c.source, "retired"), (c.source, str(c.allowed[0]).capitalize())]
        if c.source and c.between:
            check += [(c.source, c.between[1] + 50), (c.source, c.between[0] - 5)]
    return _Spec(ts=keys("timestamp"), dates=keys("date"), bools=keys("boolean"), json=keys("json"),
                 refs=keys("ref"), dup_key=tuple(key_of(c) for c in source.unique[0].columns) if source.unique else (),
                 check=tuple(check))


_CLEAN_TABLES = ("skill_definitions", "achievement_definitions")
"""Catalogs the app seeds by SQL: kept clean, so the dirty fraction lands on user data."""

_SKIPPED_SPECS = {
    "sessions": _Spec(ts=("expires",), refs=("userId",)),
    "verification_tokens": _Spec(has_id=False, ts=("expires",)),
}
"""Defects of the skipped tables, whose columns no declaration states (their rows are counted, not read)."""

@lru_cache(maxsize=1)
def _specs() -> dict[str, _Spec]:
    """The defects gen-backup may give each table's rows (read from the declarations on first use, so
    a bad declaration is the task's one-line error, not an import failure)."""
    return {**{s.name: _spec(s) for s in mapping.sources() if s.name not in _CLEAN_TABLES}, **_SKIPPED_SPECS}


class _Spoiler:
    """Injects at most one defect per row, with probability ``dirty``, from its own random stream."""

    __slots__ = ("dirty", "r", "spec", "prev")

    def __init__(self, seed: int, table: str, dirty: float) -> None:
        self.dirty = dirty
        self.r = random.Random(f"{seed}:dirty:{table}")
        self.spec = _specs().get(table)
        self.prev: dict | None = None  # the previous row of the table (one row: constant memory)

    def __call__(self, row: dict) -> dict:
        if self.spec is not None and self.r.random() < self.dirty:
            self._spoil(row)
        self.prev = row
        return row

    def _spoil(self, row: dict) -> None:
        r, spec, prev = self.r, self.spec, self.prev
        kind = spec.kinds[int(r.random() * len(spec.kinds))]
        if kind == "bad_ts":
            cols = [c for c in spec.ts if row.get(c) is not None]
            dates = [c for c in spec.dates if row.get(c) is not None]
            if dates and (not cols or r.random() < 0.5):
                row[dates[int(r.random() * len(dates))]] = _BAD_DATE[int(r.random() * len(_BAD_DATE))]
            elif cols:
                row[cols[int(r.random() * len(cols))]] = _BAD_TS[int(r.random() * len(_BAD_TS))]
            else:
                kind = "drift"
        elif kind == "bad_bool":
            row[spec.bools[int(r.random() * len(spec.bools))]] = _BAD_BOOL[int(r.random() * len(_BAD_BOOL))]
        elif kind == "bad_json":
            row[spec.json[0]] = _BAD_JSON[int(r.random() * len(_BAD_JSON))]
        elif kind == "missing_id":
            how = int(r.random() * 3)
            if how == 0:
                del row["id"]
            else:
                row["id"] = None if how == 1 else ""
        elif kind == "dup_id":
            pid = prev.get("id") if prev else None
            if pid:
                row["id"] = pid.upper() if r.random() < 0.25 else pid
            else:
                kind = "drift"
        elif kind == "orphan":
            col = spec.refs[int(r.random() * len(spec.refs))]
            if col == "skill_key":
                row[col] = _DANGLING_SKILLS[int(r.random() * len(_DANGLING_SKILLS))]
            elif col == "achievement_key":
                row[col] = "retired_achievement"
            else:
                row[col] = _uuid(r.getrandbits(128))
        elif kind == "dup_key":
            if prev is None or any(prev.get(c) is None for c in spec.dup_key):
                kind = "drift"
            elif spec.dup_key == ("email",):
                email = prev["email"]
                row["email"] = email if r.random() < 0.5 else email[:1].upper() + email[1:]
            elif "completed_at" in spec.dup_key:
                # Same habit, same UTC day as the previous log, another time of that day.
                row["habit_id"], row["user_id"] = prev["habit_id"], prev["user_id"]
                day = _parse_day(prev["completed_at"])
                if day is None:
                    kind = "drift"
                else:
                    row["completed_at"] = _sqlite(day * DAY + int(r.random() * DAY))
            else:
                for c in spec.dup_key:
                    row[c] = prev[c]
        elif kind == "check":
            col, value = spec.check[int(r.random() * len(spec.check))]
            row[col] = value
        if kind == "drift":
            key, value = _DRIFT[int(r.random() * len(_DRIFT))]
            row[key] = value


def _parse_day(value: object) -> int | None:
    """UTC day number of a timestamp this module wrote (any of its shapes); None if it is not one."""
    try:
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return int(value) // 1000 // DAY
        if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
            y, m, d = int(value[:4]), int(value[5:7]), int(value[8:10])
            if 1 <= m <= 12 and 1 <= d <= 28:
                return _days_from_civil(y, m, d)
    except ValueError:
        pass
    return None


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (no time zone involved)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


# --------------------------------------------------------------------------------------------------
# Table passes: each yields row dicts, one at a time
# --------------------------------------------------------------------------------------------------


class _Ctx:
    __slots__ = ("seed", "users", "dirty", "special")

    def __init__(self, seed: int, users: int, dirty: float, special: dict[str, list[dict]] | None) -> None:
        self.seed, self.users, self.dirty, self.special = seed, users, dirty, special

    def rng(self, table: str) -> random.Random:
        return random.Random(f"{self.seed}:table:{table}")

    def each_user(self) -> Iterator[_User]:
        seed = self.seed
        for i in range(self.users):
            yield _User(seed, i)


def _rows_users(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        created = u.created
        updated = _when(x, u)
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
        image = f"https://lh3.googleusercontent.com/a/{_token(rng, 24)}=s96-c" if x() < 0.6 else None
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
            "tos_accepted_at": _ts(created + int(x() * 600), x(), _TS_MOSTLY_ISO) if tos else None,
            "tos_version": ("2025-06-01" if x() < 0.7 else "v1") if tos else None,
            "last_activity_at": _ts(updated, x(), _TS_MOSTLY_ISO) if x() < 0.85 else None,
            "created_at": _ts(created, x(), _TS_MOSTLY_SQLITE),
            "updated_at": _ts(updated, x(), _TS_MIXED),
        }


_PROVIDERS = ("google", "microsoft-entra-id", "credentials")


def _rows_accounts(c: _Ctx, rng: random.Random) -> Iterator[dict]:
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
            row_id = _uuid(rng.getrandbits(128))
            expires = _when(x, u) + 3599
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
                    "refresh_token": "1//0" + _token(rng, 72) if x() < 0.7 else None,
                    "access_token": "ya29." + _token(rng, 120), "expires_at": expires,
                    "token_type": "Bearer", "scope": "openid https://www.googleapis.com/auth/userinfo.email "
                    "https://www.googleapis.com/auth/userinfo.profile",
                    "id_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6IjE2NzI2In0." + _token(rng, 180) + "."
                    + _token(rng, 64),
                    "session_state": None,
                }
            else:
                yield {
                    "id": row_id, "userId": u.id, "type": "oidc", "provider": provider,
                    "providerAccountId": _uuid(rng.getrandbits(128)),
                    "refresh_token": "0.AXEA" + _token(rng, 96),
                    "access_token": "eyJ0eXAiOiJKV1QiLCJub25jZSI6" + _token(rng, 150),
                    "expires_at": expires, "token_type": "bearer",
                    "scope": "openid profile email offline_access User.Read",
                    "id_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + _token(rng, 160),
                    "session_state": _uuid(rng.getrandbits(128)),
                }


def _rows_sessions(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        for _ in range(u.n_sessions):
            t = _when(x, u) + 30 * DAY
            yield {
                "id": _uuid(rng.getrandbits(128)),
                "sessionToken": _uuid(rng.getrandbits(128)),
                "userId": u.id,
                "expires": _ts(t, x(), _TS_MOSTLY_ISO),
            }


def _rows_verification_tokens(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if u.has_vt:
            yield {
                "identifier": u.email,
                "token": f"{rng.getrandbits(256):064x}",
                "expires": _iso(_when(x, u) + DAY, int(x() * 1000)),
            }


def _rows_db_metadata(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    yield {"key": "version", "value": str(VERSION), "updated_at": "2025-12-18 09:12:44"}
    yield {"key": "version_name", "value": VERSION_NAME, "updated_at": "2025-12-18 09:12:44"}
    yield {"key": "last_seeded_at", "value": "2025-03-01T00:00:00.000Z", "updated_at": _CATALOG_CREATED}


def _rows_skill_definitions(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    for n, (key, name, category, icon, description) in enumerate(_SKILLS):
        yield {
            "id": f"skill_{key}", "key": key, "name": name, "description": description,
            "category": category, "icon": icon, "max_level": 10, "stars_per_level": 10,
            "sort_order": n, "created_at": _CATALOG_CREATED,
        }


def _rows_achievement_definitions(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    for n, (key, name, category, icon, trigger, config, coins, xp, hidden) in enumerate(_ACHIEVEMENTS):
        yield {
            "id": f"ach_{key}", "key": key, "name": name, "description": f"Unlock: {name}",
            "category": category, "icon": icon, "trigger_type": trigger,
            "trigger_config_json": _JSON_TEXT(config), "reward_coins": coins, "reward_xp": xp,
            "is_hidden": hidden, "sort_order": n, "created_at": _CATALOG_CREATED,
        }


def _rows_user_skills(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if not u.n_skills:
            continue
        for key in rng.sample(_SKILL_KEYS, u.n_skills):
            stars = int(x() * 100)
            yield {
                "id": _uuid(rng.getrandbits(128)), "user_id": u.id, "skill_key": key,
                "current_stars": stars, "current_level": 1 + stars // 10,
                "updated_at": _ts(_when(x, u), x(), _TS_MIXED),
            }


def _rows_user_achievements(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if not u.n_achievements:
            continue
        for key in rng.sample(_ACH_KEYS, u.n_achievements):
            yield {
                "id": _uuid(rng.getrandbits(128)), "user_id": u.id, "achievement_key": key,
                "earned_at": _ts(_when(x, u), x(), _TS_MOSTLY_ISO), "notified": 1 if x() < 0.8 else 0,
            }


def _rows_user_wallet(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if u.has_wallet:
            yield {
                "id": _uuid(rng.getrandbits(128)), "user_id": u.id, "coins": u.coins, "xp": u.xp,
                "level": u.level, "xp_to_next_level": 1000 - u.xp % 1000, "total_skill_stars": u.stars,
                "updated_at": _ts(_when(x, u), x(), _TS_MIXED),
            }


def _rows_user_progress(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if u.has_progress:
            xp = u.prog_xp if u.has_wallet else u.xp
            yield {
                "id": f"prog_{u.id}", "user_id": u.id, "total_xp": xp, "current_level": 1 + xp // 1000,
                "coins": u.prog_coins if u.has_wallet else u.coins,
                "created_at": _ts(u.created + int(x() * 60), x(), _TS_SQLITE),
                "updated_at": _ts(_when(x, u), x(), _TS_MIXED),
            }


def _rows_points_ledger(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    n_events = len(_LEDGER_EVENTS)
    for u in c.each_user():
        for _ in range(u.n_ledger):
            event_type, coins, xp, skill_key, reason = _LEDGER_EVENTS[int(x() * n_events)]
            row_id = _uuid(rng.getrandbits(128))
            t = _when(x, u)
            e = x()
            if e < 0.45:
                event_id: str | None = _uuid(rng.getrandbits(128))
            elif e < 0.8:
                kind = event_type.split("_")[0]
                event_id = f"{kind}:{_uuid(rng.getrandbits(128))}:{_day(t // DAY)}"
            elif e < 0.95:
                event_id = None
            else:
                event_id = ""
            yield {
                "id": row_id, "user_id": u.id, "event_type": event_type, "event_id": event_id,
                "coins": coins, "xp": xp, "skill_stars": 1 if skill_key else 0, "skill_key": skill_key,
                "reason": reason, "idempotency_key": f"{event_type}:{row_id}" if x() < 0.7 else None,
                "created_at": _ts(t, x(), _TS_EPOCH),
            }


def _rows_user_streaks(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    for u in c.each_user():
        if not u.n_streaks:
            continue
        for streak_type in rng.sample(_STREAK_TYPES, u.n_streaks):
            longest = int(x() * 60)
            t = _when(x, u)
            yield {
                "id": _uuid(rng.getrandbits(128)), "user_id": u.id, "streak_type": streak_type,
                "current_streak": int(x() * (longest + 1)), "longest_streak": longest,
                "last_activity_date": _day(t // DAY), "updated_at": _ts(t, x(), _TS_MIXED),
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
    return _JSON_TEXT(meta)


def _rows_activity_events(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    n = len(_EVENT_TYPES)
    for u in c.each_user():
        for _ in range(u.n_events):
            event_type = _EVENT_TYPES[int(x() * n)]
            yield {
                "id": _uuid(rng.getrandbits(128)), "user_id": u.id, "event_type": event_type,
                "metadata_json": _event_metadata(event_type, x),
                "created_at": _ts(_when(x, u), x(), _TS_EPOCH),
            }


def _rows_habits(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for hid, created, _ in u.habits(seed):
            k = int(x() * len(_HABIT_NAMES))
            f = x()
            updated = created + int(x() * (_NOW - created))
            yield {
                "id": hid, "user_id": u.id, "name": _HABIT_NAMES[k],
                "description": None if x() < 0.6 else "Keep it small and daily",
                "icon": _HABIT_ICONS[k], "color": _COLORS[int(x() * len(_COLORS))],
                "frequency": "daily" if f < 0.75 else ("weekly" if f < 0.92 else "custom"),
                "target_count": 1 + int(x() * 3) if x() < 0.3 else 1, "is_active": 1 if x() < 0.85 else 0,
                "created_at": _ts(created, x(), _TS_MOSTLY_SQLITE),
                "updated_at": _ts(updated, x(), _TS_MIXED),
            }


def _rows_habit_logs(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for hid, created, n_logs in u.habits(seed):
            first_day = created // DAY + 1
            span = _NOW // DAY - first_day
            if span <= 0 or not n_logs:
                continue
            for d in sorted(rng.sample(range(span), min(n_logs, span))):
                t = (first_day + d) * DAY + int(x() * DAY)
                yield {
                    "id": _uuid(rng.getrandbits(128)), "habit_id": hid, "user_id": u.id,
                    "completed_at": _ts(t, x(), _TS_EPOCH),
                    "notes": _LOG_NOTES[int(x() * len(_LOG_NOTES))] if x() < 0.15 else None,
                }


_STATUSES = ("active", "active", "active", "completed", "paused", "abandoned")


def _rows_goals(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for gid, created, _ in u.goals(seed):
            status = _STATUSES[int(x() * len(_STATUSES))]
            progress = 100 if status == "completed" else int(x() * 100)
            target = _day(created // DAY + 30 + int(x() * 300)) if x() < 0.7 else None
            yield {
                "id": gid, "user_id": u.id, "title": _GOAL_TITLES[int(x() * len(_GOAL_TITLES))],
                "description": None if x() < 0.5 else "Why: because future me will thank me.",
                "category": _GOAL_CATEGORIES[int(x() * len(_GOAL_CATEGORIES))], "target_date": target,
                "status": status, "progress": progress, "created_at": _ts(created, x(), _TS_MOSTLY_SQLITE),
                "updated_at": _ts(created + int(x() * (_NOW - created)), x(), _TS_MIXED),
            }


def _rows_goal_milestones(c: _Ctx, rng: random.Random) -> Iterator[dict]:
    x = rng.random
    seed = c.seed
    for u in c.each_user():
        for gid, created, n in u.goals(seed):
            for k in range(n):
                done = x() < 0.4
                yield {
                    "id": _uuid(rng.getrandbits(128)), "goal_id": gid,
                    "title": _MILESTONES[int(x() * len(_MILESTONES))], "is_completed": 1 if done else 0,
                    "completed_at": (_ts(created + int(x() * (_NOW - created)), x(), _TS_MIXED)
                                     if done else None),
                    "sort_order": k,
                }


_PASSES: dict[str, Callable[[_Ctx, random.Random], Iterator[dict]]] = {
    name: globals()[f"_rows_{name}"] for name in TABLES
}


# --------------------------------------------------------------------------------------------------
# Hand-built rows that guarantee the interesting cases (the committed sample)
# --------------------------------------------------------------------------------------------------


def _special_plan(seed: int) -> dict[str, list[dict]]:
    """Rows appended at the end of their tables when ``special_cases`` is set. Small, built once."""
    r = random.Random(f"{seed}:special")

    def uid() -> str:
        return _uuid(r.getrandbits(128))

    both, only_prog, dup_case, missing_user, missing_habit = uid(), uid(), uid(), uid(), uid()
    habit = uid()
    t = _NOW - 20 * DAY + 3_723
    ts, iso = _sqlite(t), _iso(t + 60, 417)
    return {
        "users": [
            {"id": both, "name": "Ada Lovelace", "email": "ada.lovelace@example.com", "emailVerified": 1,
             "image": None, "role": "admin", "approved": 1, "age_verified": 1, "tos_accepted": 1,
             "tos_accepted_at": iso, "tos_version": "2025-06-01", "last_activity_at": iso,
             "created_at": ts, "updated_at": iso},
            {"id": only_prog, "name": "Grace Hopper", "email": "grace.hopper@example.org",
             "emailVerified": (t - DAY) * 1000 + 250, "image": None, "role": "user", "approved": 1,
             "age_verified": 1, "tos_accepted": 0, "tos_accepted_at": None, "tos_version": None,
             "last_activity_at": None, "created_at": ts, "updated_at": ts},
            # Same e-mail as the first special user in another letter case (a warning, not a reject).
            {"id": dup_case, "name": "ADA LOVELACE", "email": "Ada.Lovelace@Example.com",
             "emailVerified": None, "image": None, "role": "user", "approved": 1, "age_verified": 1,
             "tos_accepted": 0, "tos_accepted_at": None, "tos_version": None, "last_activity_at": None,
             "created_at": ts, "updated_at": ts},
        ],
        "accounts": [
            {"id": uid(), "userId": both, "type": "oidc", "provider": "microsoft-entra-id",
             "providerAccountId": uid(), "refresh_token": "0.AXEA" + _token(r, 48),
             "access_token": "eyJ0eXAiOiJKV1QiLCJub25jZSI6" + _token(r, 60), "expires_at": t + 3599,
             "token_type": "bearer", "scope": "openid profile email offline_access User.Read",
             "id_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + _token(r, 60), "session_state": uid()},
            # Orphan: the user was deleted in D1 but the account stayed.
            {"id": uid(), "userId": missing_user, "type": "oauth", "provider": "google",
             "providerAccountId": "104857600000000000042", "refresh_token": None,
             "access_token": "ya29." + _token(r, 60), "expires_at": t + 3599, "token_type": "Bearer",
             "scope": "openid email profile", "id_token": None, "session_state": None},
        ],
        "sessions": [
            {"id": uid(), "sessionToken": uid(), "userId": both, "expires": _iso(t + 30 * DAY, 0)},
            {"id": uid(), "sessionToken": uid(), "userId": only_prog, "expires": _sqlite(t + 30 * DAY)},
        ],
        "user_skills": [
            {"id": uid(), "user_id": both, "skill_key": "focus", "current_stars": 12, "current_level": 2,
             "updated_at": "yesterday"},  # invalid timestamp -> rejected
        ],
        "user_wallet": [
            {"id": uid(), "user_id": both, "coins": 300, "xp": 1200, "level": 2, "xp_to_next_level": 800,
             "total_skill_stars": 12, "updated_at": iso},
        ],
        "user_progress": [
            # Disagrees with the wallet on xp and coins (the wallet wins, a conflict is logged).
            {"id": f"prog_{both}", "user_id": both, "total_xp": 950, "current_level": 1, "coins": 280,
             "created_at": ts, "updated_at": ts},
            # The only source of this user's progress and wallet.
            {"id": f"prog_{only_prog}", "user_id": only_prog, "total_xp": 40, "current_level": 1,
             "coins": 15, "created_at": ts, "updated_at": iso},
        ],
        "points_ledger": [
            {"id": uid(), "user_id": both, "event_type": "focus_complete", "event_id": f"focus:{uid()}:"
             + _day(t // DAY), "coins": 10, "xp": 25, "skill_stars": 1, "skill_key": "meditation",
             "reason": "Completed focus session", "idempotency_key": None, "created_at": t * 1000 + 5},
        ],
        "activity_events": [
            {"id": uid(), "user_id": both, "event_type": "focus_complete", "metadata_json": '{"a":',
             "created_at": str(t * 1000 + 7)},  # invalid JSON text -> rejected
        ],
        "habits": [
            {"id": habit, "user_id": both, "name": "Practice scales", "description": None, "icon": "🎹",
             "color": "#a855f7", "frequency": "daily", "target_count": 1, "is_active": 1,
             "created_at": ts, "updated_at": ts},
            {"id": uid(), "user_id": both, "name": "Stretch", "description": None, "icon": "🤸",
             "color": "#22c55e", "frequency": "daily", "target_count": 1, "is_active": "yes",
             "created_at": ts, "updated_at": ts},  # invalid boolean -> rejected
        ],
        "habit_logs": [
            {"id": uid(), "habit_id": habit, "user_id": both, "completed_at": iso, "notes": None},
            {"id": uid(), "habit_id": habit, "user_id": both, "completed_at": "2026-02-30 10:00:00",
             "notes": "invalid timestamp"},
            {"id": uid(), "habit_id": missing_habit, "user_id": both, "completed_at": (t + DAY) * 1000,
             "notes": "habit deleted"},  # orphan: the habit does not exist
        ],
    }


# --------------------------------------------------------------------------------------------------
# Writer
# --------------------------------------------------------------------------------------------------


class _Out:
    """UTF-8 writer; calls ``progress(bytes written)`` about every ``_PROGRESS_BYTES`` bytes and at the end."""

    __slots__ = ("fh", "written", "reported", "progress")

    def __init__(self, fh, progress: Callable[[int], object] | None) -> None:
        self.fh, self.written, self.reported, self.progress = fh, 0, 0, progress

    def write(self, s: str) -> None:
        data = s.encode("utf-8")
        self.fh.write(data)
        self.written += len(data)
        if self.progress is not None and self.written - self.reported >= _PROGRESS_BYTES:
            self.reported = self.written
            self.progress(self.written)

    def close(self) -> None:
        if self.progress is not None and self.written != self.reported:
            self.reported = self.written
            self.progress(self.written)


def _write_table(w: _Out, name: str, rows: Iterator[dict], first: bool) -> int:
    encode = _row_encode
    w.write(("    " if first else ",\n    ") + json.dumps(name, ensure_ascii=False) + ": [")
    n = 0
    buf: list[str] = []
    append = buf.append
    lead = "\n      "
    for row in rows:
        text = encode(row)
        append(lead + ("{}" if len(text) == 2 else "{\n        " + text[1:-1] + "\n      }"))
        lead = ",\n      "
        n += 1
        if len(buf) >= _CHUNK_ROWS:
            w.write("".join(buf))
            buf.clear()
    w.write("".join(buf) + ("\n    ]" if n else "]"))
    return n


def _created_at(seed: int) -> str:
    r = random.Random(f"{seed}:envelope")
    t = _NOW + 6 * 3600 + int(r.random() * 16 * 3600)
    return _iso(t, int(r.random() * 1000))


def generate_backup(
    out: Path,
    *,
    users: int,
    seed: int = 0,
    dirty: float = 0.02,
    compress: bool | None = None,
    progress: Callable[[int], object] | None = None,
    special_cases: bool = False,
) -> dict[str, int]:
    """Write a D1 admin backup for ``users`` users to ``out``; return the number of rows per table.

    ``compress=None`` gzips when the name ends with ``.gz``. ``progress(bytes_written)``, if given, is
    called about every MB and once at the end with the number of bytes of JSON text (before
    compression) written so far. ``special_cases`` appends the hand-built rows of the committed
    sample. The file is written next to ``out`` (``<name>.part``) and renamed into place when
    complete. Memory does not depend on ``users``: rows are generated and written one at a time.
    """
    if users < 0:
        raise ValueError("users must be >= 0")
    if not 0.0 <= dirty <= 1.0:
        raise ValueError("dirty must be within [0, 1]")
    out = Path(out)
    if compress is None:
        compress = out.name.endswith(".gz")
    ctx = _Ctx(seed, users, dirty, _special_plan(seed) if special_cases else None)
    counts: dict[str, int] = {}
    tmp = out.with_name(out.name + ".part")
    try:
        with open(tmp, "wb") as raw:
            fh = (gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
                  if compress else raw)
            try:
                w = _Out(fh, progress)
                w.write(
                    "{\n"
                    f'  "version": {VERSION},\n'
                    f'  "versionName": {json.dumps(VERSION_NAME)},\n'
                    f'  "createdAt": "{_created_at(seed)}",\n'
                    f'  "createdBy": {json.dumps(CREATED_BY)},\n'
                    '  "tables": {\n'
                )
                for k, table in enumerate(TABLES):
                    counts[table] = _write_table(w, table, _table_rows(ctx, table), k == 0)
                w.write("\n  }\n}")
                w.close()
            finally:
                if fh is not raw:
                    fh.close()
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return counts


def _table_rows(ctx: _Ctx, table: str) -> Iterator[dict]:
    spoil = _Spoiler(ctx.seed, table, ctx.dirty)
    rows = _PASSES[table](ctx, ctx.rng(table))
    if ctx.dirty > 0 and table in _specs():
        rows = map(spoil, rows)
    yield from rows
    if ctx.special:
        yield from ctx.special.get(table, ())


def sample_backup(out: Path) -> dict[str, int]:
    """Write the committed sample (``examples/sample-backup.json``): 8 users, dirty 0.05, special cases."""
    return generate_backup(out, compress=False, **SAMPLE_PARAMS)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m d1pg.generate", description=__doc__.split("\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--users", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dirty", type=float, default=0.02)
    p.add_argument("--sample", action="store_true", help="write the committed sample (fixed parameters)")
    a = p.parse_args(argv)
    if not a.sample and a.users is None:
        p.error("--users is required (or --sample)")
    t0 = time.perf_counter()
    counts = sample_backup(a.out) if a.sample else generate_backup(a.out, users=a.users, seed=a.seed,
                                                                     dirty=a.dirty)
    print(f"{a.out}: {sum(counts.values())} rows, {a.out.stat().st_size} bytes, "
          f"{time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()


def write_backup(out: Path, *, users: int, seed: int = 0, dirty: float = 0.02) -> dict[str, int]:
    """``invoke gen-backup``: write a backup with a progress bar on a terminal and a closing summary."""
    import time

    from d1pg.errors import InputError

    if users < 0 or not 0 <= dirty <= 1:
        raise InputError("--users must be >= 0 and --dirty between 0 and 1")
    started = time.perf_counter()
    with console.byte_progress(f"writing {out.name}", None) as update:
        counts = generate_backup(out, users=users, seed=seed, dirty=dirty, progress=update)
    seconds = time.perf_counter() - started
    total = sum(counts.values())
    console.say(f"wrote {out}: {total:,} rows in {len(counts)} tables, {out.stat().st_size / 1e6:,.1f} MB, "
               f"{seconds:.1f} s")
    return counts
