"""A reference that is set to NULL when its parent is missing (contract §5, contract-additions 5.1:
nullable and not ON DELETE CASCADE) keeps its value when the parent is migrated.

Every such reference of the declarations, on a real server, in tests/every_table.py's shared backup:
row 0 of each table refers to row 0 of its parents and must keep the parent's id (or key) and log
nothing; row MISSING_PARENT refers to a parent the backup does not hold and must hold NULL, logged
in migration.orphans as nulled with the value it held. No other row of these tables is nulled.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from d1pg import mapping
from tests.every_table import MISSING_PARENT, NULL_REFERENCES, missing_parent, row_id

VALID = 0


def test_every_nullable_reference_of_the_declarations_is_covered():
    names = {(s.name, c.target) for s, c in NULL_REFERENCES}
    assert ("points_ledger", "skill_key") in names and ("workout_sessions", "workout_id") in names
    assert any(c.is_key_ref for _, c in NULL_REFERENCES) and any(not c.foreign_key for _, c in NULL_REFERENCES)
    sourceless = {(s.name, c.target) for s in mapping.sources() for c in s.refs if c.on_missing == "null"
                  and not c.source}
    assert sourceless <= {("quests", "source_quest_id")}  # no source key: always NULL, nothing to keep


@pytest.mark.parametrize("source, column", NULL_REFERENCES, ids=[f"{s.name}.{c.target}" for s, c in NULL_REFERENCES])
def test_a_reference_to_a_migrated_parent_survives_and_a_missing_one_is_nulled_and_logged(every_table, source,
                                                                                         column):
    url, run_id, _ = every_table
    parent = f"key_{VALID}" if column.is_key_ref else row_id(mapping.ref_sources()[column.ref_table], VALID)
    with psycopg.connect(url) as conn:
        held = dict(conn.execute(sql.SQL("select id::text, {}::text from {} where id::text = any(%s)").format(
            sql.Identifier(column.target), sql.Identifier(source.target)),
            [[row_id(source.name, VALID), row_id(source.name, MISSING_PARENT)]]).fetchall())
        logged = conn.execute(
            "select source_ord, action, missing_value from migration.orphans where run_id = %s"
            " and source_table = %s and fk_column = %s order by source_ord",
            [run_id, source.name, column.target]).fetchall()
    assert held == {row_id(source.name, VALID): parent, row_id(source.name, MISSING_PARENT): None}
    assert logged == [(MISSING_PARENT, "nulled", missing_parent(column))]
