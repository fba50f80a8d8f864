"""Every input behind one small interface, so that stage never asks which form it reads.

An input is opened with :func:`open_input` (the form detected from its first bytes, gzip
unwrapped first, or forced with ``format``). It tells what it is, then hands out its tables:

- ``format``: ``admin-json``, ``sql-dump`` or ``sqlite``; ``path``; ``size`` (bytes on disk);
  ``sha256`` (of the file as stored; complete once the tables are read); ``bytes_read`` (for a
  progress bar); ``gzipped``;
- ``envelope`` (:class:`~d1pg.backup.Envelope`): the backup's instant (``created_at``), and the
  admin backup's ``version``, ``versionName``, ``createdBy`` and unused top-level keys; and
  ``instant_source``, where the instant came from;
- ``tables()``: ``(name, rows)`` in the input's order; each ``rows`` yields the rows in order as
  ``bytes`` (one JSON object's text; ``last_keys`` then holds its keys), as
  :class:`~d1pg.runs.RowRun` (consecutive rows already framed for binary COPY, with their keys),
  or as :class:`~d1pg.backup.Unstorable` (a row the reader knows PostgreSQL cannot hold, with
  its reason). ``rows`` must be consumed before the next table;
- ``long_number_tables``: tables whose text holds a run of 16+ digits (complete per table once
  its rows are read); ``close()``, and use as a context manager.

Every problem with an input raises :class:`~d1pg.errors.InputError`: one line naming the file.
Readers import only leaf modules (errors, :mod:`d1pg.backup`, :mod:`d1pg.runs`), never stage or db.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

from d1pg.errors import InputError

FORMATS = ("admin-json", "sql-dump", "sqlite")
GZIP_MAGIC = b"\x1f\x8b"
SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db", ".db3")
HEAD_BYTES = 1 << 16

# The first word of a statement a SQL text may start with (after whitespace and comments). A dump
# that starts with a statement D1 never writes is still detected as a dump, and refused there.
SQL_FIRST_WORDS = frozenset(
    "PRAGMA CREATE INSERT REPLACE BEGIN COMMIT END DELETE ANALYZE ATTACH DETACH DROP ALTER UPDATE "
    "SELECT VACUUM WITH SAVEPOINT RELEASE ROLLBACK REINDEX EXPLAIN VALUES".split())
_COMMENTS_AND_SPACE = re.compile(rb"(?:\s+|--[^\n]*(?:\n|\Z)|/\*(?:[^*]|\*(?!/))*(?:\*/|\Z))*")
_WORD = re.compile(rb"[A-Za-z]+")


def head(path: Path, limit: int = HEAD_BYTES) -> tuple[bytes, bool]:
    """The first bytes of the file, decompressed when it is gzip, and whether it is gzip."""
    try:
        with open(path, "rb") as f:
            raw = f.read(limit)
    except OSError as exc:
        raise InputError(f"{path}: cannot open: {exc.strerror}") from None
    if not raw.startswith(GZIP_MAGIC):
        return raw, False
    try:
        return zlib.decompressobj(wbits=31).decompress(raw, limit), True
    except zlib.error:
        return b"", True  # the reader names the problem


def detect_format(path: Path) -> str:
    """``sqlite`` for SQLite's header, ``sql-dump`` when the text starts with a SQL statement,
    else ``admin-json`` (whose reader explains what is wrong with a file that is none of them).
    A file named like a database (``.sqlite``, ``.db``…) that is neither text form is ``sqlite``."""
    data, _ = head(Path(path))
    if data.startswith(SQLITE_MAGIC):
        return "sqlite"
    rest = data[_COMMENTS_AND_SPACE.match(data).end():]
    word = _WORD.match(rest)
    if word and word.group().upper().decode() in SQL_FIRST_WORDS:
        return "sql-dump"
    if Path(path).suffix.lower() in SQLITE_SUFFIXES and not rest.startswith((b"{", b"[")):
        return "sqlite"
    return "admin-json"


def open_input(path: Path | str, format: str | None = None, *, backup_time: str | None = None,  # noqa: A002
               work_dir: Path = Path(".d1pg"), fast: bool = True):
    """Open ``path`` as the input it is (or as ``format``); nothing heavy happens before ``tables()``.

    ``backup_time`` (ISO 8601 with an offset) is the instant of a dump or SQLite file, whose
    default is the file's modification time; an admin backup's instant is its ``createdAt``.
    ``work_dir`` holds the temporary SQLite file a dump is executed into."""
    path = Path(path)
    if format is not None and format not in FORMATS:
        raise InputError(f"--format {format!r}: expected one of {', '.join(FORMATS)}")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    kind = format or detect_format(path)
    if kind == "admin-json":
        if backup_time is not None:
            raise InputError(f"{path}: --backup-time applies to a SQL dump or a SQLite file; an admin backup's"
                             " instant is its createdAt")
        from d1pg.inputs.admin_json import AdminJsonInput

        return AdminJsonInput(path, fast=fast)
    if kind == "sql-dump":
        from d1pg.inputs.sql_dump import SqlDumpInput

        return SqlDumpInput(path, backup_time=backup_time, work_dir=work_dir)
    from d1pg.inputs.sqlite_file import SqliteFileInput

    return SqliteFileInput(path, backup_time=backup_time, work_dir=work_dir)
