"""Leap days (contract §4): 29 February of a leap year is a valid date and timestamp, of any other
year a reject naming its column; for every date and timestamp kind of the registry, on a real server.

In tests/every_table.py's shared backup the first rows of every table carry a valid leap day
(LEAP_DAYS) in every date and timestamp column, each row in another accepted form; each of the last
rows carries an invalid 29 February in exactly one such column, so each reject has one column to name.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from d1pg import mapping
from tests.every_table import LEAP_DAYS, TIME_KINDS, invalid_leap_rows, row_id
from tests.test_time_zones import epoch, expected_columns


def kind_of(target: str, column: str) -> str:
    return mapping.table(target).column(column).kind


@pytest.mark.parametrize("kind", TIME_KINDS)
def test_a_valid_leap_day_migrates_unchanged(every_table, kind):
    url = every_table[0]
    sources = {s.target: s.name for s in mapping.sources() if s.target}
    columns = [c for c in expected_columns() if c[4] == "row" and kind_of(c[0], c[2]) == kind]
    assert columns, f"no column of kind {kind}"
    with psycopg.connect(url) as conn:
        for target, key, column, shape, _ in columns:
            read = sql.SQL("extract(epoch from {})" if shape == "instant" else "{}").format(sql.Identifier(column))
            ids = [row_id(sources.get(target, "users"), i) for i in range(len(LEAP_DAYS))]
            got = dict(conn.execute(sql.SQL("select {}::text, {} from {} where {}::text = any(%s)").format(
                sql.Identifier(key), read, sql.Identifier(target), sql.Identifier(key)), [ids]).fetchall())
            want = {i: epoch(moment) if shape == "instant" else moment.date()
                    for i, (_, moment) in zip(ids, LEAP_DAYS, strict=True)}
            assert got == want, f"{target}.{column}"


@pytest.mark.parametrize("kind", TIME_KINDS)
def test_an_invalid_leap_day_is_a_logged_reject_naming_its_column(every_table, kind):
    url, run_id, _ = every_table
    with psycopg.connect(url) as conn:
        logged = conn.execute("select source_table, source_ord, column_name, reason, raw_value"
                              " from migration.rejects where run_id = %s", [run_id]).fetchall()
    want = {(s.name, i, c.target, "invalid_date" if c.kind == "date" else "invalid_timestamp", raw)
            for s in mapping.sources() for i, c, raw in invalid_leap_rows(s) if c.kind == kind}
    assert want, f"no column of kind {kind}"
    assert {r for r in logged if kind_of_reject(r) == kind} == want
    assert all(kind_of_reject(r) in TIME_KINDS for r in logged)  # nothing else is rejected


def kind_of_reject(reject: tuple) -> str:
    return mapping.source(reject[0]).column(reject[2]).kind
