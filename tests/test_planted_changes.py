"""Value fidelity (contract §8.5) catches one changed target value of every value kind and of every
derived column, on a real server.

A copy of the migrated sample gets one planted change per chosen column: one column of each kind
of the registry (d1pg/kinds.py), in the table with the fewest plants so far, and every column the
declarations derive. Each change sets one row's value to another value of the same type (another
row's, else another column's), in its own row, with triggers and foreign keys off; a kind whose
columns hold no value in the sample (uuid: no source key fills one) has its NULL replaced. One full
validate follows. Each planted table's fidelity check must count exactly its plants and name each
planted column among its examples (a table holds at most validate.EXAMPLES plants), so each change
is caught on its own; no other table's fidelity check may fail.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from d1pg import mapping
from d1pg.config import Settings
from d1pg.errors import CheckFailed
from d1pg.kinds import KINDS
from d1pg.validate import EXAMPLES, validate
from tests.reliability import scratch_database

SOURCES = [s for s in mapping.sources() if s.target and not s.merge]
"""The tables value fidelity compares row by row (the progress merge has its own test)."""

DERIVED = [f"{s.name}.{c.target}" for s in SOURCES for c in s.columns if c.derive]
PLANTS = [f"kind {k}" for k in KINDS] + [f"derived {d}" for d in DERIVED]


@dataclass
class Plant:
    source: mapping.Source
    column: mapping.Column
    row: object = None  # the primary key of the changed row


def _count(conn, source: mapping.Source, column: mapping.Column) -> tuple[int, int, int]:
    """(rows, non-null values, distinct values) of a column."""
    return conn.execute(sql.SQL("select count(*), count({c}), count(distinct {c}) from {t}").format(
        c=sql.Identifier(column.target), t=sql.Identifier(source.target))).fetchone()


def choose(conn) -> dict[str, Plant]:
    """The column of each plant: every derived column, and for each kind a column with values (else
    in a table with rows) in the table with the fewest plants so far, then with the most distinct values."""
    plants = {f"derived {s.name}.{c.target}": Plant(s, c) for s in SOURCES for c in s.columns if c.derive}
    per_table = Counter(p.source.name for p in plants.values())
    for kind in KINDS:
        candidates = [(s, c) for s in SOURCES for c in s.columns if c.kind == kind]
        assert candidates, f"no declared column of kind {kind}"
        counts = {(s.name, c.target): _count(conn, s, c) for s, c in candidates}

        def rank(sc, counts=counts):
            rows, values, distinct = counts[sc[0].name, sc[1].target]
            return rows == 0, values == 0, per_table[sc[0].name], -distinct, sc[0].name, sc[1].target

        source, column = min(candidates, key=rank)
        plants[f"kind {kind}"] = Plant(source, column)
        per_table[source.name] += 1
    assert max(per_table.values()) <= EXAMPLES  # every mismatch of a table is among its check's examples
    return plants


def plant(conn, p: Plant, used: dict) -> None:
    """Set one value of ``p.column`` to another value of its type, in a row no other plant changed
    when the table has one (``used``: table -> rows changed; a changed id must have its row to
    itself, so ids are planted last)."""
    table, key = p.source.target, p.source.table.primary_key.target
    taken = used.setdefault(table, set())
    first_row = sql.SQL("select {k}, {k} = any(%s) from {t} order by 2, {c} is null, {k} limit 1").format(
        k=sql.Identifier(key), t=sql.Identifier(table), c=sql.Identifier(p.column.target))
    p.row, shared = conn.execute(first_row, [list(taken)]).fetchone()
    assert not (shared and p.column.target == key), f"{table}: too few rows for a changed id beside other plants"
    taken.add(p.row)
    others = [(table, p.column.target)] + [(s.target, c.target) for s in SOURCES for c in s.columns
                                           if c.ddl_type == p.column.ddl_type and c is not p.column]
    old = sql.SQL("(select {c} from {t} where {k} = %(row)s)").format(
        c=sql.Identifier(p.column.target), t=sql.Identifier(table), k=sql.Identifier(key))
    for other_table, other in others:
        for offset in range(5):
            update = sql.SQL(
                "update {t} set {c} = v.x from (select distinct {o} as x from {ot} where {o} is not null"
                " and {o} is distinct from {old} order by 1 limit 1 offset %(offset)s) as v where {k} = %(row)s"
            ).format(t=sql.Identifier(table), c=sql.Identifier(p.column.target), o=sql.Identifier(other),
                     ot=sql.Identifier(other_table), old=old, k=sql.Identifier(key))
            try:
                with conn.transaction():
                    if conn.execute(update, {"row": p.row, "offset": offset}).rowcount == 1:
                        return
                    break  # no further value in this column
            except (psycopg.errors.IntegrityError, psycopg.errors.DataException):
                continue  # a unique key or a check refuses this value: the next one
    raise AssertionError(f"no other value of type {p.column.ddl_type} for {table}.{p.column.target}")


@pytest.fixture(scope="module")
def planted(sample_template, tmp_path_factory):
    """(the plants, {source: (offending rows, planted columns named in its examples)}) after one
    full validate of a copy of the migrated sample with every change planted."""
    name, _, _ = sample_template
    with scratch_database(template=name) as url:
        with psycopg.connect(url) as conn:
            conn.execute("set session_replication_role = replica")  # no trigger, no foreign key check
            plants = choose(conn)
            used: dict = {}
            for p in sorted(plants.values(), key=lambda p: p.column is p.source.table.primary_key):
                plant(conn, p, used)
        settings = Settings(database_url=url, reports_dir=tmp_path_factory.mktemp("planted"))
        with pytest.raises(CheckFailed):
            validate(settings, full=True, quiet=True, progress=False)
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "select check_name, offending_rows, examples from migration.checks where category = 'value_fidelity'"
                " and run_id = (select run_id from migration.runs where step = 'validate' order by started_at desc"
                " limit 1)").fetchall()
    failed = {name.removeprefix("value fidelity ").removesuffix(" (every row)"): (offending, examples)
              for name, offending, examples in rows if offending}
    return plants, failed


@pytest.mark.parametrize("key", PLANTS)
def test_value_fidelity_names_a_changed_value_of_each_kind_and_each_derived_column(planted, key):
    plants, failed = planted
    p = plants[key]
    in_table = [q.column.target for q in plants.values() if q.source is p.source]
    offending, examples = failed.get(p.source.name, (0, []))
    assert offending == len(in_table), f"{key}: {p.source.name}.{p.column.target} planted, {failed}"
    assert {(e["table"], e["column"]) for e in examples} == {(p.source.name, c) for c in in_table}


def test_only_the_planted_tables_fail_value_fidelity(planted):
    plants, failed = planted
    assert set(failed) == {p.source.name for p in plants.values()}
    assert {k.split()[1] for k in plants if k.startswith("kind")} == set(KINDS)
