"""``invoke profile``: the shapes of the staged values, per table and column, decided in SQL.

The evidence a DBA reads before trusting the casts: which timestamp forms a column holds,
UUIDs beside readable ids, 0/1 beside other integers, valid and invalid JSON text, nulls and
absent keys. ``sql/staging/30_profile_values.sql`` runs once per staged table, with the
transform's own grammar functions, in a transaction that is rolled back: profile changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from d1pg import console, mapping
from d1pg.config import Settings
from d1pg.db import connect, database_url, describe_error, locked_connection, run_script, server_version
from d1pg.errors import DatabaseError, InputError
from d1pg.render import render
from d1pg.review import shown

SHAPES = {
    "absent": "the row has no such key",
    "null": "JSON null",
    "boolean": "JSON true or false",
    "object": "a JSON object", "array": "a JSON array",
    "number_0_1": "the number 0 or 1",
    "number_epoch_s": "a number from 1e9 to below 1e11 (read as epoch seconds by a timestamp column)",
    "number_epoch_ms": "a number from 1e11 to below 1e14 (read as epoch milliseconds)",
    "number_integer": "any other integer", "number_decimal": "any other number",
    "text_0_1": 'the text "0" or "1"',
    "text_epoch_s": "numeric text in the epoch seconds range", "text_epoch_ms": "numeric text in the epoch ms range",
    "text_integer": "other integer text", "text_decimal": "other numeric text",
    "text_empty": "the empty string",
    "text_uuid": "a canonical UUID (8-4-4-4-12 hex, any case)",
    "text_date": "YYYY-MM-DD",
    "text_sqlite_timestamp": "YYYY-MM-DD HH:MM:SS[.f] (SQLite datetime, UTC)",
    "text_iso_z": "YYYY-MM-DDTHH:MM:SS[.f]Z",
    "text_iso_offset": "YYYY-MM-DDTHH:MM:SS[.f]+HH:MM",
    "text_iso_no_zone": "YYYY-MM-DDTHH:MM:SS[.f] (read as UTC)",
    "text_timestamp_rejected": "starts like a date but the grammar of §4 rejects it (not a real instant, a zone"
                               " on the SQLite form, 7 fraction digits...)",
    "text_json": "text starting with { or [ that is valid JSON",
    "text_json_invalid": "text starting with { or [ that is not valid JSON (or holds what jsonb cannot)",
    "text_other": "any other text (readable ids, names, ...)",
}
"""Every shape the profile reports, and what it means (the order of ``30_profile_values.sql``)."""


@dataclass
class Shape:
    column: str
    shape: str
    values: int
    first_ord: int | None
    example: str | None


@dataclass
class TableProfile:
    name: str
    staged_rows: int
    stored_rows: int
    unstorable_rows: int
    keys: list[str]
    shapes: list[Shape] = field(default_factory=list)

    def count(self, column: str, shape: str) -> int:
        return sum(s.values for s in self.shapes if s.column == column and s.shape == shape)

    def columns(self) -> dict[str, list[Shape]]:
        """Shapes grouped by key, keys in the backup's first-seen order, most frequent shape first."""
        out: dict[str, list[Shape]] = {k: [] for k in self.keys}
        for s in self.shapes:
            out.setdefault(s.column, []).append(s)
        return {k: sorted(v, key=lambda s: (-s.values, s.shape)) for k, v in out.items() if v}


def _mapped_as(table: str) -> dict[str, str]:
    """What the mapping does with each key of ``table``: its target kind, or why nothing."""
    for source in mapping.sources():
        if source.name == table:
            return {c.source: f"{c.kind} -> {c.target}" if c.source != c.target else c.kind
                    for c in source.columns if c.source}
    return {}


def _describe(table: str, key: str, kinds: dict[str, str]) -> str:
    if mapping.skip_of(table) is not None:
        return "skipped table"
    if not kinds:
        return "no mapping"
    return kinds.get(key, "unmapped key")


def profile(settings: Settings, *, tables: tuple[str, ...] = (), quiet: bool = False) -> list[TableProfile]:
    """Profile the staged tables (all, or ``tables``); return the shapes found. Changes nothing."""
    url = database_url(settings)
    with locked_connection(url) as conn:
        staged = _staged(conn)
        unknown = sorted(set(tables) - {t.name for t in staged})
        if unknown:
            raise InputError(f"not staged: {', '.join(unknown)}; staged tables are: "
                             + ", ".join(t.name for t in staged))
        chosen = [t for t in staged if not tables or t.name in tables]
        try:
            conn.execute("set local jit = off")
            num, _ = server_version(conn)
            run_script(conn, render("transform/00_functions.sql"))
            run_script(conn, render("transform/01_json_function.sql", server_version_num=num))
            for t in chosen:
                rows = conn.execute(render("staging/30_profile_values.sql", table=t.name)).fetchall()
                t.shapes = [Shape(*row) for row in rows]
        except psycopg.Error as exc:
            raise DatabaseError(f"profile failed: {describe_error(exc)}") from None
        finally:
            conn.rollback()
    if not quiet:
        _show(chosen)
    return chosen


def staged_tables(settings: Settings) -> list[str]:
    """The staged tables (those skipped at stage aside), in the backup's order."""
    with connect(database_url(settings)) as conn:
        return [t.name for t in _staged(conn)]


def _staged(conn: psycopg.Connection) -> list[TableProfile]:
    exists = conn.execute("select to_regclass('migration.staged_tables') is not null").fetchone()[0]
    rows = conn.execute(
        "select table_name, staged_rows, loaded_rows, unstorable_rows, columns from migration.staged_tables"
        " where skipped_reason is null order by position").fetchall() if exists else []
    conn.commit()
    if not rows:
        raise InputError("nothing is staged: run `invoke stage BACKUP` first")
    return [TableProfile(name, staged, loaded, unstorable, list(keys)) for name, staged, loaded, unstorable, keys
            in rows]


def _show(profiles: list[TableProfile]) -> None:
    seen: set[str] = set()
    for t in profiles:
        kinds = _mapped_as(t.name)
        rows = []
        for key, shapes in t.columns().items():
            for i, s in enumerate(shapes):
                rows.append([key if i == 0 else "", _describe(t.name, key, kinds) if i == 0 else "", s.shape,
                             s.values, s.first_ord, shown(key, s.example, 40)])
                seen.add(s.shape)
        title = f"{t.name}: {t.stored_rows:,} rows" + (f" (+{t.unstorable_rows:,} unstorable, not profiled)"
                                                       if t.unstorable_rows else "")
        if not rows:
            title += ", no keys"
        console.show(console.table(title, ["column", "mapped as", "shape", "values", "first ord", "example"], rows,
                                 right={3, 4}))
    if seen:
        console.show(console.table("Shapes", ["shape", "meaning"],
                                 [[s, SHAPES[s]] for s in SHAPES if s in seen], right=set()))
