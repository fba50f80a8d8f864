"""Backups built from the declarations: one row per value of every declared table.

``backup_tables(times)`` gives row i of every table ``times[i]`` in each date and timestamp column,
row i of its parents in each reference and a valid value in every other column.

``rules_backup`` is the one backup the tests of single rules share (the ``every_table`` fixture in
tests/conftest.py migrates it once, in a UTC session). Its rows, in every table:

- the leap days of LEAP_DAYS (rows 0..5, each in another accepted form);
- the instants of ``around_midnights`` (where a UTC date and a +14 or -12 date differ);
- in row MISSING_PARENT, every nullable reference (NULL_REFERENCES) points at a parent that is
  not in the backup;
- then, per date and timestamp column, one row for each invalid 29 February of LEAP_INVALID in
  that column only (``invalid_leap_rows``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from d1pg import mapping
from d1pg.kinds import KINDS
from tests.conftest import write_backup

TIME_KINDS = tuple(k.name for k in KINDS.values() if k.sql_type in ("date", "timestamp with time zone"))
"""The value kinds of a date or timestamp column (timestamp, date, verified), from the registry."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def row_id(source: str, i: int) -> str:
    return f"{[s.name for s in mapping.sources()].index(source) + 1:08x}-0000-4000-8000-{i:012x}"


def backup_tables(times: list) -> dict[str, list[dict]]:
    """Row i of every table: ``times[i]`` in each date and timestamp column, parents row i of
    theirs, a valid value in every other column."""
    by_target = {s.target: s.name for s in mapping.sources() if s.target}
    tables: dict[str, list[dict]] = {}
    for s in mapping.sources():
        rows = []
        for i, raw in enumerate(times):
            row = {}
            for c in (c for c in s.columns if c.source):
                if c.kind == "id":
                    row[c.source] = row_id(s.name, i)
                elif c.kind == "ref" and c.ref_table == s.target:
                    row[c.source] = None  # a root of the table's own tree
                elif c.kind == "ref":
                    row[c.source] = f"key_{i}" if c.is_key_ref else row_id(by_target[c.ref_table], i)
                elif c.kind in TIME_KINDS:
                    row[c.source] = raw
                elif c.kind == "text":
                    row[c.source] = c.allowed[0] if c.allowed else f"{c.target}_{i}"
                elif c.kind == "integer" and (c.between or c.at_least is not None):
                    row[c.source] = c.between[0] if c.between else c.at_least
                else:
                    row[c.source] = {"boolean": 1, "integer": 0, "bigint": 0, "json": "{}", "text_list": '["a"]',
                                     "real": 1, "double": 1, "uuid": row_id(s.name, i),
                                     "name_uuid": f"event_{i}"}[c.kind]
            rows.append(row)
        tables[s.name] = rows
    return tables


LEAP_DAYS = [  # (source value, the instant the target holds)
    ("2024-02-29", datetime(2024, 2, 29, tzinfo=UTC)),
    ("2024-02-29 23:59:59", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
    ("2024-02-29T00:00:00.000001Z", datetime(2024, 2, 29, 0, 0, 0, 1, tzinfo=UTC)),
    ("2024-02-29T09:30:00-05:00", datetime(2024, 2, 29, 14, 30, tzinfo=UTC)),
    (1709208000000, datetime(2024, 2, 29, 12, tzinfo=UTC)),  # epoch milliseconds
    ("2000-02-29T12:00:00Z", datetime(2000, 2, 29, 12, tzinfo=UTC)),  # divisible by 400: a leap year
]
LEAP_INVALID = ["2026-02-29", "2026-02-29 12:00:00", "2026-02-29T12:00:00Z", "2100-02-29"]  # 2100: by 100, not 400


def around_midnights() -> list:
    """Instants where a UTC date and a +14 or -12 date differ, or just do not, each in several forms
    of §4 (SQLite UTC, Z, the +14 and the -12 offset, epoch milliseconds), and each day as a date."""
    out: list = []
    for day in ("2024-02-29", "2025-12-31", "2026-01-01"):
        out.append(day)
        for clock in ("00:00:00", "09:59:59", "10:00:00", "11:59:59.999999", "12:00:00", "23:59:59"):
            moment = datetime.fromisoformat(f"{day}T{clock}+00:00")
            out += [f"{day} {clock}", f"{day}T{clock}Z", moment.astimezone(timezone(timedelta(hours=14))).isoformat(),
                    moment.astimezone(timezone(timedelta(hours=-12))).isoformat(),
                    (moment - EPOCH) // timedelta(milliseconds=1)]
    return out


VALID_TIMES = [raw for raw, _ in LEAP_DAYS] + around_midnights()
"""The date and timestamp values of the rows that migrate (row i holds value i)."""
MISSING_PARENT = len(LEAP_DAYS)
"""The row whose nullable references point at parents the backup does not hold."""

NULL_REFERENCES = [(s, c) for s in mapping.sources() for c in s.refs
                   if c.on_missing == "null" and c.source and c.ref_table != s.target]
"""Every reference set to NULL when its parent is missing (contract §5, contract-additions 5.1: nullable,
not ON DELETE CASCADE) that has a source key; a self-reference has its own test (G3b)."""


def missing_parent(column: mapping.Column) -> str:
    """The value a reference holds in row MISSING_PARENT: a key, or an id, no parent has."""
    return "key_missing" if column.is_key_ref else row_id(mapping.ref_sources()[column.ref_table], 99999)


def time_columns(source: mapping.Source) -> list[mapping.Column]:
    """The date and timestamp columns of a source that read a source key."""
    return [c for c in source.columns if c.kind in TIME_KINDS and c.source]


def invalid_leap_rows(source: mapping.Source) -> list[tuple[int, mapping.Column, str]]:
    """(row, column, invalid value): each invalid 29 February in each date and timestamp column,
    one per row after the valid rows."""
    return [(len(VALID_TIMES) + j * len(LEAP_INVALID) + m, column, raw)
            for j, column in enumerate(time_columns(source)) for m, raw in enumerate(LEAP_INVALID)]


def rules_backup(path: Path) -> Path:
    """Write the shared backup (see the module's docstring) to ``path``."""
    rows = len(VALID_TIMES) + max(len(time_columns(s)) for s in mapping.sources()) * len(LEAP_INVALID)
    tables = backup_tables(VALID_TIMES + [VALID_TIMES[0]] * (rows - len(VALID_TIMES)))
    for source, column in NULL_REFERENCES:
        tables[source.name][MISSING_PARENT][column.source] = missing_parent(column)
    for source in mapping.sources():
        for i, column, raw in invalid_leap_rows(source):
            tables[source.name][i][column.source] = raw
        del tables[source.name][len(VALID_TIMES) + len(invalid_leap_rows(source)):]
    return write_backup(path, tables)
