"""The backup generator: format, determinism, shapes, validity of clean data (core tables by
core-tables.md, every other table against the app's D1 schema itself), defects, sample, memory."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import sqlite3
import subprocess
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from d1pg import mapping
from d1pg.generate import EXPECTED_EMPTY, SAMPLE_PARAMS, TABLES, defects, generate_backup, main, sample_backup
from d1pg.mapping import Column, Source, Unique

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "sample-backup.json"
D1_SCHEMA = ROOT.parent / "shared" / "spec" / "app-schema" / "d1" / "0100_master_reset.sql"
"""The app's D1 schema with its seed rows (shape C): the source every generated row must fit."""

# Source (D1) columns of core-tables.md, written independently of the generator.
COLUMNS = {
    "users": {"id", "name", "email", "emailVerified", "image", "role", "approved", "age_verified", "tos_accepted",
              "tos_accepted_at", "tos_version", "last_activity_at", "created_at", "updated_at"},
    "accounts": {"id", "userId", "type", "provider", "providerAccountId", "refresh_token", "access_token",
                 "expires_at", "token_type", "scope", "id_token", "session_state"},
    "sessions": {"id", "sessionToken", "userId", "expires"},
    "verification_tokens": {"identifier", "token", "expires"},
    "db_metadata": {"key", "value", "updated_at"},
    "skill_definitions": {"id", "key", "name", "description", "category", "icon", "max_level",
                          "stars_per_level", "sort_order", "created_at"},
    "achievement_definitions": {"id", "key", "name", "description", "category", "icon", "trigger_type",
                                "trigger_config_json", "reward_coins", "reward_xp", "sort_order", "is_hidden",
                                "created_at"},
    "user_skills": {"id", "user_id", "skill_key", "current_stars", "current_level", "updated_at"},
    "user_achievements": {"id", "user_id", "achievement_key", "earned_at", "notified"},
    "user_wallet": {"id", "user_id", "coins", "xp", "level", "xp_to_next_level", "total_skill_stars",
                    "updated_at"},
    "user_progress": {"id", "user_id", "total_xp", "current_level", "coins", "created_at", "updated_at"},
    "points_ledger": {"id", "user_id", "event_type", "event_id", "coins", "xp", "skill_stars", "skill_key",
                      "reason", "idempotency_key", "created_at"},
    "user_streaks": {"id", "user_id", "streak_type", "current_streak", "longest_streak", "last_activity_date",
                     "updated_at"},
    "activity_events": {"id", "user_id", "event_type", "metadata_json", "created_at"},
    "habits": {"id", "user_id", "name", "description", "icon", "color", "frequency", "target_count",
               "is_active", "created_at", "updated_at"},
    "habit_logs": {"id", "habit_id", "user_id", "completed_at", "notes"},
    "goals": {"id", "user_id", "title", "description", "category", "target_date", "status", "progress",
              "created_at", "updated_at"},
    "goal_milestones": {"id", "goal_id", "title", "is_completed", "completed_at", "sort_order"},
}
TIMESTAMPS = {
    "users": ("tos_accepted_at", "last_activity_at", "created_at", "updated_at"),
    "sessions": ("expires",), "verification_tokens": ("expires",), "db_metadata": ("updated_at",),
    "skill_definitions": ("created_at",), "achievement_definitions": ("created_at",),
    "user_skills": ("updated_at",), "user_achievements": ("earned_at",), "user_wallet": ("updated_at",),
    "user_progress": ("created_at", "updated_at"), "points_ledger": ("created_at",),
    "user_streaks": ("updated_at",), "activity_events": ("created_at",), "habits": ("created_at", "updated_at"),
    "habit_logs": ("completed_at",), "goals": ("created_at", "updated_at"), "goal_milestones": ("completed_at",),
}
DATES = {"user_streaks": ("last_activity_date",), "goals": ("target_date",)}
BOOLEANS = {
    "users": ("approved", "age_verified", "tos_accepted"), "achievement_definitions": ("is_hidden",),
    "user_achievements": ("notified",), "habits": ("is_active",), "goal_milestones": ("is_completed",),
}
JSON_TEXT = {"achievement_definitions": ("trigger_config_json",), "activity_events": ("metadata_json",)}
UNIQUE = {
    "accounts": ("provider", "providerAccountId"), "skill_definitions": ("key",),
    "achievement_definitions": ("key",), "user_skills": ("user_id", "skill_key"),
    "user_achievements": ("user_id", "achievement_key"), "user_wallet": ("user_id",),
    "user_progress": ("user_id",), "points_ledger": ("idempotency_key",),
    "user_streaks": ("user_id", "streak_type"),
}
CHECKS = {
    ("users", "role"): {"user", "admin", "moderator"},
    ("accounts", "provider"): {"google", "microsoft-entra-id", "credentials"},
    ("habits", "frequency"): {"daily", "weekly", "custom"},
    ("goals", "status"): {"active", "completed", "abandoned", "paused"},
}
UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TS_TEXT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:(?: |[Tt])(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?)?"
    r"(?:[Zz]|[+-]\d{2}:\d{2})?$"
)
EPOCH_TEXT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
EPOCH0 = datetime(1970, 1, 1, tzinfo=UTC)


def utc_instant(value) -> datetime | None:
    """The contract's closed timestamp grammar (§4); None when the value is rejected."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str) and EPOCH_TEXT.match(value):
        value = float(value)
    if isinstance(value, int | float):
        return EPOCH0 + timedelta(seconds=value if abs(value) < 1e11 else value / 1000)
    if not isinstance(value, str):
        return None
    m = TS_TEXT.match(value)
    if not m or (value[-1:] in "Zz" and "T" not in value.upper()):
        return None
    try:
        return datetime(*(int(g) for g in m.groups() if g is not None), tzinfo=UTC)
    except ValueError:
        return None


def valid_date(value) -> bool:
    return isinstance(value, str) and utc_instant(value) is not None


def problems(doc: dict) -> set[tuple[str, str]]:
    """Every defect found in a parsed backup, as (table, kind). Empty for clean data."""
    found: set[tuple[str, str]] = set()
    t = doc["tables"]
    ids = {name: {r.get("id") for r in rows} for name, rows in t.items()}
    skill_keys = {r["key"] for r in t["skill_definitions"]}
    ach_keys = {r["key"] for r in t["achievement_definitions"]}
    habit_owner = {r.get("id"): r.get("user_id") for r in t["habits"]}
    for name, rows in t.items():
        if name not in COLUMNS:
            continue  # the other tables: test_clean_rows_fit_the_apps_d1_schema
        seen_ids: set[str] = set()
        seen_keys: set[tuple] = set()
        for row in rows:
            if set(row) - COLUMNS[name]:
                found.add((name, "unknown_key"))
            if "id" in COLUMNS[name]:
                rid = row.get("id")
                if not rid:
                    found.add((name, "missing_id"))
                elif rid.lower() in seen_ids:
                    found.add((name, "duplicate_id"))
                else:
                    seen_ids.add(rid.lower())
            for col in TIMESTAMPS.get(name, ()):
                if row.get(col) is not None and utc_instant(row[col]) is None:
                    found.add((name, "invalid_timestamp"))
            for col in DATES.get(name, ()):
                if row.get(col) is not None and not valid_date(row[col]):
                    found.add((name, "invalid_date"))
            for col in BOOLEANS.get(name, ()):
                if row.get(col) not in (0, 1) or isinstance(row.get(col), bool):
                    found.add((name, "invalid_boolean"))
            for col in JSON_TEXT.get(name, ()):
                if row.get(col):
                    try:
                        json.loads(row[col])
                    except ValueError:
                        found.add((name, "invalid_json"))
            for (table, col), allowed in CHECKS.items():
                if table == name and row.get(col) not in allowed:
                    found.add((name, "check_violation"))
            if name == "goals" and not 0 <= row.get("progress", 0) <= 100:
                found.add((name, "check_violation"))
            key = None
            if name in UNIQUE:
                key = tuple(row.get(c) for c in UNIQUE[name])
            elif name == "habit_logs":
                instant = utc_instant(row.get("completed_at"))
                key = (row.get("habit_id"), instant.date() if instant else None)
            if key is not None and None not in key:
                if key in seen_keys:
                    found.add((name, "duplicate_key"))
                seen_keys.add(key)
            user_ref = row.get("userId", row.get("user_id"))
            if ("userId" in COLUMNS[name] or "user_id" in COLUMNS[name]) and user_ref not in ids["users"]:
                found.add((name, "orphan"))
            if name == "habit_logs" and habit_owner.get(row.get("habit_id"), "?") != row.get("user_id"):
                found.add((name, "orphan"))
            if name == "goal_milestones" and row.get("goal_id") not in ids["goals"]:
                found.add((name, "orphan"))
            if name == "user_skills" and row.get("skill_key") not in skill_keys:
                found.add((name, "orphan"))
            if name == "user_achievements" and row.get("achievement_key") not in ach_keys:
                found.add((name, "orphan"))
            if name == "points_ledger" and row.get("skill_key") is not None and row["skill_key"] not in skill_keys:
                found.add((name, "dangling_skill_key"))
    emails = [r.get("email") for r in t["users"]]
    if len({e.lower() for e in emails}) != len(emails):
        found.add(("users", "duplicate_email"))
    return found


def load(path: Path) -> tuple[str, dict]:
    raw = (gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()).decode("utf-8")
    return raw, json.loads(raw)


def test_deterministic_and_json_stringify_format(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    counts = generate_backup(a, users=150, seed=7)
    assert generate_backup(b, users=150, seed=7) == counts
    assert a.read_bytes() == b.read_bytes()
    generate_backup(b, users=150, seed=8)
    assert a.read_bytes() != b.read_bytes()

    raw, doc = load(a)
    # JSON.stringify(backup, null, 2): two-space indent, ": " and "," separators, raw non-ASCII, no final newline.
    assert raw == json.dumps(doc, indent=2, ensure_ascii=False)
    assert any(ord(ch) > 127 for ch in raw)
    assert list(doc) == ["version", "versionName", "createdAt", "createdBy", "tables"]
    assert doc["version"] == 14 and doc["versionName"] == "0014_add_performance_indexes"
    assert doc["createdBy"] == "admin@example.com"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", doc["createdAt"])
    assert tuple(doc["tables"]) == TABLES
    assert counts == {name: len(rows) for name, rows in doc["tables"].items()}


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_same_text_as_javascript(tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    generate_backup(out, users=30, seed=3, dirty=0.2)
    script = "const fs=require('fs');const r=fs.readFileSync(process.argv[1],'utf8');" \
             "process.stdout.write(String(JSON.stringify(JSON.parse(r),null,2)===r))"
    assert subprocess.run(["node", "-e", script, str(out)], capture_output=True, text=True,
                          check=True).stdout == "true"


def test_gzip_round_trip_and_progress(tmp_path: Path) -> None:
    plain, packed, forced = tmp_path / "b.json", tmp_path / "b.json.gz", tmp_path / "c.json.gz"
    seen: list[int] = []
    counts = generate_backup(plain, users=120, seed=5, progress=seen.append)
    assert seen and seen == sorted(seen) and seen[-1] == plain.stat().st_size
    assert generate_backup(packed, users=120, seed=5) == counts
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    # No file name or time in the gzip header: the compressed bytes are reproducible too.
    generate_backup(forced, users=120, seed=5, compress=True)
    assert forced.read_bytes() == packed.read_bytes()
    generate_backup(forced, users=120, seed=5, compress=False)
    assert forced.read_bytes() == plain.read_bytes()
    assert not list(tmp_path.glob("*.part"))


def test_clean_data_is_valid_and_unique(tmp_path: Path) -> None:
    out = tmp_path / "clean.json"
    counts = generate_backup(out, users=400, seed=11, dirty=0.0)
    _, doc = load(out)
    t = doc["tables"]
    assert problems(doc) == set()
    assert all(set(r) == COLUMNS[name] for name, rows in t.items() if name in COLUMNS for r in rows)
    assert all(UUID_V4.match(r["id"]) for r in t["users"])
    emails = [r["email"] for r in t["users"]]
    assert len(set(emails)) == len({e.lower() for e in emails}) == len(emails) == 400
    # Realistic shapes are all there in clean data.
    assert {r["id"] for r in t["skill_definitions"]} >= {"skill_focus", "skill_discipline"}
    assert "ach_first_focus" in {r["id"] for r in t["achievement_definitions"]}
    assert all(r["id"] == f"prog_{r['user_id']}" for r in t["user_progress"])
    assert {r["provider"] for r in t["accounts"]} == {"google", "microsoft-entra-id", "credentials"}
    completed = [r["completed_at"] for r in t["habit_logs"]]
    assert {type(v) for v in completed} == {str, int}
    assert any(isinstance(v, str) and v.isdigit() for v in completed)
    assert any(isinstance(v, str) and "T" in v for v in completed)
    assert any(isinstance(v, str) and " " in v for v in completed)
    assert {r["emailVerified"] is None or r["emailVerified"] in (0, 1) for r in t["users"]} == {True, False}
    event_ids = [r["event_id"] for r in t["points_ledger"]]
    assert None in event_ids and any(e and e.startswith("habit:") for e in event_ids)
    assert any(e and UUID_V4.match(e) for e in event_ids)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", r["last_activity_date"]) for r in t["user_streaks"])
    assert all("completed_date" not in r for r in t["habit_logs"])
    wallets = {r["user_id"]: r for r in t["user_wallet"]}
    both = [p for p in t["user_progress"] if p["user_id"] in wallets]
    assert both and any(wallets[p["user_id"]]["xp"] != p["total_xp"] for p in both)
    assert any(p["user_id"] not in wallets for p in t["user_progress"])
    core = sum(counts[name] for name in COLUMNS) - counts["skill_definitions"] - counts["achievement_definitions"]
    assert 50 <= core / 400 <= 62


def test_dirty_rows_carry_every_kind_of_defect(tmp_path: Path) -> None:
    clean, dirty = tmp_path / "clean.json", tmp_path / "dirty.json"
    generate_backup(clean, users=150, seed=4, dirty=0.0)
    generate_backup(dirty, users=150, seed=4, dirty=0.25)
    found = problems(load(dirty)[1])
    kinds = {kind for _, kind in found}
    assert kinds >= {"unknown_key", "missing_id", "duplicate_id", "invalid_timestamp", "invalid_date",
                     "invalid_boolean", "invalid_json", "check_violation", "duplicate_key", "orphan",
                     "dangling_skill_key", "duplicate_email"}
    # Defects come from their own stream: the table sizes and most rows are those of the clean backup.
    a, b = load(clean)[1]["tables"], load(dirty)[1]["tables"]
    assert {k: len(v) for k, v in a.items()} == {k: len(v) for k, v in b.items()}
    same = sum(x == y for x, y in zip(a["activity_events"], b["activity_events"], strict=True))
    assert 0.6 < same / len(a["activity_events"]) < 0.9


def test_sample_is_what_sample_backup_writes(tmp_path: Path) -> None:
    out = tmp_path / "sample.json"
    counts = sample_backup(out)
    assert out.read_bytes() == SAMPLE.read_bytes(), "regenerate: see the d1pg.generate docstring"
    assert SAMPLE_PARAMS["users"] == 8 and SAMPLE_PARAMS["shape"] == "full" and 900 <= sum(counts.values()) <= 1500


def test_sample_holds_the_guaranteed_cases() -> None:
    doc = json.loads(SAMPLE.read_text(encoding="utf-8"))
    t = doc["tables"]
    users = {r["id"] for r in t["users"] if r.get("id")}
    assert {r["id"] for r in t["skill_definitions"]} >= {"skill_focus"}
    assert "ach_first_focus" in {r["id"] for r in t["achievement_definitions"]}
    assert any(r["id"].startswith("prog_") and UUID_V4.match(r["id"][5:]) for r in t["user_progress"])
    wallets = {r["user_id"]: r for r in t["user_wallet"]}
    assert any(p["user_id"] in wallets and (wallets[p["user_id"]]["xp"], wallets[p["user_id"]]["coins"])
               != (p["total_xp"], p["coins"]) for p in t["user_progress"])
    assert any(p["user_id"] not in wallets and p["user_id"] in users for p in t["user_progress"])
    assert any(r["userId"] not in users for r in t["accounts"])
    assert any(r["habit_id"] not in {h["id"] for h in t["habits"]} for r in t["habit_logs"])
    assert "microsoft-entra-id" in {r["provider"] for r in t["accounts"]}
    emails = [r["email"] for r in t["users"]]
    assert len({e.lower() for e in emails}) < len(set(emails))
    assert len(t["sessions"]) >= 3
    found = problems(doc)
    for case in [("users", "duplicate_email"), ("points_ledger", "dangling_skill_key"),
                 ("habit_logs", "invalid_timestamp"), ("habits", "invalid_boolean"),
                 ("activity_events", "invalid_json"), ("accounts", "orphan"), ("habit_logs", "orphan")]:
        assert case in found, case


def test_memory_does_not_grow_with_users(tmp_path: Path) -> None:
    # 10x the users, same peak: rows are streamed, never collected. (100 vs 1,000 users, every table:
    # tracemalloc slows the generator about 5x, and 10,000 users would take about a minute under it.)
    peaks = []
    for users in (100, 1000):
        tracemalloc.start()
        try:
            generate_backup(tmp_path / "m.json", users=users, seed=2)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[1] <= 1.5 * peaks[0], peaks
    assert peaks[1] < 8 * 2**20, peaks


# -- every table of the app's D1 schema ----------------------------------------------------------

ROUTE = {
    # the admin backup route's BACKUP_TABLES: 12 core names and the 25 of all-tables.md with BT = yes
    "users", "accounts", "sessions", "verification_tokens", "db_metadata", "skill_definitions", "user_progress",
    "activity_events", "habits", "habit_logs", "goals", "goal_milestones",
    "focus_sessions", "quests", "user_quest_progress", "calendar_events", "daily_plans", "exercises", "workouts",
    "workout_sections", "workout_exercises", "workout_sessions", "personal_records", "books", "reading_sessions",
    "user_lesson_progress", "flashcard_decks", "flashcards", "journal_entries", "infobase_entries", "notifications",
    "courses", "lessons", "workout_sets", "rewards", "reward_purchases", "user_feedback",
}
NOT_IN_ROUTE = {"user_wallet", "user_skills", "user_achievements", "achievement_definitions", "points_ledger",
                "user_streaks"}  # migration-contract.md §6
NO_TABLE = {"workout_sets", "rewards", "reward_purchases", "user_feedback", "courses", "lessons"}
CORE_CATALOGS = {"db_metadata", "skill_definitions", "achievement_definitions"}
"""Catalogs that follow core-tables.md (the version-14 backup), not 0100's seed rows."""
TS_COLUMNS = {"expires", "start_time", "end_time", "recurrence_end", "next_review"}
DATE_COLUMNS = {"date", "last_completed_date", "target_date", "last_activity_date"}
BOOL_COLUMNS = {"all_day", "enabled", "completed", "required", "allows_multiple", "can_resume",
                "notifications_enabled", "notified", "approved", "age_verified", "tos_accepted", "credentialBackedUp"}


def d1_database() -> tuple[sqlite3.Connection, dict[str, list[dict]]]:
    """The app's D1 schema in an in-memory SQLite database (plus user_progress and wrangler's
    d1_migrations), emptied, and the seed rows its INSERTs wrote, by table."""
    db = sqlite3.connect(":memory:")
    db.executescript(D1_SCHEMA.read_text(encoding="utf-8"))
    db.execute("pragma foreign_keys = off")
    seeds = {}
    for (name,) in db.execute("select name from sqlite_master where type = 'table'").fetchall():
        cur = db.execute(f'select * from "{name}"')  # noqa: S608
        seeds[name] = [dict(zip([d[0] for d in cur.description], row, strict=True)) for row in cur]
        db.execute(f'delete from "{name}"')  # noqa: S608
    db.execute("create table user_progress (id text primary key, user_id text not null unique references users(id),"
               " total_xp integer, current_level integer, coins integer, created_at text, updated_at text)")
    db.execute("create table d1_migrations (id integer primary key autoincrement, name text unique,"
               " applied_at timestamp not null default current_timestamp)")
    return db, seeds


def columns_of(db: sqlite3.Connection, table: str) -> list[tuple[str, str, bool]]:
    """(name, declared type, NOT NULL) of each column, in the table's order."""
    return [(r[1], r[2], bool(r[3])) for r in db.execute(f'pragma table_info("{table}")')]


def test_shapes_route_and_full(tmp_path: Path) -> None:
    db, _ = d1_database()
    d1_tables = set(_sqlite_tables(db)) - {"user_progress", "d1_migrations"}
    assert len(d1_tables) == 66
    route, full = tmp_path / "route.json", tmp_path / "full.json"
    main([str(route), "--users", "60", "--seed", "3", "--shape", "route"])
    generate_backup(tmp_path / "again.json", users=60, seed=3, shape="route")
    assert route.read_bytes() == (tmp_path / "again.json").read_bytes()
    r = load(route)[1]["tables"]
    assert set(r) == ROUTE and len(r) == 37 and not set(r) & NOT_IN_ROUTE
    assert all(r[name] == [] for name in NO_TABLE)
    counts = generate_backup(full, users=60, seed=3)
    f = load(full)[1]["tables"]
    assert set(f) == d1_tables | {"user_progress", "d1_migrations"} and tuple(f) == TABLES
    assert not set(f) & (NO_TABLE - d1_tables) and "sqlite_sequence" not in f
    assert [row["name"] for row in f["d1_migrations"]][-1] == "0100_master_reset.sql"
    # The tables both shapes hold are the same rows.
    assert all(r[name] == f[name] for name in set(r) & set(f))
    assert all(counts[name] for name in d1_tables - set(EXPECTED_EMPTY))
    assert all(not f[name] for name in EXPECTED_EMPTY)


def _sqlite_tables(db: sqlite3.Connection) -> list[str]:
    return [name for (name,) in db.execute("select name from sqlite_master where type = 'table'")
            if not name.startswith("sqlite_")]


def test_clean_rows_fit_the_apps_d1_schema(tmp_path: Path) -> None:
    """Every row of a clean full backup goes into the app's own D1 schema (column names in order, NOT
    NULL, primary and unique keys, foreign keys), the seed rows of 0100 are there unchanged, and every
    value is of the shape the contract accepts for its column."""
    out = tmp_path / "clean.json"
    generate_backup(out, users=300, seed=11, dirty=0.0)
    t = load(out)[1]["tables"]
    db, seeds = d1_database()
    for name, rows in t.items():
        cols = columns_of(db, name)
        names = [c[0] for c in cols]
        insert = f'insert into "{name}" values ({", ".join("?" * len(cols))})'  # noqa: S608
        for row in rows:
            assert list(row) == names, (name, row)
            db.execute(insert, list(row.values()))  # raises on NOT NULL, PRIMARY KEY and UNIQUE
            for col, type_, not_null in cols:
                value = row[col]
                if value is None:
                    assert not not_null, (name, col)
                elif type_ == "REAL":
                    assert isinstance(value, int | float) and not isinstance(value, bool), (name, col, value)
                elif col in DATE_COLUMNS:
                    assert valid_date(value), (name, col, value)
                elif col.endswith("_at") or col in TS_COLUMNS:
                    assert utc_instant(value) is not None, (name, col, value)
                elif col in BOOL_COLUMNS or col.startswith("is_"):
                    assert value in (0, 1) and not isinstance(value, bool), (name, col, value)
                elif (col.endswith("_json") or col in ("metadata", "transports")) and value != "":
                    json.loads(value)  # the empty string is valid: it becomes NULL
    assert db.execute("pragma foreign_key_check").fetchall() == []
    for name, rows in seeds.items():
        if name in CORE_CATALOGS or not rows:
            continue
        generated = {r["id"]: r for r in t[name]}
        for seed_row in rows:
            assert {k: v for k, v in seed_row.items() if k not in ("created_at", "updated_at")}.items() <= \
                generated[seed_row["id"]].items(), (name, seed_row["id"])
    catalog_ids = {r["id"] for r in t["skill_definitions"] + t["achievement_definitions"]}
    assert {"skill_focus", "ach_first_focus"} <= catalog_ids

    # References D1 does not enforce (no FOREIGN KEY in shape C) resolve too.
    ids = {name: {r["id"] for r in rows if "id" in r} for name, rows in t.items()}
    skill_keys = {r["key"] for r in t["skill_definitions"]}
    assert {r["quest_id"] for r in t["user_quest_progress"]} <= ids["universal_quests"]
    assert {r["current_step_id"] for r in t["user_onboarding_state"]} - {None} <= ids["onboarding_steps"]
    assert {r["parent_event_id"] for r in t["calendar_events"]} - {None} <= ids["calendar_events"]
    assert {r["skill_id"] for r in t["universal_quests"]} - {None} <= skill_keys
    assert {r["skill_key"] for r in t["learn_lessons"]} - {None} <= skill_keys
    assert {r["created_by"] for r in t["universal_quests"]} - {None} <= ids["users"] | {"system"}
    plan_items = [i["id"] for r in t["daily_plans"] for i in json.loads(r["items_json"])]
    assert {i[11:] for i in plan_items if i.startswith("plan_quest_")} <= ids["quests"]
    assert {i[13:] for i in plan_items if i.startswith("plan_workout_")} <= ids["workouts"]
    # Keys the target adds (a unique index or constraint D1 does not have) hold in clean data.
    for name, key in (("personal_records", ("user_id", "exercise_id", "record_type")),
                      ("program_weeks", ("program_id", "week_number")), ("onboarding_steps", ("flow_id", "step_order")),
                      ("onboarding_flows", ("name",))):
        keys = [tuple(r[c] for c in key) for r in t[name]]
        assert len(keys) == len(set(keys)), name

    # The id forms of all-tables.md G1.
    forms = {
        "books": r"book_\d{13}", "daily_plans": r"plan_\d{13}", "user_quest_progress": r"uqp_\d{13}",
        "reading_sessions": r"session_\d{13}", "training_programs": r"prog_\d{13}", "program_workouts": r"pw_\d{13}",
        "workout_exercises": r"we_\d{13}_\d+_[0-9a-z]{9}", "personal_records": r"pr_\d{13}_[0-9a-z]{9}",
        "feedback": r"feedback-\d{13}", "reference_tracks": r"track_\d{13}_[0-9a-z]{9}",
    }
    for name, form in forms.items():
        assert t[name] and all(re.fullmatch(form, r["id"]) for r in t[name]), name
    assert all(r["id"] == f"settings_{r['user_id']}" for r in t["user_settings"])
    assert all(r["id"] == f"interest_{r['user_id']}_{r['interest_key']}" for r in t["user_interests"])
    assert all(r["id"] == f"module_{r['user_id']}_{r['module_key']}" for r in t["user_ui_modules"])
    assert all(r["id"] == f"onboarding_{r['user_id']}" for r in t["user_onboarding_state"])
    assert all(r["id"] == f"pause_{r['user_id']}" for r in t["focus_pause_state"])
    assert all(r["id"] == f"week_{r['program_id']}_{r['week_number']}" for r in t["program_weeks"])
    assert all(r["id"].startswith(f"item_user_{r['created_by_user_id']}_") for r in t["market_items"]
               if r["created_by_user_id"])
    quest_forms = {re.sub(r"\d{13}", "<ms>", re.sub(r"_[0-9a-z]{9}$", "_<rand>", r["id"]))
                   for r in t["quests"] if r["user_id"]}
    assert {"quest_<ms>_<rand>", "quest_<ms>"} <= quest_forms and any(UUID_V4.match(q) for q in quest_forms)
    assert any(re.fullmatch(r"quest-\d{13}", r["id"]) for r in t["universal_quests"])
    assert any(re.fullmatch(r"info_\d{13}", r["id"]) for r in t["infobase_entries"])
    assert any(re.fullmatch(r"event_\d{13}_[0-9a-z]{9}", r["id"]) for r in t["calendar_events"])

    # Data shapes: the seed script's comma lists and the API's JSON arrays, REAL values as JavaScript
    # writes them, the values the app writes that the target maps.
    muscles = [r["muscle_groups"] for r in t["exercises"] if r["muscle_groups"]]
    assert any("," in m and not m.startswith("[") for m in muscles)
    assert any(m.startswith("[") and all(isinstance(v, str) for v in json.loads(m)) for m in muscles)
    assert "barbell" in {r["equipment"] for r in t["exercises"]}
    weights = [r["weight"] for r in t["exercise_sets"] if r["weight"] is not None]
    assert any(isinstance(w, float) for w in weights) and any(isinstance(w, int) for w in weights)
    assert {"want-to-read", "reading", "completed"} <= {r["status"] for r in t["books"]}
    assert {"appointment", "meeting", "other"} <= {r["event_type"] for r in t["calendar_events"]}
    assert "new" in {r["status"] for r in t["feedback"]}


def test_defects_follow_the_declarations(tmp_path: Path, monkeypatch) -> None:
    """A table gets the defects its declaration allows (here declarations written for the test: REAL
    numbers, lists, a reference by key), and a table without a declaration none."""
    fake = {
        "exercise_sets": Source("exercise_sets", "t_sets", (
            Column("id", "id", source="id"), Column("session_id", "ref", source="session_id", not_null=True,
                                                     ref_table="workout_sessions", on_delete="cascade"),
            Column("weight", "real", source="weight"))),
        "exercises": Source("exercises", "t_exercises", (
            Column("id", "id", source="id"), Column("muscle_groups", "text_list", source="muscle_groups"))),
        "universal_quests": Source("universal_quests", "t_uq", (
            Column("id", "id", source="id"),
            Column("skill_key", "ref", source="skill_id", ref_table="skill_definitions", ref_column="key",
                   on_delete="set null"))),
        "focus_sessions": Source("focus_sessions", "t_focus", (
            Column("id", "id", source="id"), Column("duration_seconds", "double", source="duration")),
            unique=(Unique(("id",)),)),
    }
    real = [s for s in mapping.sources() if s.name not in fake and s.name != "books"]
    monkeypatch.setattr(mapping, "sources", lambda: (*real, *fake.values()))
    defects.specs.cache_clear()
    try:
        clean, dirty = tmp_path / "clean.json", tmp_path / "dirty.json"
        generate_backup(clean, users=150, seed=4, dirty=0.0)
        generate_backup(dirty, users=150, seed=4, dirty=0.5)
    finally:
        defects.specs.cache_clear()
    a, b = load(clean)[1]["tables"], load(dirty)[1]["tables"]
    weights = {r.get("weight") for r in b["exercise_sets"]} - {r["weight"] for r in a["exercise_sets"]}
    assert weights & set(defects.BAD_NUMBER) and 1e39 in weights
    assert {r.get("muscle_groups") for r in b["exercises"]} & set(defects.BAD_LIST)
    assert "1e400" in {r.get("duration") for r in b["focus_sessions"]}
    assert {r.get("session_id") for r in b["exercise_sets"]} - {r["session_id"] for r in a["exercise_sets"]}
    # Catalog rows stay clean: universal_quests is all catalog, exercises' catalog rows are untouched.
    assert b["universal_quests"] == a["universal_quests"]
    assert [r for r in b["exercises"] if r.get("user_id") is None] == [r for r in a["exercises"]
                                                                         if r["user_id"] is None]
    # No declaration, no defects (books' declaration is left out above).
    assert b["books"] == a["books"]


def test_sample_holds_a_row_of_every_table_and_the_messy_cases() -> None:
    doc = json.loads(SAMPLE.read_text(encoding="utf-8"))
    t = doc["tables"]
    db, _ = d1_database()
    assert tuple(t) == TABLES
    assert [name for name in _sqlite_tables(db) if not t[name]] == []  # the expected-empty ones by special rows
    users = {r["id"] for r in t["users"] if r.get("id")}
    both = next(r["id"] for r in t["users"] if r.get("email") == "ada.lovelace@example.com")

    def rows(table, **match):
        return [r for r in t[table] if all(r.get(k, "<absent>") == v for k, v in match.items())]

    # Older-shape rows with alias keys, and an alias beside its shape-C key.
    older = rows("focus_sessions", status="completed", duration="<absent>", completed_at="<absent>")
    assert older[0]["planned_duration"] and older[0]["ended_at"]
    assert any("duration" in r and "planned_duration" in r for r in t["focus_sessions"])
    assert rows("workout_sections", sort_order="<absent>")[0]["order_index"] == 1
    assert rows("books", status="want-to-read", completed_at="<absent>")[0]["finished_at"]
    # The four preferences of user_settings set (not the defaults).
    assert rows("user_settings", user_id=both, nudge_intensity="energetic", default_focus_duration=1500,
                gamification_visible="subtle", planner_mode="expanded")
    # Lists: a comma list, a JSON array, an array of numbers, invalid JSON.
    muscles = {r["muscle_groups"] for r in t["exercises"]}
    assert {"triceps, chest", '["chest","triceps"]', "[1,2]", '["a",'} <= muscles
    assert any("," in (m or "") and not m.startswith("[") for m in muscles)
    # REAL values: precision lost in float4, overflow, not a number.
    assert {0.1, "abc"} <= {r["weight"] for r in t["exercise_sets"]} and 1e39 in {r["value"] for r in
                                                                                 t["personal_records"]}
    # Duplicates with a stated winner.
    records = [(r["user_id"], r["exercise_id"], r["record_type"], r["value"]) for r in t["personal_records"]]
    assert len({k[:3] for k in records}) < len({k[:3] + (k[3],) for k in records})
    progress = [(r["user_id"], r["quest_id"]) for r in t["user_quest_progress"]]
    dup = next(k for k in progress if progress.count(k) > 1)
    assert len({r["updated_at"] for r in rows("user_quest_progress", user_id=dup[0], quest_id=dup[1])}) > 1
    # Calendar: an orphan chain (its root is missing), a valid chain, an unknown workout.
    events = {r["id"]: r for r in t["calendar_events"]}
    parents = {r["parent_event_id"] for r in events.values()} - {None}
    assert parents - set(events)  # a missing root
    assert any(events[p]["parent_event_id"] in events for p in parents & set(events))  # a chain of two links
    assert any(r["parent_event_id"] in parents - set(events) for r in events.values() if r["id"] in parents)
    assert {r["workout_id"] for r in events.values()} - {None} - {r["id"] for r in t["workouts"]}
    # universal_quests: a skill key, a skill id, an unknown skill, created by 'system', type 'special'.
    skills = {r["skill_id"] for r in t["universal_quests"]}
    assert {"focus", "skill_focus"} <= skills and skills - {None} - {r["key"] for r in t["skill_definitions"]} - \
        {r["id"] for r in t["skill_definitions"]}
    assert "system" in {r["created_by"] for r in t["universal_quests"]} and rows("universal_quests", type="special")
    # Rows the target refuses, rows it derives values for.
    assert rows("infobase_entries", user_id=None) and rows("feedback", user_id=None, status="new")
    long_idea = next(r for r in t["ideas"] if len(r["content"]) > 120 and "\r\n" in r["content"])
    assert "title" not in long_idea and len(re.split("[\r\n]", long_idea["content"])[0]) > 120
    assert any("key" not in r for r in t["market_items"]) and rows("user_purchases", redeemed_at=None) != \
        t["user_purchases"]
    assert "credentialID" in t["authenticators"][0] and "id" not in t["authenticators"][0]
    # Values the app writes that the target maps.
    assert rows("calendar_events", event_type="appointment") and rows("quests", status="in-progress")
    assert rows("books", status="dnf")
    assert {r["user_id"] for r in t["feedback"]} - {None} <= users


def test_time_based_ids_are_unique_without_memory() -> None:
    """``book_<ms>`` and the like: one user's Date.now() values strictly increase, even for rows made in
    the same millisecond, and two users never share one (they differ modulo the number of users)."""
    from d1pg.generate.values import stamps

    times = [1_767_000_000, 1_767_000_000, 1_767_000_000, 1_767_000_001]
    users = 7
    seen = set()
    for i in range(users):
        ms = stamps(times, i, users)
        assert ms == sorted(set(ms)) and all(v % users == i for v in ms)
        assert all(abs(v - t * 1000) < 10 * users for v, t in zip(ms, times, strict=True))
        seen |= set(ms)
    assert len(seen) == users * len(times)
