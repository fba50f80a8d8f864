"""Generate realistic Cloudflare D1 backups, deterministically and in constant memory.

The output is what the app's ``/api/admin/backup`` route returns (contract §1): one JSON document
written exactly as JavaScript ``JSON.stringify(backup, null, 2)`` would write it (two-space indent,
keys in insertion order, non-ASCII characters raw, no trailing newline), optionally gzip-compressed::

    {"version": 14, "versionName": "0014_add_performance_indexes", "createdAt": "…Z",
     "createdBy": "admin@example.com", "tables": {"users": [...], "accounts": [...], ...}}

Three shapes (``shape``, ``--shape``):

- ``full`` (default): every table of the app's D1 schema (``0100_master_reset.sql``, 66 tables),
  ``user_progress`` (read by the progress merge) and wrangler's ``d1_migrations``: what a complete
  export holds (:data:`FULL_TABLES`; SQLite's own ``sqlite_sequence`` and ``_cf_*`` are never part
  of a JSON backup).
- ``route``: exactly the 37 names the app's admin backup route exports (``BACKUP_TABLES``,
  :data:`ROUTE_TABLES`): no ``user_wallet``, ``user_skills``, ``user_achievements``,
  ``achievement_definitions``, ``points_ledger``, ``user_streaks`` (contract §6); ``workout_sets``,
  ``rewards``, ``reward_purchases``, ``user_feedback`` (no such table) and ``courses``, ``lessons``
  (shape A only) are ``[]``.
- ``core``: only the 18 tables of core-tables.md (:data:`CORE_TABLES`), for the benchmark's comparison
  of the transform's speed with and without the other tables.

Rows are shaped as the D1 columns of shape C say (``SELECT *``: the keys in the table's column
order; all-tables.md for the data): code-built ids (``settings_<user>``, ``interest_<user>_<key>``,
``onboarding_<user>``, ``item_user_<user>_<hex>``, ``week_<program>_<n>``), time-based ids
(``book_<ms>``, ``plan_<ms>``, ``uqp_<ms>``, ``quest_<ms>_<rand>``, ``we_<ms>_<i>_<rand>``,
``pr_<ms>_<rand>``, ``feedback-<ms>``, …), the seed rows of 0100's INSERTs for its catalogs
(``item_theme_dark``, ``flow_main_v1``, ``step_1_welcome``, ``topic_intervals``, ``uq_focus_1``,
``pack_5min_reset``, ``abl_play``, ``gloss_bpm``, …), timestamps mixed in one column (SQLite
``2026-01-03 12:34:56``, JS ``2026-01-03T12:34:56.789Z``, epoch milliseconds as a number or a
numeric string), booleans 0/1, JSON as text, ``exercises.muscle_groups`` as JSON arrays from the API
and comma lists (``chest,triceps``) / plain text (``barbell``) from the seed script, REAL values as
JavaScript writes them (``62.5``, ``60``, ``0.001``), the values the app writes that the target maps
(books ``want-to-read``, calendar ``appointment``, feedback ``new``). The tables no code writes
(:data:`EXPECTED_EMPTY`) stay empty. The core tables (core-tables.md) as before: ``users.emailVerified``
1, 0, null or epoch ms; ``accounts.provider`` google / microsoft-entra-id / credentials; readable
catalog ids (``skill_focus``, ``ach_first_focus``); ``prog_<user uuid>`` ids; ``points_ledger.event_id``
a UUID, a readable value (``habit:<uuid>:2026-01-03``) or null; wallet and progress rows that
disagree on xp/coins for some users. With ``dirty=0`` every value is valid for the contract, every id
and unique key is unique and every reference resolves.

Size (measured at 2,000 users, seed 1): shape full writes **about 113 rows per user** (112.6) of
**about 383 bytes** each, plus 147 catalog rows. Per user: the core tables about 56 as before (1 user,
1 account, 1 session, 0.06 verification token, 3 user_skills, 2 user_achievements, 0.9 user_wallet,
0.7 user_progress, 10 points_ledger, 2 user_streaks, 10 activity_events, 3 habits, 16 habit_logs,
2 goals, 3 goal_milestones) and about 57 in the others: 11 exercise_sets, 8.1 focus_sessions,
4 workout_exercises, 3.3 reading_sessions, 3.1 daily_plans, 2.1 calendar_events, 1.9 workout_sessions,
1.6 user_quest_progress, 1.6 ideas, 1.5 quests, 1.5 user_lesson_progress, 1.4 user_ui_modules,
1.4 workout_sections, 1.4 books, 1.3 user_drill_stats, 1.2 user_interests, 1.2 user_purchases,
1.1 personal_records, 1 workouts, 1 program_weeks, 1 program_workouts, 0.9 user_onboarding_state,
0.9 infobase_entries, 0.84 user_settings, 0.43 exercises, 0.41 reference_tracks, 0.33 access_requests,
0.29 track_analysis_cache, 0.17 training_programs, 0.1 feedback, 0.09 plan_templates,
0.06 focus_pause_state, 0.03 market_items. Shape route: about 71 rows per user (71.4), 381 bytes
per row. So **1M rows ≈ 8,900 users** (shape full): 383 MB of JSON (56 MB gzipped), written in 18 s
of CPU time (24 s wall on a loaded two-core machine; 26 s of CPU gzipped), with a peak RSS of 26 MB::

    /usr/bin/time -v .venv/bin/python -m d1pg.generate /tmp/b1m.json --users 8900 --seed 1

Streaming and determinism: nothing is kept per user. Each table is written by its own pass over
the users; user-derived values (id, name, creation time, how many rows of each core table, wallet
values) are regenerated in every pass from ``random.Random(f"{seed}:{i}")``, the ids other tables
refer to (habits, goals, workouts, sessions and sets, programs, books, quests, tracks) from one
stream per user and family (``f"{seed}:{i}:workouts"``), and row details from one stream per table
(``f"{seed}:table:<name>"``). Time-based ids stay unique without remembering any: a user's
``Date.now()`` values are congruent to the user's number modulo the number of users
(``values.stamps``). Defects come from a separate stream per table, so the clean rows of a seed are
the same whatever ``dirty`` is. Same seed, user count and shape give a byte-identical file;
``createdAt`` is derived from the seed, never the clock.

Defects (``dirty`` = probability per row, per-user rows only; catalog rows stay clean) are driven by
the declarations (``d1pg/tables/*.toml``, :mod:`d1pg.generate.defects`): an invalid timestamp or
date (``2026-02-30 10:00:00``, ``yesterday``, ``Invalid Date``), a boolean 2 / "yes" / "true",
invalid JSON text (``{"a":``, ``[object Object]``), a REAL that is not a number (``abc``, ``NaN``)
or overflows (``1e39``), a list that is invalid JSON or not of strings (``["a",``, ``[1,2]``), a
missing id (absent, null or empty), a duplicate id (the previous row's, sometimes upper-cased), a
duplicate unique key (same email or the same email in another letter case, same user/skill_key,
same habit/day, …), an orphan reference (an unknown id, a dangling key such as
``points_ledger.skill_key``), a CHECK violation (a value outside the allowed set or range), or an
unknown extra key (schema drift: ``legacy_flag``, ``migrated_from``, ``deleted_at``). A table whose
declaration has not landed yet gets no defects.

The committed sample ``examples/sample-backup.json`` is ``sample_backup()``: shape full, 8 users,
seed 20260125, dirty 0.05, plus hand-built rows appended to the tables (``special_cases=True``,
:mod:`d1pg.generate.special`) that guarantee one of each messy case: older-shape rows with alias
keys and an alias beside its shape-C key, the four onboarding preferences, comma / JSON / invalid
lists, REAL values that lose precision in float4 or overflow or are not numbers, record and quest
progress duplicates, orphan chains of calendar events, skill ids given as keys, ids and unknown
values, rows the target refuses (a shared infobase entry, feedback of a deleted user, a ``special``
quest), rows in the tables no code writes (tests/test_generate.py checks them). Regenerate it with::

    .venv/bin/python -m d1pg.generate examples/sample-backup.json --sample

which is ``sample_backup(Path("examples/sample-backup.json"))``. Any other backup:
``.venv/bin/python -m d1pg.generate OUT.json[.gz] --users N [--seed S] [--dirty P] [--shape full|route|core]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from d1pg import console
from d1pg.generate import content, core, fitness, learning, personal, planning
from d1pg.generate.core import VERSION, VERSION_NAME
from d1pg.generate.defects import Spoiler, specs
from d1pg.generate.people import Ctx
from d1pg.generate.special import special_plan
from d1pg.generate.values import NOW, iso
from d1pg.generate.writer import Out, write_table

__all__ = ["CORE_TABLES", "EXPECTED_EMPTY", "FULL_TABLES", "ROUTE_TABLES", "SAMPLE_PARAMS", "SHAPES", "TABLES",
           "generate_backup", "main", "sample_backup", "write_backup"]

CREATED_BY = "admin@example.com"

FULL_TABLES = (
    "d1_migrations",
    # 0100_master_reset.sql, in its order (the order of sqlite_master), and user_progress
    "users", "accounts", "sessions", "verification_tokens", "authenticators",
    "user_settings", "user_interests", "user_ui_modules",
    "onboarding_flows", "onboarding_steps", "user_onboarding_state",
    "skill_definitions", "user_skills", "achievement_definitions", "user_achievements", "user_wallet",
    "user_progress", "points_ledger", "user_streaks", "activity_events",
    "market_items", "user_purchases",
    "focus_sessions", "focus_pause_state",
    "quests", "universal_quests", "user_quest_progress",
    "habits", "habit_logs",
    "goals", "goal_milestones",
    "exercises", "workouts", "workout_sections", "workout_exercises", "workout_sessions", "exercise_sets",
    "personal_records", "training_programs", "program_weeks", "program_workouts",
    "books", "reading_sessions",
    "learn_topics", "learn_lessons", "learn_drills", "user_lesson_progress", "user_drill_stats",
    "flashcard_decks", "flashcards", "journal_entries",
    "calendar_events", "daily_plans", "plan_templates",
    "ignition_packs", "daw_shortcuts", "glossary_terms", "recipe_templates", "infobase_entries", "ideas",
    "reference_tracks", "track_analysis_cache",
    "feedback", "notifications", "admin_audit_log", "access_requests", "db_metadata",
)
"""Shape ``full``: what a complete export of the app's D1 database holds."""

ROUTE_TABLES = (
    "users", "accounts", "sessions", "verification_tokens", "db_metadata", "skill_definitions", "user_progress",
    "activity_events", "focus_sessions", "quests", "user_quest_progress", "habits", "habit_logs", "goals",
    "goal_milestones", "calendar_events", "daily_plans", "exercises", "workouts", "workout_sections",
    "workout_exercises", "workout_sessions", "workout_sets", "personal_records", "books", "reading_sessions",
    "courses", "lessons", "user_lesson_progress", "flashcard_decks", "flashcards", "journal_entries",
    "infobase_entries", "notifications", "rewards", "reward_purchases", "user_feedback",
)
"""Shape ``route``: the 37 names of the admin backup route's ``BACKUP_TABLES`` (version 14)."""

ALWAYS_EMPTY = ("workout_sets", "rewards", "reward_purchases", "user_feedback", "courses", "lessons")
"""Names the route exports as ``[]``: no version of the app creates the first four (the route catches
"no such table"), and the last two exist only in shape A."""

EXPECTED_EMPTY = ("authenticators", "flashcard_decks", "flashcards", "journal_entries", "notifications",
                  "admin_audit_log")
"""0100 tables no code of the app writes (all-tables.md): empty in generated data; the special cases
hold a row of each."""

CORE_TABLES = (
    "users", "accounts", "sessions", "verification_tokens", "db_metadata", "skill_definitions",
    "achievement_definitions", "user_skills", "user_achievements", "user_wallet", "user_progress", "points_ledger",
    "user_streaks", "activity_events", "habits", "habit_logs", "goals", "goal_milestones",
)
"""Shape ``core``: only the tables of core-tables.md (what gen-backup wrote before every table was
mapped); the benchmark compares the transform's speed on it with shape ``full``."""

SHAPES = {"full": FULL_TABLES, "route": ROUTE_TABLES, "core": CORE_TABLES}
TABLES = FULL_TABLES
"""The tables of the default shape, in the order they are written."""

SAMPLE_PARAMS = {"users": 8, "seed": 20260125, "dirty": 0.05, "special_cases": True, "shape": "full"}

_PASSES: dict[str, tuple] = {
    **core.PASSES, **personal.PASSES, **planning.PASSES, **fitness.PASSES, **learning.PASSES, **content.PASSES,
    **{name: (None, None) for name in ALWAYS_EMPTY},
}
"""table -> (catalog rows, per-user rows): functions of (Ctx, the table's random stream), or None."""
assert set(FULL_TABLES) | set(ROUTE_TABLES) == set(_PASSES), sorted(set(_PASSES) ^ set(FULL_TABLES) ^
                                                                      set(ROUTE_TABLES))
assert len(ROUTE_TABLES) == 37 and len(set(FULL_TABLES)) == len(FULL_TABLES) == 68


def _created_at(seed: int) -> str:
    r = random.Random(f"{seed}:envelope")
    t = NOW + 6 * 3600 + int(r.random() * 16 * 3600)
    return iso(t, int(r.random() * 1000))


def generate_backup(
    out: Path,
    *,
    users: int,
    seed: int = 0,
    dirty: float = 0.02,
    compress: bool | None = None,
    progress: Callable[[int], object] | None = None,
    special_cases: bool = False,
    shape: str = "full",
) -> dict[str, int]:
    """Write a D1 backup for ``users`` users to ``out``; return the number of rows per table.

    ``shape`` is ``full`` (every table of the app's D1 schema) or ``route`` (the admin backup route's
    37 names). ``compress=None`` gzips when the name ends with ``.gz``. ``progress(bytes_written)``, if
    given, is called about every MB and once at the end with the number of bytes of JSON text (before
    compression) written so far. ``special_cases`` appends the hand-built rows of the committed
    sample. The file is written next to ``out`` (``<name>.part``) and renamed into place when
    complete. Memory does not depend on ``users``: rows are generated and written one at a time.
    """
    if users < 0:
        raise ValueError("users must be >= 0")
    if not 0.0 <= dirty <= 1.0:
        raise ValueError("dirty must be within [0, 1]")
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}")
    out = Path(out)
    if compress is None:
        compress = out.name.endswith(".gz")
    ctx = Ctx(seed, users, dirty, special_plan(seed) if special_cases else None)
    counts: dict[str, int] = {}
    tmp = out.with_name(out.name + ".part")
    try:
        with open(tmp, "wb") as raw:
            fh = (gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
                  if compress else raw)
            try:
                w = Out(fh, progress)
                w.write(
                    "{\n"
                    f'  "version": {VERSION},\n'
                    f'  "versionName": {json.dumps(VERSION_NAME)},\n'
                    f'  "createdAt": "{_created_at(seed)}",\n'
                    f'  "createdBy": {json.dumps(CREATED_BY)},\n'
                    '  "tables": {\n'
                )
                for k, table in enumerate(SHAPES[shape]):
                    counts[table] = write_table(w, table, _table_rows(ctx, table), k == 0)
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


def _table_rows(ctx: Ctx, table: str) -> Iterator[dict]:
    if table in ALWAYS_EMPTY:
        return
    catalog, per_user = _PASSES[table]
    rng = ctx.rng(table)
    if catalog is not None:
        yield from catalog(ctx, rng)
    if per_user is not None:
        rows = per_user(ctx, rng)
        if ctx.dirty > 0 and table in specs():
            rows = map(Spoiler(ctx.seed, table, ctx.dirty), rows)
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
    p.add_argument("--shape", choices=tuple(SHAPES), default="full",
                   help="full: every table of the app's D1 schema; route: the admin backup route's 37 names")
    p.add_argument("--sample", action="store_true", help="write the committed sample (fixed parameters)")
    a = p.parse_args(argv)
    if not a.sample and a.users is None:
        p.error("--users is required (or --sample)")
    t0 = time.perf_counter()
    counts = sample_backup(a.out) if a.sample else generate_backup(a.out, users=a.users, seed=a.seed,
                                                                     dirty=a.dirty, shape=a.shape)
    print(f"{a.out}: {sum(counts.values())} rows, {a.out.stat().st_size} bytes, "
          f"{time.perf_counter() - t0:.1f}s")


def write_backup(out: Path, *, users: int, seed: int = 0, dirty: float = 0.02, shape: str = "full") -> dict[str, int]:
    """``invoke gen-backup``: write a backup with a progress bar on a terminal and a closing summary."""
    from d1pg.errors import InputError

    if users < 0 or not 0 <= dirty <= 1:
        raise InputError("--users must be >= 0 and --dirty between 0 and 1")
    if shape not in SHAPES:
        raise InputError(f"--shape must be one of {', '.join(SHAPES)}")
    started = time.perf_counter()
    with console.byte_progress(f"writing {out.name}", None) as update:
        counts = generate_backup(out, users=users, seed=seed, dirty=dirty, progress=update, shape=shape)
    seconds = time.perf_counter() - started
    total = sum(counts.values())
    console.say(f"wrote {out}: {total:,} rows in {len(counts)} tables, {out.stat().st_size / 1e6:,.1f} MB, "
                f"{seconds:.1f} s")
    return counts
