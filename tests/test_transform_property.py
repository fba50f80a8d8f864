"""Property: for random small backups with bad values, duplicates and missing parents, every source row
lands in exactly one bucket (contract §6), no target row references a missing parent (§5, §8.3), and
every row's fate, nulled reference and value is the one validate's own model (d1pg.fates) decides
from the staged rows alone: validate passes on every example."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from d1pg.schema import create_schema
from d1pg.stage import stage
from d1pg.transform import Options, transform
from d1pg.validate import validate
from tests.conftest import write_backup
from tests.test_transform import ALL_SOURCES

IDS = [str(uuid.UUID(int=i)) for i in range(1, 6)] + ["legacy_1", "legacy_2", "", None]
TIMES = ["2026-01-03 12:00:00", "2026-01-03T12:00:00.5Z", 1767443696789, "2026-02-30", "now", None]
BOOLS = [0, 1, "1", True, 2, "yes", None]

users = st.lists(st.fixed_dictionaries({
    "id": st.sampled_from(IDS), "name": st.sampled_from(["A", None, 5]),
    "email": st.sampled_from(["a@x", "b@x", "A@x"]),
    "emailVerified": st.sampled_from([0, 1, None, "2026-01-01"]), "role": st.sampled_from(["user", "admin", "root"]),
    "approved": st.sampled_from(BOOLS), "created_at": st.sampled_from(TIMES), "updated_at": st.sampled_from(TIMES)}),
    max_size=6)
habits = st.lists(st.fixed_dictionaries({
    "id": st.sampled_from(IDS), "user_id": st.sampled_from(IDS), "name": st.sampled_from(["Run", None]),
    "frequency": st.sampled_from(["daily", "hourly", None]), "is_active": st.sampled_from(BOOLS),
    "created_at": st.sampled_from(TIMES), "updated_at": st.sampled_from(TIMES)}), max_size=6)
logs = st.lists(st.fixed_dictionaries({
    "id": st.sampled_from(IDS), "habit_id": st.sampled_from(IDS), "user_id": st.sampled_from(IDS),
    "completed_at": st.sampled_from(TIMES)}), max_size=8)
wallets = st.lists(st.fixed_dictionaries({
    "id": st.sampled_from(IDS), "user_id": st.sampled_from(IDS), "coins": st.sampled_from([1, "2", "x", None]),
    "xp": st.sampled_from([10, 20, None]), "updated_at": st.sampled_from(TIMES)}), max_size=4)
requests = st.lists(st.fixed_dictionaries({  # reviewed_by: a SET NULL reference, nulled when its user is not migrated
    "id": st.sampled_from(IDS), "email": st.sampled_from(["a@x", None]), "status": st.sampled_from(["pending", None]),
    "reviewed_by": st.sampled_from(IDS), "created_at": st.sampled_from(TIMES)}), max_size=4)
progress = st.lists(st.fixed_dictionaries({
    "id": st.sampled_from(IDS), "user_id": st.sampled_from(IDS), "total_xp": st.sampled_from([10, 30, None]),
    "coins": st.sampled_from([1, 5, None]), "created_at": st.sampled_from(TIMES)}), max_size=4)


SEEN: set[str] = set()
"""What the examples reached; the test after the property checks that it covers every kind of fate."""


USER = {"id": IDS[0], "name": "A", "email": "a@x", "emailVerified": 0, "role": "user", "approved": 1,
        "created_at": TIMES[0], "updated_at": TIMES[0]}


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
# a user with both a wallet and a progress row (merged), and a second user with the same e-mail (duplicate_key)
@example(users=[USER, {**USER, "id": IDS[3]}], habits=[], logs=[], requests=[],
         wallets=[{"id": IDS[1], "user_id": IDS[0], "coins": 1, "xp": 10, "updated_at": TIMES[0]}],
         progress=[{"id": IDS[2], "user_id": IDS[0], "total_xp": 30, "coins": 5, "created_at": TIMES[0]}])
@given(users=users, habits=habits, logs=logs, wallets=wallets, progress=progress, requests=requests)
def test_every_row_lands_in_exactly_one_bucket_and_no_reference_dangles(
        tmp_path_factory, pg_settings, query, users, habits, logs, wallets, progress, requests):
    tables = {name: [] for name in ALL_SOURCES} | {"users": users, "habits": habits, "habit_logs": logs,
                                                   "user_wallet": wallets, "user_progress": progress,
                                                   "access_requests": requests}
    path = write_backup(tmp_path_factory.mktemp("p") / "b.json", tables)
    create_schema(pg_settings, quiet=True)
    stage(pg_settings, path, quiet=True)
    rid = transform(pg_settings, Options(replace=True), quiet=True)
    got = {r[0]: r[1:] for r in query("select source_table, staged, migrated, merged, skipped, orphaned, rejected"
                                      " from migration.table_outcomes where run_id = %s", [rid])}
    for name, rows in tables.items():
        staged, migrated, merged, skipped, orphaned, rejected = got[name]
        assert staged == len(rows) == migrated + merged + skipped + orphaned + rejected, name
        buckets = query("select count(*) from migration.rejects where run_id = %s and source_table = %s",
                        [rid, name])[0][0] + query(
            "select count(*) from migration.orphans where run_id = %s and source_table = %s and action = 'skipped'",
            [rid, name])[0][0]
        assert buckets == orphaned + rejected, name
    for name in ("users", "habits", "habit_logs"):
        assert query(f"select count(*) from {name}")[0][0] == got[name][1], name  # noqa: S608
    assert query("select count(*) from user_progress") == query("select count(*) from user_wallet")
    assert query("select count(*) from habit_logs l where not exists (select 1 from habits h where h.id = l.habit_id)"
                 " or not exists (select 1 from users u where u.id = l.user_id)") == [(0,)]
    validate(pg_settings, quiet=True, progress=False)  # every row's fate held against the model: raises if one differs
    SEEN.update(r[0] for r in query("select reason from migration.rejects where run_id = %s", [rid]))
    SEEN.update("orphans " + r[0] for r in query("select action from migration.orphans where run_id = %s"
                                                 " and source_table in ('habit_logs', 'access_requests')", [rid]))
    SEEN.update("cascade" for _ in query("select 1 from migration.orphans as o where o.run_id = %s and"
                                         " o.source_table = 'habit_logs' and o.fk_column = 'habit_id' and exists ("
                                         " select 1 from staging.habits as h where h.doc ->> 'id' = o.missing_value)"
                                         " limit 1", [rid]))
    SEEN.update("merged" for _ in query("select 1 from migration.table_outcomes where run_id = %s and merged > 0",
                                        [rid]))


def test_the_examples_reached_duplicates_cascades_nulled_references_and_merges():
    """Runs after the property (file order): its examples must have reached each kind of fate the
    model decides, or the property proved less than it says."""
    if not SEEN:
        pytest.skip("the property test did not run in this session")
    wanted = {"duplicate_id", "duplicate_key", "missing_id", "invalid_timestamp", "check_violation",
              "orphans skipped", "orphans nulled", "cascade", "merged"}
    assert wanted <= SEEN, sorted(wanted - SEEN)
