"""``invoke stage``: stream the backup into one JSONB staging table per backup table.

This is the only step done in Python. Each row's raw JSON text goes to PostgreSQL by COPY,
unchanged; everything else (casts, ids, references) is SQL's job. The whole stage is one
transaction: a failed or killed stage leaves the earlier staging exactly as it was.

Python does as little as it can per row: the reader checks runs of rows at once and hands
them out as binary COPY data, position and row (:class:`~d1pg.runs.RowRun`; jsonb's binary
format is the JSON text itself, parsed and checked by the server as text input is); a second
thread writes to the server while the next run is checked. Rows rejected at load time are
inserted in batches between COPYs.
"""

from __future__ import annotations

import contextlib
import ctypes
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.copy import LibpqWriter
from psycopg.types.json import Jsonb

from d1pg import console, mapping
from d1pg.audit import audited
from d1pg.backup import Unstorable
from d1pg.config import Settings
from d1pg.db import database_url, describe_error, locked_connection, qualified, run_script
from d1pg.errors import DatabaseError, InputError
from d1pg.identifiers import PLAIN_IDENTIFIER, is_plain_identifier
from d1pg.inputs import open_input
from d1pg.render import render, templates_in
from d1pg.runs import COPY_SIGNATURE, COPY_TRAILER, RowRun, copy_row

FLUSH_BYTES = 1 << 18
PROGRESS_EVERY = 20_000
WRITE_QUEUE = 16
"""COPY blocks (about FLUSH_BYTES each, a run of rows) waiting for the writer thread: bounds the
memory in flight (4 MB)."""
SWITCH_INTERVAL = 0.0005
"""While staging, Python hands the GIL to a waiting thread after 0.5 ms instead of 5 ms, so the
writer thread feeds the server (which holds only ~200 KB in the socket) without long gaps."""
REJECT_BATCH_BYTES = 4 << 20
"""Rows rejected at load time are held until their raw text reaches this size, then inserted."""



@dataclass
class StagedTable:
    name: str
    rows: int = 0
    unstorable: int = 0
    skipped_reason: str | None = None
    columns: list[str] = field(default_factory=list)
    long_integers: dict[str, int] = field(default_factory=dict)


@dataclass
class StageResult:
    run_id: str
    path: Path
    sha256: str
    size: int
    seconds: float
    tables: list[StagedTable]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def ensure_bookkeeping(conn: psycopg.Connection) -> None:
    """Create d1pg's schemas and bookkeeping tables if missing (idempotent), and commit."""
    for name in templates_in("staging"):
        if Path(name).name[:2] < "10":
            run_script(conn, render(name))
    conn.commit()


def stage(settings: Settings, backup: Path, *, skip_tables: tuple[str, ...] = (), progress: bool | None = None,
          quiet: bool = False, input_format: str | None = None, backup_time: str | None = None) -> StageResult:
    """Stage ``backup`` (an admin backup, a SQL dump or a SQLite file: :mod:`d1pg.inputs`) into the
    database of ``settings``; return what was staged."""
    backup = Path(backup)
    reader = open_input(backup, input_format, backup_time=backup_time, work_dir=settings.home)
    try:
        url = database_url(settings)
    except BaseException:
        reader.close()
        raise
    started = time.perf_counter()
    _fixed_mmap_threshold()
    with reader, locked_connection(url) as conn:
        ensure_bookkeeping(conn)
        options = {"skip_tables": list(skip_tables), "format": reader.format, "instant": reader.instant_source}
        with audited(url, "stage", backup_path=str(backup), options=options) as audit:
            conn.execute("select set_config('d1pg.run_id', %s, false)", [str(audit.run_id)])
            interval = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL)
            try:
                tables = _load(conn, reader, set(skip_tables), progress)
                _finish(conn, tables)
                env = reader.envelope
                fields = {
                    "backup_sha256": reader.sha256,
                    "backup_size_bytes": reader.size,
                    "backup_created_at": _text(env.created_at),
                    "backup_created_by": _text(env.created_by),
                    "backup_version": _text(env.version),
                    "backup_version_name": _text(env.version_name),
                }
                conn.commit()
            except psycopg.Error as exc:
                raise DatabaseError(f"stage failed: {describe_error(exc)}") from None
            finally:
                sys.setswitchinterval(interval)
            audit.update(**fields)
            for t in tables:
                audit.log("info", "staged" if not t.skipped_reason else f"skipped ({t.skipped_reason})",
                          table=t.name, counts={"rows": t.rows, "unstorable": t.unstorable,
                                                "long_integers": t.long_integers})
                if t.long_integers:
                    audit.log("warning", "integers beyond ±2^53 (JavaScript may have rounded them): "
                              + ", ".join(f"{k}: {v}" for k, v in t.long_integers.items()), table=t.name)
            for name in sorted(set(skip_tables) - {t.name for t in tables}):
                audit.log("warning", f"--skip-table {name!r}: the backup has no such table")
            for key in reader.envelope.other_keys:
                audit.log("warning", f"top-level key {key!r} of the backup is not used")
    result = StageResult(str(audit.run_id), backup, fields["backup_sha256"], reader.size,
                         time.perf_counter() - started, tables)
    if not quiet:
        _summary(result, set(skip_tables))
    return result


def _fixed_mmap_threshold() -> None:
    """Keep glibc from raising its mmap threshold each time a large block is freed: after that, the
    reader's multi-megabyte buffers come from the heap and fragment it, and peak RSS grows with the
    file (measured: 66 -> 79 MB from 100k to 4M rows; 64 -> 70 MB with the threshold fixed).
    Elsewhere than glibc there is no mallopt and nothing to do."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD


def _text(value) -> str | None:
    return None if value is None else str(value)


def _load(conn: psycopg.Connection, reader, skip: set[str], progress: bool | None) -> list[StagedTable]:
    run_script(conn, render("staging/10_replace_staging.sql"))
    tables: list[StagedTable] = []
    total = 0
    with console.byte_progress(f"staging {reader.path.name}", reader.size, progress) as update:
        for name, rows in reader.tables():
            table = StagedTable(name)
            tables.append(table)
            if not _recordable(name):
                raise InputError(
                    f"{reader.path}: table {_shown(name)}: its name holds \\u0000 or an unpaired surrogate, which"
                    " PostgreSQL cannot store, so it can be neither staged nor recorded as skipped; nothing was staged")
            bookkeeping = mapping.skip_of(name)
            if name in skip or bookkeeping is not None and bookkeeping.code == "d1_bookkeeping":
                # by name, or D1's own tables (contract-additions §6): counted, not staged
                table.skipped_reason = "skipped_by_name" if name in skip else bookkeeping.code
                table.rows = sum(item.rows if type(item) is RowRun else 1 for item in rows)
            elif not is_plain_identifier(name):
                raise InputError(
                    f"{reader.path}: table {_shown(name)} is not a plain identifier ({PLAIN_IDENTIFIER.pattern});"
                    f" nothing was staged. To leave it behind, pass --skip-table with its exact name")
            else:
                run_script(conn, render("staging/11_staging_table.sql", table=name))
                total = _copy_rows(conn, name, rows, table, reader, update, total)
            _record(conn, table, len(tables) - 1)
            update(reader.bytes_read, f"staged {name}: {table.rows:,} rows")
            if not table.skipped_reason:
                run_script(conn, render("staging/12_staging_table_keys.sql", table=name))
                if name in reader.long_number_tables:
                    run_script(conn, render("staging/13_long_integers.sql", table=name))
                if table.unstorable:
                    run_script(conn, render("staging/14_load_rejects.sql", table=name))
    return tables


def _shown(name: str) -> str:
    """A table name for a message: whole, so it can be passed to --skip-table, unless absurdly long."""
    return repr(name) if len(name) <= 300 else f"{name[:100]!r}... ({len(name):,} characters)"


def _recordable(name: str) -> bool:
    """PostgreSQL text holds neither NUL nor a lone UTF-16 surrogate (which JSON escapes can spell)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in name


def _copy_rows(conn, name, rows, table: StagedTable, reader, update, total: int) -> int:
    """COPY the table's rows with their positions; rows rejected at load time (raw text and reason,
    no doc) are inserted in batches between COPYs."""
    columns: dict[str, None] = {}
    previous_keys = None
    target = qualified("staging", name)
    statement = psycopg.sql.SQL("copy {} (ord, doc) from stdin (format binary)").format(target)
    insert = psycopg.sql.SQL("insert into {} (ord, raw_text, load_reject, load_reason) values (%s, %s, %s, %s)"
                             ).format(target)
    items = iter(rows)
    count = 0
    more = True
    while more:
        more = False
        rejected: list[tuple[int, str, str, str]] = []
        held = 0
        pending: list[bytes] = [COPY_SIGNATURE]
        size = 0
        cursor = conn.cursor()
        with cursor.copy(statement, writer=_PipelinedWriter(cursor)) as copy:
            for item in items:
                kind = type(item)
                if kind is RowRun:
                    block, n, keys = item.data, item.rows, item.keys
                elif kind is bytes:
                    block = copy_row(count, item)
                    n, keys = 1, reader.last_keys
                else:
                    assert isinstance(item, Unstorable)
                    rejected.append((count, item.raw, item.reason_detail, item.reason))
                    held += len(item.raw)
                    count += 1
                    if held >= REJECT_BATCH_BYTES:
                        more = True
                        break
                    continue
                if keys != previous_keys:
                    previous_keys = keys
                    for k in keys:
                        columns.setdefault(k, None)
                pending.append(block)
                size += len(block)
                if size >= FLUSH_BYTES:
                    copy.write(b"".join(pending) if len(pending) > 1 else block)
                    pending.clear()
                    size = 0
                count += n
                if (total + count) // PROGRESS_EVERY != (total + count - n) // PROGRESS_EVERY:
                    update(reader.bytes_read, f"staging {name}: {count:,} rows")
            pending.append(COPY_TRAILER)
            copy.write(b"".join(pending))
        if rejected:
            cursor.executemany(insert, rejected)
            table.unstorable += len(rejected)
    table.rows = count
    table.columns = list(columns)
    return total + count


class _PipelinedWriter(LibpqWriter):
    """Hands COPY data to the server from a second thread, so Python checks the next rows while
    the server parses these (libpq waits with the GIL released). At most WRITE_QUEUE blocks wait."""

    def __init__(self, cursor: psycopg.Cursor):
        super().__init__(cursor)
        self._blocks: queue.Queue = queue.Queue(maxsize=WRITE_QUEUE)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _drain(self) -> None:
        try:
            while (block := self._blocks.get()) is not None:
                LibpqWriter.write(self, block)
        except BaseException as exc:  # handed to the main thread by write() / finish()
            self._error = exc
            while self._blocks.get() is not None:
                pass

    def write(self, data) -> None:
        if self._error is not None:
            raise self._error
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name="d1pg-copy-writer", daemon=True)
            self._thread.start()
        self._blocks.put(data)

    def finish(self, exc: BaseException | None = None) -> None:
        if self._thread is not None:
            self._blocks.put(None)
            self._thread.join()
        super().finish(exc or self._error)
        if self._error is not None:
            raise self._error


def _record(conn: psycopg.Connection, table: StagedTable, position: int) -> None:
    conn.execute(
        "insert into migration.staged_tables"
        " (table_name, stage_run_id, position, staged_rows, loaded_rows, unstorable_rows, skipped_reason, columns)"
        " values (%s, current_setting('d1pg.run_id')::uuid, %s, %s, %s, %s, %s, %s)",
        [table.name, position, table.rows, table.rows - table.unstorable if not table.skipped_reason else 0,
         table.unstorable, table.skipped_reason, Jsonb(table.columns)],
    )


def _finish(conn: psycopg.Connection, tables: list[StagedTable]) -> None:
    run_script(conn, render("staging/20_staging_views.sql"))
    for t in tables:
        if not t.skipped_reason:
            value = conn.execute("select long_integers from migration.staged_tables where table_name = %s",
                                 [t.name]).fetchone()
            t.long_integers = value[0] if value else {}


def _summary(result: StageResult, skip: set[str]) -> None:
    rows = [[t.name, t.rows, t.unstorable, t.skipped_reason or ""] for t in result.tables]
    console.show(console.table(f"Staged {result.path.name} ({result.size / 1e6:,.1f} MB)",
                             ["table", "rows", "unstorable", "skipped"], rows, right={1, 2}))
    rate = result.rows / result.seconds if result.seconds else 0
    console.say(f"{result.rows:,} rows in {len(result.tables)} tables in {result.seconds:.1f} s "
               f"({rate:,.0f} rows/s, {result.size / 1e6 / max(result.seconds, 1e-9):,.1f} MB/s); "
               f"run {result.run_id}")
    for t in result.tables:
        if t.long_integers:
            console.say(f"warning: {t.name}: integers beyond ±2^53 (JavaScript may have rounded them): "
                       + ", ".join(f"{k} ({v})" for k, v in t.long_integers.items()))
