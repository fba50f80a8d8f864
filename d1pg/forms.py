"""Write one D1 database (a SQLite file) in the other two forms its data leaves D1 in.

- :func:`write_admin_json`: what the app's admin backup route returns for ``SELECT *`` of each
  table, written as ``JSON.stringify(backup, null, 2)`` does: D1 hands the route JavaScript
  values, so an integer beyond ±2^53 arrives rounded to the nearest double, a REAL is printed as
  JavaScript prints it, and a BLOB (an ArrayBuffer) becomes ``{}``.
- :func:`write_dump`: a SQL dump as ``wrangler d1 export`` writes it: ``PRAGMA
  defer_foreign_keys=TRUE;``, each table's ``CREATE TABLE`` and its rows as one ``INSERT INTO "t"
  ("a","b") VALUES(…);`` per line (strings holding newlines as ``replace('…\\n…','\\n',char(10))``),
  then the indexes, triggers and views. Numbers have passed through JavaScript as in the backup.

The benchmark and the tests use them to stage the same rows in the three forms; both stream.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from d1pg.inputs.sqlite_rows import js_number, quote_identifier

SAFE_INTEGER = 2**53 - 1


def _open(database: Path) -> sqlite3.Connection:
    return sqlite3.connect("file:" + urllib.parse.quote(str(Path(database).resolve())) + "?mode=ro", uri=True)


def _tables(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "select name from sqlite_schema where type = 'table' and name not like 'sqlite\\_%' escape '\\'"
        " and name not like '\\_cf\\_%' escape '\\' order by rowid")]


def _rows(conn: sqlite3.Connection, table: str) -> tuple[list[str], Iterator[tuple]]:
    columns = [r[1] for r in conn.execute(f"pragma table_info({quote_identifier(table)})")]
    return columns, conn.execute(f"select * from {quote_identifier(table)} order by rowid")  # noqa: S608 - quoted


def js_integer(value: int) -> str:
    """An integer as JavaScript holds and prints it: beyond ±2^53 it is the nearest double."""
    return str(value) if -SAFE_INTEGER <= value <= SAFE_INTEGER else js_number(float(value))


def _json_value(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, int):
        return js_integer(value)
    if isinstance(value, float):
        return js_number(value)
    if isinstance(value, bytes):
        return "{}"
    return json.dumps(value, ensure_ascii=False)


def write_admin_json(database: Path, out: Path, *, created_at: str, version: int = 14,
                     version_name: str = "0014_add_performance_indexes", created_by: str = "admin@example.com") -> Path:
    """The admin backup of every table of ``database``, as the app's route writes it."""
    conn = _open(database)
    try:
        with open(out, "w", encoding="utf-8") as f:
            f.write("{\n")
            for key, value in (("version", version), ("versionName", version_name), ("createdAt", created_at),
                               ("createdBy", created_by)):
                f.write(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},\n")
            f.write('  "tables": {')
            for t, table in enumerate(_tables(conn)):
                columns, rows = _rows(conn, table)
                keys = [json.dumps(c, ensure_ascii=False) for c in columns]
                f.write(("," if t else "") + f"\n    {json.dumps(table, ensure_ascii=False)}: [")
                first = True
                for row in rows:
                    pairs = ",\n".join(f"        {k}: {_json_value(v)}" for k, v in zip(keys, row, strict=True))
                    f.write(("," if not first else "") + "\n      {\n" + pairs + "\n      }")
                    first = False
                f.write("]" if first else "\n    ]")
            f.write("\n  }\n}")
    finally:
        conn.close()
    return out


def _sql_value(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return js_integer(value)
    if isinstance(value, float):
        text = js_number(value)
        return "NULL" if text == "null" else text
    if isinstance(value, bytes):
        return "X'" + value.hex().upper() + "'"
    return _sql_string(value)


def _sql_string(text: str) -> str:
    """A string literal as SQLite's .dump (and so a D1 export) writes it: a newline or carriage
    return is spelt with an escape the text does not hold, put back by ``replace(…, char(N))``."""
    literal = "'" + text.replace("'", "''") + "'"
    for char, code, escapes in (("\r", 13, ("\\r", "\\015", "\\r\\r")), ("\n", 10, ("\\n", "\\012", "\\n\\n"))):
        if char in text:
            escape = next(e for e in escapes if e not in text)
            literal = f"replace({literal.replace(char, escape)},'{escape}',char({code}))"
    return literal


def write_dump(database: Path, out: Path) -> Path:
    """``database`` as ``wrangler d1 export`` writes it."""
    conn = _open(database)
    try:
        with open(out, "w", encoding="utf-8") as f:
            f.write("PRAGMA defer_foreign_keys=TRUE;\n")
            for table in _tables(conn):
                (sql,) = conn.execute("select sql from sqlite_schema where type = 'table' and name = ?",
                                      [table]).fetchone()
                f.write(sql + ";\n")
                columns, rows = _rows(conn, table)
                head = f"INSERT INTO {quote_identifier(table)} ({','.join(map(quote_identifier, columns))}) VALUES("
                f.writelines(head + ",".join(map(_sql_value, row)) + ");\n" for row in rows)
            for (sql,) in conn.execute("select sql from sqlite_schema where type in ('index', 'trigger', 'view')"
                                       " and sql is not null order by rowid"):
                f.write(sql + ";\n")
    finally:
        conn.close()
    return out
