"""Leap days (contract §4): 29 February of a leap year is a valid date and timestamp, of any other
year a reject naming its column; for every date and timestamp kind of the registry, on a real server.

One backup holds a row of every table (tests/test_time_zones.backup_tables). Its first rows carry a
valid leap day in every date and timestamp column, each row in another accepted form; each later
row carries an invalid 29 February in exactly one such column (a valid leap day in the others), so
each reject has one column to name.
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql

from d1pg import mapping
from d1pg.config import Settings
from d1pg.migrate import migrate
from d1pg.transform import Options
from tests.conftest import own_database, write_backup
from tests.test_time_zones import TIME_KINDS, backup_tables, epoch, expected_columns, row_id

VALID = [  # (source value, the instant the target holds)
    ("2024-02-29", datetime(2024, 2, 29, tzinfo=UTC)),
    ("2024-02-29 23:59:59", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
    ("2024-02-29T00:00:00.000001Z", datetime(2024, 2, 29, 0, 0, 0, 1, tzinfo=UTC)),
    ("2024-02-29T09:30:00-05:00", datetime(2024, 2, 29, 14, 30, tzinfo=UTC)),
    (1709208000000, datetime(2024, 2, 29, 12, tzinfo=UTC)),  # epoch milliseconds
    ("2000-02-29T12:00:00Z", datetime(2000, 2, 29, 12, tzinfo=UTC)),  # divisible by 400: a leap year
]
INVALID = ["2026-02-29", "2026-02-29 12:00:00", "2026-02-29T12:00:00Z", "2100-02-29"]  # 2100: by 100, not 400


def time_columns(source: mapping.Source) -> list[mapping.Column]:
    """The date and timestamp columns of a source that read a source key."""
    return [c for c in source.columns if c.kind in TIME_KINDS and c.source]


def invalid_rows(source: mapping.Source) -> list[tuple[int, mapping.Column, str]]:
    """(row, column, invalid value): each invalid value in each column, one per row after the valid rows."""
    return [(len(VALID) + j * len(INVALID) + m, column, raw)
            for j, column in enumerate(time_columns(source)) for m, raw in enumerate(INVALID)]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """The connection string of the backup migrated once for this module."""
    rows = len(VALID) + max(len(time_columns(s)) for s in mapping.sources()) * len(INVALID)
    tables = backup_tables([raw for raw, _ in VALID] + [VALID[0][0]] * (rows - len(VALID)))
    for source in mapping.sources():
        for i, column, raw in invalid_rows(source):
            tables[source.name][i][column.source] = raw
        del tables[source.name][len(VALID) + len(invalid_rows(source)):]
    folder = tmp_path_factory.mktemp("leap-days")
    backup = write_backup(folder / "backup.json", tables)
    with own_database("d1pg_leap_days") as url:
        migrate(Settings(database_url=url, reports_dir=folder / "reports"), backup, Options(), progress=False)
        yield url


def kind_of(target: str, column: str) -> str:
    return mapping.table(target).column(column).kind


@pytest.mark.parametrize("kind", TIME_KINDS)
def test_a_valid_leap_day_migrates_unchanged(migrated, kind):
    sources = {s.target: s.name for s in mapping.sources() if s.target}
    columns = [c for c in expected_columns() if c[4] == "row" and kind_of(c[0], c[2]) == kind]
    assert columns, f"no column of kind {kind}"
    with psycopg.connect(migrated) as conn:
        for target, key, column, shape, _ in columns:
            read = sql.SQL("extract(epoch from {})" if shape == "instant" else "{}").format(sql.Identifier(column))
            got = dict(conn.execute(sql.SQL("select {}::text, {} from {} where {}::text = any(%s)").format(
                sql.Identifier(key), read, sql.Identifier(target), sql.Identifier(key)),
                [[row_id(sources.get(target, "users"), i) for i in range(len(VALID))]]).fetchall())
            want = {row_id(sources.get(target, "users"), i): epoch(moment) if shape == "instant" else moment.date()
                    for i, (_, moment) in enumerate(VALID)}
            assert got == want, f"{target}.{column}"


@pytest.mark.parametrize("kind", TIME_KINDS)
def test_an_invalid_leap_day_is_a_logged_reject_naming_its_column(migrated, kind):
    with psycopg.connect(migrated) as conn:
        logged = conn.execute("select source_table, source_ord, column_name, reason, raw_value"
                              " from migration.rejects").fetchall()
    want = {(s.name, i, c.target, "invalid_date" if c.kind == "date" else "invalid_timestamp", raw)
            for s in mapping.sources() for i, c, raw in invalid_rows(s) if c.kind == kind}
    assert want, f"no column of kind {kind}"
    assert {r for r in logged if kind_of_reject(r) == kind} == want
    assert all(kind_of_reject(r) in TIME_KINDS for r in logged)  # nothing else is rejected


def kind_of_reject(reject: tuple) -> str:
    return mapping.source(reject[0]).column(reject[2]).kind
