"""A SQL dump as ``wrangler d1 export <db> --output dump.sql`` writes it (contract additions §1).

A dump is code from outside, so it runs only as far as a D1 export goes. A process of its own
(``python -m d1pg.inputs.sql_dump``) reads it as a stream, never whole, and executes it into a
temporary SQLite file in the work folder, removed afterwards: blocks of whole lines are split into
statements (quotes and comments followed), a statement spanning blocks is put together line by
line. A run of lines that are each one row ``INSERT INTO "t" (…) VALUES(…);`` of the same table and
column list runs as one multi-row ``INSERT`` (one statement to prepare instead of one a row; SQLite
still parses and authorizes all of it). Each batch runs in one transaction; when one fails, it is
undone and run again one statement at a time as the dump has them, so the message names the exact
line. The stage process reads each table (as :mod:`d1pg.inputs.sqlite_rows` describes) as soon as the dump has
moved on to another table's rows, while the rest of the dump runs.

What runs is decided by SQLite's authorizer, which sees every action a statement would take,
not by the statement's text: creating tables, indexes, triggers and views in the main database,
inserting rows (``INSERT INTO … VALUES``, with the few pure functions a dump uses, such as
``replace(…, char(10))``; a table's rows together, as an export writes them), clearing
``sqlite_sequence``, and the ``foreign_keys`` / ``defer_foreign_keys`` pragmas. Everything else is
refused with one line naming the file and line: ``ATTACH`` (and so ``VACUUM INTO``),
``load_extension`` and any function not known to be pure, other pragmas, virtual tables
(``fts5``), ``SELECT`` (so ``INSERT … SELECT`` and ``CREATE TABLE … AS``), updates, deletes,
drops, transactions other than the loader's own (a savepoint whose name the dump cannot know),
and anything a trigger would do (a D1 export creates its triggers after its rows, so none ever
fires). The dump's own ``BEGIN``/``COMMIT`` and ``ANALYZE`` are left out: the loader owns the
transaction, and statistics are not data.

The instant is ``--backup-time``, else the file's modification time.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from d1pg.backup import Envelope, _Source
from d1pg.errors import InputError
from d1pg.inputs.sqlite_rows import PURE_FUNCTIONS, SqliteTables, instant, prepare_for_reading

FORMAT = "sql-dump"
BATCH_STATEMENTS = 1000
"""Statements executed by one ``executescript`` call, in one transaction."""
BATCH_CHARS = 1 << 22
RUN_ROWS = 200
"""Rows (lines) joined into one ``INSERT`` at most; a run also ends with its block of lines (:data:`CHUNK`)."""
CACHE_KIB = 8 << 10
"""SQLite's page cache for the temporary database (8 MiB)."""
PAGE_SIZE = 1 << 16
"""The temporary database's page size, SQLite's largest: fewer pages to fill, link and log (its rows only
ever grow at the end of each table), measured 7% less loader time than SQLite's 4 KiB."""
CHUNK = 1 << 20
"""Bytes read at once: a block of whole lines runs as one batch (its text is held about three times)."""
MAX_STATEMENT_CHARS = 64 << 20
"""A longer statement is refused: D1 holds rows of at most 2 MB, so it is a string left open."""

_LEAD = re.compile(r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*(?:[^*]|\*(?!/))*(?:\*/|\Z))*")
_NOT_RUN = re.compile(
    r"(?:BEGIN(?:\s+(?:DEFERRED|IMMEDIATE|EXCLUSIVE))?(?:\s+TRANSACTION)?|(?:COMMIT|END)(?:\s+TRANSACTION)?"
    r"|ANALYZE(?:\s+[\w\"]+)?|DELETE\s+FROM\s+\"?sqlite_sequence\"?)\s*;\s*\Z", re.IGNORECASE)
"""A statement alone in its text that is not run: the reader owns the transaction, statistics are not data,
and ``sqlite_sequence`` is empty anyway (and absent without AUTOINCREMENT)."""
_TOKEN = r"""[^'"`()\[\];\n/-]++|'[^'\n]*+'|-(?!-)|/(?!\*)"""
"""Outside a quoted name: plain text, a string on one line (``''`` inside is two strings back to back, which
splits the same), a ``-`` or ``/`` that starts no comment. No ``;``, comment, quoted name or line break."""
_ROW = rf"\((?:{_TOKEN}|\((?:{_TOKEN}|\((?:{_TOKEN})*+\))*+\))*+\)"
"""One parenthesised row: tokens and parentheses nested up to three deep (``replace('…', '\\n', char(10))``).
The tokens cannot overlap, so the quantifiers are possessive: a line that does not match fails in linear time."""
_ROWS_RUN = re.compile(
    r'(INSERT INTO "(?:[^"\n]|"")+" (?:\("(?:[^"\n]|"")*"(?:,"(?:[^"\n]|"")*")*\) ?)?VALUES)'
    rf"{_ROW};\n(?:\1{_ROW};\n){{1,{RUN_ROWS - 1}}}")
"""A run of two lines or more, each one whole statement of one row ``INSERT INTO "t" ("a","b") VALUES(…);``
(as ``wrangler d1 export`` writes its rows) with the same table and column list (the same text): the
statements run as one ``INSERT`` of the rows in the same order (SQLite's parsing per statement, not the
rows, was most of the loader's time). Anything else about a line (another statement after the ``;``,
``RETURNING``, ``ON CONFLICT``, a comment, a string spanning lines) leaves it out of the run: it runs alone."""
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
    """A ``wrangler d1 export`` dump behind the input interface (see :mod:`d1pg.inputs`).

    The dump runs in a process of its own (:func:`main`: SQLite's parsing, the bulk of the work, then
    shares no interpreter lock with the reading and the COPY), into a temporary SQLite file in WAL mode;
    this process reads each table as soon as the dump has moved on to another table's rows."""

    format = FORMAT

    def __init__(self, path: Path | str, *, backup_time: str | None = None, work_dir: Path = Path(".d1pg")):
        self.path = Path(path)
        self.size = self.path.stat().st_size
        self.work_dir = Path(work_dir)
        created_at, self.instant_source = instant(self.path, backup_time)
        self.envelope = Envelope(created_at=created_at)
        self.long_number_tables: set[str] = set()
        self.last_keys = {}.keys()
        self.gzipped = False
        self._sha256 = ""
        self._database: Path | None = None
        self._reader: sqlite3.Connection | None = None
        self._process: subprocess.Popen | None = None
        self._errors = None
        self._read = 0

    # -- the interface ----------------------------------------------------------------------

    @property
    def sha256(self) -> str:
        return self._sha256

    @property
    def bytes_read(self) -> int:
        return self._read

    def tables(self):
        """Each table as soon as the dump has moved on to another table's rows (or has ended)."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._database = (self.work_dir / f"dump-{uuid.uuid4().hex}.sqlite").resolve()
        package_root = str(Path(__file__).resolve().parents[2])  # this d1pg, whatever the environment says
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        self._process = subprocess.Popen(  # noqa: S603 - this interpreter, this module, two paths
            [sys.executable, "-m", "d1pg.inputs.sql_dump", str(self.path), str(self._database)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._errors, env=env)
        ready: list[str] = []
        position = 0
        done = False
        tables = None
        while True:
            while position >= len(ready) and not done:
                message = self._message()
                if "error" in message:
                    raise InputError(message["error"])
                self._read = message.get("read", self._read)
                ready += message["tables"]
                if "sha256" in message:
                    done = True
                    self._sha256, self.gzipped = message["sha256"], message["gzipped"]
            if position >= len(ready):
                break
            name = ready[position]
            position += 1
            if tables is None:
                self._reader = sqlite3.connect(self._database, isolation_level=None, check_same_thread=False)
                prepare_for_reading(self._reader)
                tables = SqliteTables(self._reader, self._describe, self.long_number_tables)
            yield tables.table(name)
        self._process.wait()

    def _message(self) -> dict:
        line = self._process.stdout.readline()
        if not line:
            self._process.wait()
            self._errors.seek(0)
            detail = self._errors.read().decode(errors="replace").strip().splitlines()
            raise InputError(f"{self.path}: the process reading the dump ended without a word (exit code"
                             f" {self._process.returncode}{': ' + detail[-1] if detail else ''}); nothing was staged")
        return json.loads(line)

    def close(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
            self._process.stdout.close()
            self._process = None
        if self._errors is not None:
            self._errors.close()
            self._errors = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._database is not None:
            for suffix in ("", "-journal", "-wal", "-shm"):
                self._database.with_name(self._database.name + suffix).unlink(missing_ok=True)
            self._database = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _describe(self, exc: Exception, table: str | None = None, row: int | None = None) -> str:
        where = f"table {table!r}, row {row}: " if table is not None else ""
        return f"{self.path}: {where}{exc}"


def main(argv: list[str]) -> int:
    """``python -m d1pg.inputs.sql_dump DUMP DATABASE``, the loader process: run the dump into DATABASE and
    say on stdout, one JSON object a line, which tables are complete (``tables``, with the bytes ``read``),
    then the rest with the ``sha256``, or the one-line ``error``."""
    path, database = argv
    loader = _Loader(Path(path), Path(database), _say)
    try:
        loader.open()
        loader.load()
        _say({"tables": loader.finish(), "read": loader.src.compressed_read, "sha256": loader.src.sha256.hexdigest(),
              "gzipped": loader.src.gzipped})
    except InputError as exc:
        _say({"error": str(exc)})
    except Exception as exc:  # noqa: BLE001 - one line for the person, whatever went wrong
        _say({"error": f"{path}: reading the dump failed: {type(exc).__name__}: {exc}"})
    finally:
        loader.close()
    return 0


def _say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


class _Loader:
    """Runs a dump statement by statement under the authorizer, in the loader process."""

    def __init__(self, path: Path, database: Path, say):
        self.path = path
        self.database = database
        self.say = say
        self.src: _Source | None = None
        self._conn: sqlite3.Connection | None = None
        self._refusal: str | None = None
        self._owned = False  # the loader's own BEGIN, COMMIT or ROLLBACK is running
        self._values_select = False  # a joined run of rows is being prepared: its VALUES is one SELECT
        self._token = f"d1pg_{uuid.uuid4().hex}"
        # Tables in the order their rows come, and which of them the dump has moved past (complete).
        self._order: list[str] = []
        self._left: set[str] = set()
        self._current: str | None = None
        self._told = 0

    def open(self) -> None:
        self.src = _Source(self.path)
        self._conn = sqlite3.connect(self.database, isolation_level=None, cached_statements=0)
        for pragma in (f"page_size = {PAGE_SIZE}", "journal_mode = wal", "synchronous = off",  # page size first
                       "trusted_schema = off", "foreign_keys = off", f"cache_size = -{CACHE_KIB}"):
            self._conn.execute(f"pragma {pragma}")
        self._conn.set_authorizer(self._authorize)

    def close(self) -> None:
        if self.src is not None:
            self.src.close()
        if self._conn is not None:
            self._conn.close()

    def finish(self) -> list[str]:
        """The tables not yet told: the one still taking rows at the end, then those without rows."""
        self._conn.set_authorizer(None)  # the dump has run: the loader's own query
        created = [r[0] for r in self._conn.execute("select name from sqlite_schema where type = 'table'"
                                                    " order by rowid")]
        rest = self._order[self._told:] + [t for t in created if t not in set(self._order) and _data_table(t)]
        return rest

    def _publish(self) -> None:
        """After a batch is committed: the tables the dump has moved past are complete."""
        fresh = []
        for t in self._order[self._told:]:
            if t not in self._left:
                break
            fresh.append(t)
        if fresh:
            self._told += len(fresh)
            self.say({"tables": fresh, "read": self.src.compressed_read})

    def load(self) -> None:
        for batch, pieces in self._batches():
            self._run(batch, pieces)

    def _batches(self):
        """(statements as the dump has them with their first lines, what runs) per batch."""
        batch: list[tuple[int, str]] = []  # (first line, text as the dump has it): what a failed batch reruns
        pieces: list[str] = []  # what runs: the same statements, runs of rows joined into one INSERT each
        chars = 0
        for line, statement, executable in self._statements():
            if executable is None:
                continue
            batch.append((line, statement))
            pieces.append(executable)
            chars += len(statement)
            if len(batch) >= BATCH_STATEMENTS or chars >= BATCH_CHARS:
                yield batch, pieces
                batch, pieces, chars = [], [], 0
        if batch:
            yield batch, pieces

    def _run(self, batch: list[tuple[int, str]], pieces: list[str]) -> None:
        """One batch in one transaction, opened and closed by a savepoint whose name the dump cannot
        know: the authorizer lets through no other transaction statement. When it fails, the batch runs
        again one statement at a time, as the dump has them (not joined), so the error names its line."""
        if not batch:
            return
        before = (len(self._order), set(self._left), self._current)
        try:
            self._own("savepoint " + self._token)
            for piece in pieces:
                if isinstance(piece, _Joined):
                    self._values_select = True  # the one SELECT event of its VALUES, no other
                    self._conn.execute(piece)
                else:
                    for one in _split(piece):
                        self._conn.execute(one)
            self._values_select = False
            self._own("release " + self._token)
            self._publish()
            return
        except sqlite3.Error:
            self._values_select = False
        # Find the statement and its line: undo the batch, then run it again one statement at a time.
        self._undo()
        del self._order[before[0]:]
        self._left, self._current = before[1], before[2]
        self._own("begin")
        for start, text in batch:
            for line, statement in _Splitter.statements(self.path, text, start):
                for one in _split(statement):
                    if not one.lstrip().startswith("INSERT") and _NOT_RUN.match(one, _LEAD.match(one).end()):
                        continue
                    self._refusal = None
                    try:
                        self._conn.execute(one)
                    except sqlite3.Error as exc:
                        self._undo()
                        self._fail(line, exc)
        # The batch failed only for statements that are not run (the dump's own BEGIN…): keep it.
        self._own("commit")
        self._publish()

    def _own(self, statement: str) -> None:
        self._owned = True
        try:
            self._conn.execute(statement)
        finally:
            self._owned = False

    def _undo(self) -> None:
        if self._conn.in_transaction:
            self._own("rollback")

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
            return self._rows_for(arg1)
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
        if action == sqlite3.SQLITE_TRANSACTION and self._owned:
            return ok
        if action == sqlite3.SQLITE_SAVEPOINT and arg2 == self._token:
            return ok
        if action == sqlite3.SQLITE_SELECT and self._values_select and arg1 is None and arg2 is None:
            self._values_select = False  # once: a sub-select inside a row is a second SELECT, refused
            return ok
        self._refusal = _refusal(action, arg1, arg2, db_name)
        return sqlite3.SQLITE_DENY

    def _rows_for(self, table: str):
        """Rows of a table must come together, as a D1 export writes them: the table the dump moves
        away from is complete, and read while the rest of the dump runs."""
        if table == self._current or not _data_table(table):
            return sqlite3.SQLITE_OK
        if table in self._left or table in self._order:
            self._refusal = (f"rows for {table!r} after rows of {self._current!r} (a D1 export writes each table's"
                             " rows together)")
            return sqlite3.SQLITE_DENY
        if self._current is not None:
            self._left.add(self._current)
        self._current = table
        self._order.append(table)
        return sqlite3.SQLITE_OK

    def _statements(self):
        """(first line, text, what runs) of each statement in order (what runs is None for one that is
        not run, such as the dump's own ``BEGIN``). A block of whole lines read while no statement is
        open goes through :func:`_block`, which joins runs of rows into one ``INSERT`` each; a
        statement spanning blocks, and a block that is not valid UTF-8, go line by line."""
        src = self.src
        number = 0
        splitter = _Splitter(self.path)
        pending = b""
        eof = False
        while not eof:
            block = src.read(CHUNK)
            if block:
                pending += block
                cut = pending.rfind(b"\n") + 1
                part, pending = pending[:cut], pending[cut:]
            else:
                eof = True
                part, pending = pending, b""
            if not part:
                continue
            if splitter.idle:
                try:
                    text = part.decode("utf-8")
                except UnicodeDecodeError:
                    text = None  # the lines below say which
                if text is not None:
                    number = (yield from _block(text, number + 1, splitter)) - 1
                    continue
            for raw in part.split(b"\n")[:-1] if part.endswith(b"\n") else part.split(b"\n"):
                number += 1
                try:
                    line = raw.decode("utf-8") + "\n"
                except UnicodeDecodeError as exc:
                    raise InputError(f"{self.path}: line {number}, byte {exc.start + 1} of the line: invalid UTF-8"
                                     f" ({exc.reason}); nothing was staged") from None
                found = splitter.feed(line, number)
                if found is not None:
                    yield *found, _runnable(found[1])
        splitter.finish()

    def _describe(self, exc: Exception, table: str | None = None, row: int | None = None) -> str:
        where = f"table {table!r}, row {row}: " if table is not None else ""
        return f"{self.path}: {where}{exc}"


class _Splitter:
    """Complete statements from lines fed one at a time (a statement may span lines, and a line hold
    several). ``;`` ends a statement only outside quotes and comments, as sqlite3.complete_statement
    decides; it is asked only when a line holds such a ``;``, so a long statement costs linear time."""

    def __init__(self, path: Path):
        self.path = path
        self.current: list[str] = []
        self.start = 0
        self.size = 0
        self.state: str | None = None  # inside a string, quoted name or comment: its closing text

    @property
    def idle(self) -> bool:
        return not self.current

    def feed(self, line: str, number: int) -> tuple[int, str] | None:
        if not self.current:
            stripped = line.lstrip()
            if not stripped or stripped.startswith("--"):
                return None
            if ";" in line and sqlite3.complete_statement(line):
                return number, line
            self.start, self.size, self.state = number, 0, None
        self.current.append(line)
        self.size += len(line)
        if self.size > MAX_STATEMENT_CHARS:
            raise InputError(f"{self.path}: line {self.start}: a statement longer than {MAX_STATEMENT_CHARS >> 20}"
                             " MiB (D1 rows hold at most 2 MB): a string left open?; nothing was staged")
        self.state, semicolon = _scan(line, self.state)
        if semicolon and self.state is None:
            statement = "".join(self.current)
            if sqlite3.complete_statement(statement):
                self.current = []
                return self.start, statement
        return None

    def finish(self) -> None:
        if self.current and _LEAD.fullmatch("".join(self.current)) is None:
            reason = "a string or quoted name left open" if self.state in ("'", '"', "`", "]") else "no closing ';'"
            raise InputError(f"{self.path}: line {self.start}: the file ends inside this statement ({reason});"
                             " truncated? nothing was staged")

    @classmethod
    def statements(cls, path: Path, text: str, first: int):
        """(line, statement) of a text of whole lines, starting at line ``first``."""
        splitter = cls(path)
        for number, line in enumerate(text.splitlines(keepends=True), first):
            found = splitter.feed(line, number)
            if found is not None:
                yield found


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


def _block(text: str, first: int, splitter: _Splitter):
    """The statements of a text of whole lines that starts outside any statement, from line ``first``, as
    :meth:`_Loader._statements` yields them; returns the number of the line after it. A run of lines that
    :data:`_ROWS_RUN` matches is one item: its text, and what runs, the same rows as one
    ``INSERT … VALUES (…),\\n(…);`` (the prefix once, then each line without its prefix and its ``;``:
    the pattern holds no line break inside a line); any other line goes through the splitter, which
    tracks quotes and comments across lines."""
    pos, number, end = 0, first, len(text)
    while pos < end:
        if splitter.idle:
            m = _ROWS_RUN.match(text, pos)
            if m is not None:
                run, prefix = m.group(), m.group(1)
                lines = run.split("\n")
                lines.pop()  # the run ends with a line break
                cut = len(prefix)
                yield number, run, _Joined(prefix + ",\n".join([line[cut:-1] for line in lines]) + ";")
                number += len(lines)
                pos = m.end()
                continue
        stop = text.find("\n", pos) + 1 or end
        line = text[pos:stop] if text.endswith("\n", pos, stop) else text[pos:stop] + "\n"
        found = splitter.feed(line, number)
        number += 1
        pos = stop
        if found is not None:
            yield *found, _runnable(found[1])
    return number


class _Joined(str):
    """A run of rows joined into one ``INSERT``: SQLite authorizes its multi-row VALUES as one SELECT."""


def _runnable(statement: str) -> str | None:
    """The statement as it runs, or None for one that is not run (the dump's own BEGIN/COMMIT, ANALYZE)."""
    if not statement.startswith("INSERT") and _NOT_RUN.match(statement, _LEAD.match(statement).end()):
        return None
    return statement


def _data_table(name: str) -> bool:
    """SQLite's own tables and D1's internal ``_cf_*`` tables are not data."""
    return not name.startswith(("sqlite_", "_cf_"))


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


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
