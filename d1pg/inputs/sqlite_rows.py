"""Rows of a SQLite database as the admin backup would give them (contract additions §1).

Shared by the SQLite file and the SQL dump (which is first executed into a temporary SQLite
file). Each row becomes one JSON object: the column names in table order as keys, INTEGER and
REAL as numbers, TEXT as strings, NULL as null, in rowid order (the order of the backup route's
``SELECT *``). SQLite itself writes each object (``json_object``), a REAL through
:func:`js_number` so its text is the one JavaScript's ``JSON.stringify`` prints for that double;
an INTEGER keeps its exact text (beyond ±2^53 too: from a SQLite file the exact value migrates).

A row holding a BLOB (which the JSON backup writes as ``{}``), text that is not UTF-8, or a NUL
character is handed out as :class:`~d1pg.backup.Unstorable` naming the column; every other row
goes out in runs, already framed for binary COPY (:class:`~d1pg.runs.RowRun`).

While rows are read, an authorizer lets the connection only read: SELECT, the tables' columns,
the functions below and the catalog pragmas.
"""

from __future__ import annotations

import math
import re
import sqlite3
import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from itertools import count, repeat
from operator import add, itemgetter
from pathlib import Path

from d1pg.backup import UNSTORABLE_TEXT, Unstorable
from d1pg.errors import InputError
from d1pg.runs import JSONB_VERSION, RowRun, copy_row

BATCH_ROWS = 2000
"""Rows fetched and framed at once: bounds memory, and keeps each step short for the COPY writer thread."""

NUMBER_FUNCTION = "d1pg_number"

PURE_FUNCTIONS = frozenset("""
    abs char coalesce glob hex ifnull iif instr length like likelihood likely lower ltrim max min nullif
    octet_length printf format quote replace round rtrim sign substr substring trim typeof unicode unlikely
    upper date time datetime julianday unixepoch strftime
    json json_array json_array_length json_extract json_insert json_object json_patch json_quote json_remove
    json_replace json_set json_type json_valid
""".split())
"""Functions without side effects that D1 schemas and exports use (defaults, checks, the dump's
``replace(…, char(10))``). Anything else (``load_extension``, ``fts3_tokenizer``, …) is refused."""

# Per row: two fields; ord (8-byte bigint); the length of doc, then jsonb's version byte.
_ROW_HEAD = struct.Struct(">hiqic")


def js_number(value: float) -> str:
    """The text JavaScript's ``JSON.stringify`` writes for this double (``null`` for NaN, ±Infinity).

    Both pick the shortest digits that read back as the same double (Python's ``repr``); JavaScript
    writes them without an exponent from 1e-7 up to 1e21, and ``3.0`` as ``3``."""
    if not math.isfinite(value):
        return "null"
    if value == 0:
        return "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    k = len(text)
    n = k + exponent  # value = 0.<text> * 10^n
    if k <= n <= 21:
        out = text + "0" * (n - k)
    elif 0 < n <= 21:
        out = text[:n] + "." + text[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * -n + text
    else:
        e = n - 1
        out = (text[0] + ("." + text[1:] if k > 1 else "")) + ("e+" if e >= 0 else "e-") + str(abs(e))
    return ("-" if sign else "") + out


def instant(path: Path, backup_time: str | None) -> tuple[str, str]:
    """The backup's instant as ``YYYY-MM-DDTHH:MM:SS.sssZ`` (the form of the admin backup's
    ``createdAt``) and where it came from: ``--backup-time``, else the file's modification time."""
    if backup_time is None:
        moment = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        source = "file modification time"
    else:
        try:
            moment = datetime.fromisoformat(backup_time.strip())
        except ValueError:
            raise InputError(f"--backup-time {backup_time!r}: not an ISO 8601 date and time"
                             " (e.g. 2026-01-06T21:14:03Z)") from None
        if moment.tzinfo is None:
            raise InputError(f"--backup-time {backup_time!r}: give its offset from UTC (e.g. Z or +02:00)")
        source = "--backup-time"
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z", source


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_only_authorizer(action, arg1, arg2, db_name, source):
    """Let a connection only read tables and the catalog."""
    if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ):
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master" and source is None:
        return sqlite3.SQLITE_OK  # asked while a pragma's table is declared; the file is read-only anyway
    if action == sqlite3.SQLITE_FUNCTION and (arg2 in PURE_FUNCTIONS or arg2 in (NUMBER_FUNCTION, "count")):
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and arg1 in ("table_list", "table_xinfo"):  # read-only pragmas
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def prepare_for_reading(conn: sqlite3.Connection) -> None:
    conn.set_authorizer(None)
    conn.text_factory = bytes
    conn.create_function(NUMBER_FUNCTION, 1, js_number, deterministic=True)
    conn.execute("pragma trusted_schema = off")
    conn.execute("select count(*) from sqlite_schema").fetchone()  # reads the schema (SQLite's own statements)
    conn.set_authorizer(read_only_authorizer)


class SqliteTables:
    """The tables of an open SQLite connection, as an input's ``tables()`` hands them out."""

    def __init__(self, conn: sqlite3.Connection, describe, long_number_tables: set[str]):
        self.conn = conn
        self.describe = describe  # str -> str: the one-line error for a SQLite error
        self.long_number_tables = long_number_tables
        self.tables_done = 0
        self.table_count = 0

    def names(self) -> list[tuple[str, bool]]:
        """Ordinary tables in creation order, with whether each has a rowid. SQLite's own tables other
        than ``sqlite_sequence``, virtual tables and their shadow tables are not data; D1's bookkeeping
        (``sqlite_sequence``, ``_cf_*``) is listed, and stage counts its rows as skipped."""
        rows = self.conn.execute(
            "select s.name, l.wr from sqlite_schema as s join pragma_table_list as l"
            " on l.name = s.name and l.schema = 'main' and l.type = 'table'"
            " where s.type = 'table' and (s.name not like 'sqlite\\_%' escape '\\' or s.name = 'sqlite_sequence')"
            " order by s.rowid").fetchall()
        return [(_text(name), not wr) for name, wr in rows]

    def columns(self, table: str) -> list[tuple[str, bool]]:
        """The table's columns in order, each with whether its affinity is TEXT (then it holds no number)."""
        rows = self.conn.execute("select name, type from pragma_table_xinfo(?) where hidden in (0, 2, 3)"
                                 " order by cid", [table]).fetchall()
        return [(_text(name), _text_affinity(_text(declared or b""))) for name, declared in rows]

    def tables(self) -> Iterator[tuple[str, Iterator[RowRun | Unstorable]]]:
        try:
            names = self.names()
        except sqlite3.Error as exc:
            raise InputError(self.describe(exc)) from None
        self.table_count = len(names)
        for name, has_rowid in names:
            try:
                columns = self.columns(name)
            except sqlite3.Error as exc:
                raise InputError(self.describe(exc)) from None
            rows = self._rows(name, columns, has_rowid)
            yield name, rows
            for _ in rows:  # the caller may stop early (a skipped table): drain it
                pass
            self.tables_done += 1

    def table(self, name: str) -> tuple[str, Iterator[RowRun | Unstorable]]:
        """One table by name: ``(name, rows)``."""
        try:
            found = self.conn.execute("select wr from pragma_table_list where schema = 'main' and name = ?",
                                      [name]).fetchone()
            columns = self.columns(name)
        except sqlite3.Error as exc:
            raise InputError(self.describe(exc)) from None
        return name, self._rows(name, columns, not (found and found[0]))

    def _rows(self, table: str, columns: list[tuple[str, bool]], has_rowid: bool
              ) -> Iterator[RowRun | Unstorable]:
        """The fast query first; from the first batch holding a BLOB (or a number where the declared
        type says text, which only a hand-edited schema allows) on, the careful one."""
        keys = tuple(name for name, _ in columns)
        ordinal = 0
        careful = False
        try:
            cursor = None
            while True:
                try:  # SQLite runs the query up to its first row in execute(), the rest in fetchmany()
                    cursor = cursor or self.conn.execute(fast_query(table, columns, has_rowid))
                    batch = cursor.fetchmany(BATCH_ROWS)
                except sqlite3.OperationalError as exc:
                    if "BLOB" not in str(exc):
                        raise
                    batch, careful = None, True
                if batch and max(map(itemgetter(1), batch)) & 1:
                    careful = True
                if careful:
                    break
                if not batch:
                    return
                if table not in self.long_number_tables and max(map(itemgetter(1), batch)) & 2:
                    self.long_number_tables.add(table)
                yield from self._batch(batch, ordinal, keys)
                ordinal += len(batch)
            cursor = self.conn.execute(careful_query(table, keys, has_rowid) + f" limit -1 offset {int(ordinal)}")
            while batch := cursor.fetchmany(BATCH_ROWS):
                if table not in self.long_number_tables and max(map(itemgetter(1), batch)) & 2:
                    self.long_number_tables.add(table)
                yield from self._batch(batch, ordinal, keys)
                ordinal += len(batch)
        except (sqlite3.Error, UnicodeEncodeError) as exc:
            raise InputError(self.describe(exc, table=table, row=ordinal)) from None

    @staticmethod
    def _batch(batch: list[tuple], ordinal: int, keys: tuple[str, ...]) -> Iterator[RowRun | Unstorable]:
        docs = [row[0] for row in batch]
        text = b"".join(docs)
        blobs = len(batch[0]) > 2 and any(map(itemgetter(2), batch))
        if not blobs and b"\\u0000" not in text and (text.isascii() or _utf8(text)):
            data = [b""] * (2 * len(docs))
            data[0::2] = map(_ROW_HEAD.pack, repeat(2), repeat(8), count(ordinal),
                             map(add, map(len, docs), repeat(1)), repeat(JSONB_VERSION))
            data[1::2] = docs
            yield RowRun(b"".join(data), len(docs), keys)
            return
        for at, row in enumerate(batch, ordinal):
            problem = _problem(row[0], row[2] if len(row) > 2 else b"")
            if problem is None:
                yield RowRun(copy_row(at, row[0]), 1, keys)
            else:
                yield Unstorable(problem, row[0].decode("utf-8", errors="backslashreplace"), UNSTORABLE_TEXT)


OBJECT_PAIRS = 60
"""Columns per ``json_object`` call: SQLite allows a function 127 arguments, two per column."""
SAFE = 2**53
"""Beyond ±2^53 a number is counted (contract §2): 13_long_integers.sql runs for the table."""


def _text_affinity(declared: str) -> bool:
    """SQLite's affinity rules: INT first, then CHAR/CLOB/TEXT."""
    upper = declared.upper()
    return "INT" not in upper and any(k in upper for k in ("CHAR", "CLOB", "TEXT"))


def _numeric(q: str) -> str:
    """True for an INTEGER or REAL value, NULL for NULL: without affinity (unary ``+``) nothing is converted
    for the comparison, and every number sorts before every text (``''`` the least) and BLOB."""
    return f"+{q} < ''"


def _long(q: str) -> str:
    """True for a number beyond ±2^53, else false or NULL: text and BLOB sort after every number."""
    return f"(+{q} > {SAFE} and {_numeric(q)}) or +{q} < -{SAFE}"


def _any(tests: list[str]) -> str:
    return f"ifnull({' or '.join(tests)}, 0)" if tests else "0"


def fast_query(table: str, columns: list[tuple[str, bool]], has_rowid: bool) -> str:
    """Per row: its JSON object, and flags: 1 a number in a TEXT-affinity column, 2 a number beyond
    ±2^53. A REAL goes through :func:`js_number`; a BLOB makes ``json_object`` fail (then the careful
    query takes over). Only names reach the text, quoted (SQLite's doubling), never a value."""
    values, odd, long = [], [], []
    for name, text in columns:
        q = quote_identifier(name)
        if text:
            values.append(f"{quote_literal(name)}, {q}")
            odd.append(_numeric(q))
        else:
            values.append(f"{quote_literal(name)}, case typeof({q}) when 'real' then json({NUMBER_FUNCTION}({q}))"
                          f" else {q} end")
            long.append(_long(q))
    flags = f"{_any(odd)} + 2 * {_any(long)}"
    return _select(table, values, [flags], has_rowid)


def careful_query(table: str, columns: tuple[str, ...], has_rowid: bool) -> str:
    """Per row: its JSON object (a BLOB as ``{}``), flags (2: a number beyond ±2^53), and the names of its
    BLOB columns, each followed by NUL."""
    values = []
    for name in columns:
        q = quote_identifier(name)
        values.append(f"{quote_literal(name)}, case typeof({q}) when 'real' then json({NUMBER_FUNCTION}({q}))"
                      f" when 'blob' then json('{{}}') else {q} end")
    long = _any([_long(quote_identifier(c)) for c in columns])
    blobs = " || ".join(f"iif(typeof({quote_identifier(c)}) = 'blob', {quote_literal(c)} || char(0), '')"
                        for c in columns) or "''"
    return _select(table, values, [f"2 * {long}", blobs], has_rowid)


def _select(table: str, values: list[str], extra: list[str], has_rowid: bool) -> str:
    parts = [f"json_object({', '.join(values[i:i + OBJECT_PAIRS])})" for i in range(0, len(values), OBJECT_PAIRS)]
    parts = parts or ["json_object()"]
    order = " order by rowid" if has_rowid else ""  # WITHOUT ROWID: storage order, that of its primary key
    source = quote_identifier(table)
    if len(parts) == 1:
        return f"select {parts[0]}, {', '.join(extra)} from {source}{order}"  # noqa: S608 - names quoted
    # Wider tables: the objects of each group of columns joined into one ('{a…}' + '{b…}' -> '{a…,b…}').
    named = ", ".join(f"{p} as p{i}" for i, p in enumerate(parts))
    extras = ", ".join(f"{e} as e{i}" for i, e in enumerate(extra))
    last = len(parts) - 1
    joined = " || ',' || ".join(
        f"substr(p{i}, {1 if i == 0 else 2}, length(p{i}) - {1 if i == 0 else 2})" if i != last
        else f"substr(p{i}, 2)" for i in range(len(parts)))
    outer = ", ".join(f"e{i}" for i in range(len(extra)))
    return f"select {joined}, {outer} from (select {named}, {extras} from {source}{order})"  # noqa: S608


def _problem(doc: bytes, blob_columns: bytes) -> str | None:
    if blob_columns:
        names = [n.decode("utf-8", errors="backslashreplace") for n in blob_columns.split(b"\x00")[:-1]]
        return "a BLOB value, which JSON cannot hold, in column " + ", ".join(repr(n) for n in names)
    if not doc.isascii() and not _utf8(doc):
        return "a text value that is not valid UTF-8"
    if b"\\u0000" in doc and re.search(rb"(?<!\\)(?:\\\\)*\\u0000", doc):
        return "a string holds \\u0000"
    return None


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text(value) -> str:
    return value.decode("utf-8", errors="surrogateescape") if isinstance(value, bytes) else str(value)

