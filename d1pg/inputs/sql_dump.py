"""A SQL dump as ``wrangler d1 export <db> --output dump.sql`` writes it (contract additions §1).

A dump is code from outside, so it runs only as far as a D1 export goes. It is read as a stream,
statement by statement (never whole: a statement ends where :func:`sqlite3.complete_statement`
says, looked for only on lines that hold a ``;`` outside quotes), and executed into a temporary
SQLite file in the work folder, removed afterwards; its rows are then read as
:mod:`d1pg.inputs.sqlite_rows` describes.

What runs is decided by SQLite's authorizer, which sees every action a statement would take,
not by the statement's text: creating tables, indexes, triggers and views in the main database,
inserting rows (``INSERT INTO … VALUES``, with the few pure functions a dump uses, such as
``replace(…, char(10))``), clearing ``sqlite_sequence``, and the ``foreign_keys`` /
``defer_foreign_keys`` pragmas. Everything else is refused with one line naming the file and
line: ``ATTACH`` (and so ``VACUUM INTO``), ``load_extension`` and any function not known to be
pure, other pragmas, virtual tables (``fts5``), ``SELECT`` (so ``INSERT … SELECT`` and ``CREATE
TABLE … AS``), updates, deletes, drops, and anything a trigger would do (a D1 export creates its
triggers after its rows, so none ever fires). ``BEGIN``/``COMMIT`` and ``ANALYZE`` are not run:
the reader owns the transaction, and statistics are not data.

The instant is ``--backup-time``, else the file's modification time.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from pathlib import Path

from d1pg.backup import CHUNK, Envelope, _Source
from d1pg.errors import InputError
from d1pg.inputs.sqlite_rows import PURE_FUNCTIONS, SqliteTables, instant, prepare_for_reading

FORMAT = "sql-dump"
BATCH_STATEMENTS = 1000
"""Statements executed by one ``executescript`` call, in one transaction."""
BATCH_CHARS = 1 << 22
MAX_STATEMENT_CHARS = 64 << 20
"""A longer statement is refused: D1 holds rows of at most 2 MB, so it is a string left open."""

_LEAD = re.compile(r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*(?:[^*]|\*(?!/))*(?:\*/|\Z))*")
_NOT_RUN = re.compile(
    r"(?:BEGIN(?:\s+(?:DEFERRED|IMMEDIATE|EXCLUSIVE))?(?:\s+TRANSACTION)?|(?:COMMIT|END)(?:\s+TRANSACTION)?"
    r"|ANALYZE(?:\s+[\w\"]+)?|DELETE\s+FROM\s+\"?sqlite_sequence\"?)\s*;\s*\Z", re.IGNORECASE)
"""A statement alone in its text that is not run: the reader owns the transaction, statistics are not data,
and ``sqlite_sequence`` is empty anyway (and absent without AUTOINCREMENT)."""
_SPECIAL = re.compile(r"--|/\*|['\"`\[;]")
_CLOSING = {"'": "'", '"': '"', "`": "`", "[": "]", "/*": "*/"}

_ACTION_NAMES = {getattr(sqlite3, n): n.removeprefix("SQLITE_").replace("_", " ")
                 for n in dir(sqlite3) if n.startswith("SQLITE_") and n not in (
                     "SQLITE_OK", "SQLITE_DENY", "SQLITE_IGNORE") and isinstance(getattr(sqlite3, n), int)
                 and n.upper() == n and not n.startswith(("SQLITE_LIMIT", "SQLITE_ERROR", "SQLITE_IOERR"))}
_ACTION_NAMES.update({sqlite3.SQLITE_INSERT: "INSERT", sqlite3.SQLITE_UPDATE: "UPDATE",
                      sqlite3.SQLITE_DELETE: "DELETE", sqlite3.SQLITE_SELECT: "SELECT"})
_CREATES = {sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_CREATE_TRIGGER,
            sqlite3.SQLITE_CREATE_VIEW, sqlite3.SQLITE_REINDEX}


class SqlDumpInput:
    """A ``wrangler d1 export`` dump behind the input interface (see :mod:`d1pg.inputs`)."""

    format = FORMAT

    def __init__(self, path: Path | str, *, backup_time: str | None = None, work_dir: Path = Path(".d1pg")):
        self.path = Path(path)
        self.size = self.path.stat().st_size
        self.work_dir = Path(work_dir)
        created_at, self.instant_source = instant(self.path, backup_time)
        self.envelope = Envelope(created_at=created_at)
        self.long_number_tables: set[str] = set()
        self.last_keys = {}.keys()
        self._src: _Source | None = None
        self._conn: sqlite3.Connection | None = None
        self._database: Path | None = None
        self._refusal: str | None = None
        self._rolling_back = False

    # -- the interface ----------------------------------------------------------------------

    @property
    def sha256(self) -> str:
        return self._src.sha256.hexdigest() if self._src else ""

    @property
    def bytes_read(self) -> int:
        return self._src.compressed_read if self._src else 0

    @property
    def gzipped(self) -> bool:
        return bool(self._src and self._src.gzipped)

    def tables(self):
        self._load()
        prepare_for_reading(self._conn)
        yield from SqliteTables(self._conn, self._describe, self.long_number_tables).tables()

    def close(self) -> None:
        if self._src is not None:
            self._src.close()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._database is not None:
            for leftover in (self._database, self._database.with_name(self._database.name + "-journal")):
                leftover.unlink(missing_ok=True)
            self._database = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- executing the dump -----------------------------------------------------------------

    def _load(self) -> None:
        self._src = _Source(self.path)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._database = self.work_dir / f"dump-{uuid.uuid4().hex}.sqlite"
        self._conn = sqlite3.connect(self._database, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode = memory", "synchronous = off", "trusted_schema = off", "foreign_keys = off"):
            self._conn.execute(f"pragma {pragma}")
        self._conn.set_authorizer(self._authorize)
        batch: list[tuple[int, str]] = []
        chars = 0
        for line, statement in self._statements():
            if _NOT_RUN.match(statement, _LEAD.match(statement).end()):
                continue
            batch.append((line, statement))
            chars += len(statement)
            if len(batch) >= BATCH_STATEMENTS or chars >= BATCH_CHARS:
                self._run(batch)
                batch, chars = [], 0
        self._run(batch)

    def _run(self, batch: list[tuple[int, str]]) -> None:
        if not batch:
            return
        try:
            self._conn.executescript("begin;\n" + "".join(s for _, s in batch) + "\ncommit;")
            return
        except sqlite3.Error as exc:
            first = exc
        # Find the statement and its line: undo the batch, then run it again one statement at a time.
        self._undo()
        self._conn.execute("begin")
        for line, text in batch:
            for statement in _split(text):
                self._refusal = None
                try:
                    self._conn.execute(statement)
                except sqlite3.Error as exc:
                    self._undo()
                    self._fail(line, exc)
        self._undo()
        self._fail(batch[0][0], first)

    def _undo(self) -> None:
        if self._conn.in_transaction:
            self._rolling_back = True
            try:
                self._conn.execute("rollback")
            finally:
                self._rolling_back = False

    def _fail(self, line: int, exc: sqlite3.Error):
        if self._refusal is None and str(exc).startswith("cannot VACUUM"):
            self._refusal = "VACUUM (and so VACUUM INTO, which the authorizer refuses as an ATTACH)"
        if self._refusal is not None:
            raise InputError(f"{self.path}: line {line}: refused: {self._refusal}; a dump may hold only what"
                             " `wrangler d1 export` writes (CREATE TABLE/INDEX/TRIGGER/VIEW, INSERT … VALUES, the"
                             " foreign-key pragmas); nothing was staged")
        raise InputError(f"{self.path}: line {line}: {exc}; nothing was staged")

    def _authorize(self, action, arg1, arg2, db_name, source):
        ok = sqlite3.SQLITE_OK
        if source is not None:
            what = _ACTION_NAMES.get(action, str(action))
            self._refusal = (f"the trigger {source!r} would run {what} {arg1 or arg2 or ''}".rstrip()
                             + " (a D1 export creates its triggers after its rows: none ever fires)")
            return sqlite3.SQLITE_DENY
        if action in _CREATES and db_name == "main":
            return ok
        if action == sqlite3.SQLITE_INSERT and db_name == "main":
            return ok
        if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master" and db_name == "main":
            return ok  # SQLite's own bookkeeping while a CREATE runs
        if action == sqlite3.SQLITE_DELETE and arg1 == "sqlite_sequence" and db_name == "main":
            return ok
        if action == sqlite3.SQLITE_READ:
            return ok
        if action == sqlite3.SQLITE_FUNCTION and arg2 in PURE_FUNCTIONS:
            return ok
        if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in ("foreign_keys", "defer_foreign_keys"):
            return ok  # inside the reader's transaction SQLite leaves foreign_keys as it is (off)
        if action == sqlite3.SQLITE_TRANSACTION and (arg1 in ("BEGIN", "COMMIT") or self._rolling_back):
            return ok
        self._refusal = _refusal(action, arg1, arg2, db_name)
        return sqlite3.SQLITE_DENY

    def _statements(self):
        """(first line, text) of each complete statement, in order; text holds its lines whole."""
        src = self._src
        number = 0
        current: list[str] = []
        start = 0
        size = 0
        state: str | None = None  # inside a string, quoted name or comment: its closing text
        pending = b""
        eof = False
        while not eof:
            block = src.read(CHUNK)
            if block:
                pending += block
                lines = pending.split(b"\n")
                pending = lines.pop()
            else:
                eof = True
                lines = [pending] if pending else []
            for raw in lines:
                number += 1
                try:
                    text = raw.decode("utf-8") + "\n"
                except UnicodeDecodeError as exc:
                    raise InputError(f"{self.path}: line {number}, byte {exc.start + 1} of the line: invalid UTF-8"
                                     f" ({exc.reason}); nothing was staged") from None
                if not current:
                    stripped = text.lstrip()
                    if not stripped or stripped.startswith("--"):
                        continue
                    if ";" in text and sqlite3.complete_statement(text):
                        yield number, text
                        continue
                    start, size, state = number, 0, None
                current.append(text)
                size += len(text)
                if size > MAX_STATEMENT_CHARS:
                    raise InputError(f"{self.path}: line {start}: a statement longer than {MAX_STATEMENT_CHARS >> 20}"
                                     " MiB (D1 rows hold at most 2 MB): a string left open?; nothing was staged")
                state, semicolon = _scan(text, state)
                if semicolon and state is None:
                    statement = "".join(current)
                    if sqlite3.complete_statement(statement):
                        yield start, statement
                        current = []
        if current and _LEAD.fullmatch("".join(current)) is None:
            reason = "a string or quoted name left open" if state in ("'", '"', "`", "]") else "no closing ';'"
            raise InputError(f"{self.path}: line {start}: the file ends inside this statement ({reason});"
                             " truncated? nothing was staged")

    def _describe(self, exc: Exception, table: str | None = None, row: int | None = None) -> str:
        where = f"table {table!r}, row {row}: " if table is not None else ""
        return f"{self.path}: {where}{exc}"


def _scan(text: str, state: str | None) -> tuple[str | None, bool]:
    """Follow quotes and comments through one line: the state at its end, and whether it holds a
    ``;`` outside them."""
    pos, n, semicolon = 0, len(text), False
    while pos < n:
        if state is None:
            m = _SPECIAL.search(text, pos)
            if m is None:
                break
            token, pos = m.group(), m.end()
            if token == ";":
                semicolon = True
            elif token == "--":
                pos = n
            else:
                state = _CLOSING[token]
        else:
            end = text.find(state, pos)
            if end < 0:
                break
            pos = end + len(state)
            if state in ("'", '"', "`") and text.startswith(state, pos):
                pos += 1  # a doubled quote stands for itself
                continue
            state = None
    return state, semicolon


def _split(text: str) -> list[str]:
    """The statements of a text that holds one or more complete ones (several may share a line)."""
    out, start = [], 0
    for at in (i for i, ch in enumerate(text) if ch == ";"):
        if sqlite3.complete_statement(text[start:at + 1]):
            out.append(text[start:at + 1])
            start = at + 1
    return out


def _refusal(action, arg1, arg2, db_name) -> str:
    if action == sqlite3.SQLITE_ATTACH:
        return f"ATTACH (or VACUUM INTO) of {arg1!r}"
    if action == sqlite3.SQLITE_FUNCTION:
        return f"the function {arg2}()"
    if action == sqlite3.SQLITE_PRAGMA:
        return f"PRAGMA {arg1}" + (f" = {arg2}" if arg2 is not None else "")
    if action == sqlite3.SQLITE_CREATE_VTABLE:
        return f"CREATE VIRTUAL TABLE {arg1} USING {arg2}"
    if action == sqlite3.SQLITE_DELETE and arg1 == "sqlite_master":
        return "DROP (a D1 export removes nothing)"
    if action == sqlite3.SQLITE_SELECT:
        return "SELECT (a D1 export inserts its rows as VALUES)"
    what = _ACTION_NAMES.get(action, f"action {action}")
    target = " ".join(str(a) for a in (arg1, arg2) if a)
    place = f" in {db_name!r}" if db_name not in (None, "main") else ""
    return f"{what} {target}".rstrip() + place
