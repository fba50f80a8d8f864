"""The backup generator: format, determinism, validity of clean data, defects, sample, memory."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from d1pg.generate import SAMPLE_PARAMS, TABLES, generate_backup, sample_backup

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "sample-backup.json"

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
    assert all(set(r) == COLUMNS[name] for name, rows in t.items() for r in rows)
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
    per_user = (sum(counts.values()) - counts["skill_definitions"] - counts["achievement_definitions"]) / 400
    assert 50 <= per_user <= 62


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
    assert SAMPLE_PARAMS["users"] == 8 and 300 <= sum(counts.values()) <= 500


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
    # 10x the users, same peak: rows are streamed, never collected. (200 vs 2,000 users: tracemalloc
    # slows the generator about 5x, and 20,000 users would take about a minute under it.)
    peaks = []
    for users in (200, 2000):
        tracemalloc.start()
        try:
            generate_backup(tmp_path / "m.json", users=users, seed=2)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[1] <= 1.5 * peaks[0], peaks
    assert peaks[1] < 8 * 2**20, peaks
