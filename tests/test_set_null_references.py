"""A reference that is set to NULL when its parent is missing (contract §5, contract-additions 5.1:
nullable and not ON DELETE CASCADE) keeps its value when the parent is migrated.

Every such reference of the declarations, on a real server: one backup holds a row of every table
(tests/test_time_zones.backup_tables); row 0 of each table refers to row 0 of its parents, row 1 to a
parent that is not in the backup. Row 0 must keep the parent's id (or key) and log nothing; row 1
must hold NULL and be logged in migration.orphans as nulled, with the value it held.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from d1pg import mapping
from d1pg.config import Settings
from d1pg.migrate import migrate
from d1pg.transform import Options
from tests.conftest import own_database, write_backup
from tests.test_time_zones import backup_tables, row_id

CREATED = "2026-01-02 10:00:00"
VALID, MISSING = 0, 1  # the row whose parents are migrated, the row whose nullable parents are not

REFERENCES = [(s, c) for s in mapping.sources() for c in s.refs
              if c.on_missing == "null" and c.source and c.ref_table != s.target]
"""Every nullable reference with a source key (a self-reference has its own test, G3b)."""


def parent_value(source: mapping.Source, column: mapping.Column, i: int) -> str:
    """The value row ``i`` holds for a reference: its parent's key, or the id of its parent's row i."""
    return f"key_{i}" if column.is_key_ref else row_id(mapping.ref_sources()[column.ref_table], i)


def missing_value(column: mapping.Column) -> str:
    return "key_missing" if column.is_key_ref else row_id(mapping.ref_sources()[column.ref_table], 9999)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """(connection string, transform run id) of the backup migrated once for this module."""
    tables = backup_tables([CREATED, CREATED])
    for source, column in REFERENCES:
        tables[source.name][MISSING][column.source] = missing_value(column)
    folder = tmp_path_factory.mktemp("set-null")
    backup = write_backup(folder / "backup.json", tables)
    with own_database("d1pg_set_null") as url:
        run_id = migrate(Settings(database_url=url, reports_dir=folder / "reports"), backup, Options(),
                         progress=False)
        yield url, run_id


def test_every_nullable_reference_of_the_declarations_is_covered():
    names = {(s.name, c.target) for s, c in REFERENCES}
    assert ("points_ledger", "skill_key") in names and ("workout_sessions", "workout_id") in names
    assert any(c.is_key_ref for _, c in REFERENCES) and any(not c.foreign_key for _, c in REFERENCES)
    sourceless = {(s.name, c.target) for s in mapping.sources() for c in s.refs if c.on_missing == "null"
                  and not c.source}
    assert sourceless <= {("quests", "source_quest_id")}  # no source key: always NULL, nothing to keep


@pytest.mark.parametrize("source, column", REFERENCES, ids=[f"{s.name}.{c.target}" for s, c in REFERENCES])
def test_a_reference_to_a_migrated_parent_survives_and_a_missing_one_is_nulled_and_logged(migrated, source,
                                                                                         column):
    url, run_id = migrated
    with psycopg.connect(url) as conn:
        held = dict(conn.execute(sql.SQL("select id::text, {}::text from {} where id::text = any(%s)").format(
            sql.Identifier(column.target), sql.Identifier(source.target)),
            [[row_id(source.name, VALID), row_id(source.name, MISSING)]]).fetchall())
        logged = conn.execute(
            "select source_ord, action, missing_value from migration.orphans where run_id = %s"
            " and source_table = %s and fk_column = %s order by source_ord",
            [run_id, source.name, column.target]).fetchall()
    assert held == {row_id(source.name, VALID): parent_value(source, column, VALID),
                    row_id(source.name, MISSING): None}
    assert logged == [(MISSING, "nulled", missing_value(column))]
