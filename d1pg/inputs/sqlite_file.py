"""A SQLite database file: D1's local state (``.wrangler/state/v3/d1/…/*.sqlite``) or a restored copy.

It is opened read-only and immutable (``file:…?mode=ro&immutable=1``): SQLite neither writes
nor locks it, and no journal or WAL file is created or read beside it. Its rows are read as
:mod:`d1pg.inputs.sqlite_rows` describes. A gzip-compressed file is first unwrapped into a
temporary file in the work folder, removed afterwards.

The instant is ``--backup-time``, else the file's modification time.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import urllib.parse
import uuid
import zlib
from pathlib import Path

from d1pg.backup import Envelope
from d1pg.errors import InputError
from d1pg.inputs.sqlite_rows import SqliteTables, instant, prepare_for_reading

FORMAT = "sqlite"
SQLITE_MAGIC = b"SQLite format 3\x00"
HASH_BLOCK = 1 << 22


class SqliteFileInput:
    """A SQLite database file behind the input interface (see :mod:`d1pg.inputs`)."""

    format = FORMAT

    def __init__(self, path: Path | str, *, backup_time: str | None = None, work_dir: Path = Path(".d1pg")):
        self.path = Path(path)
        stat = self.path.stat()
        self.size = stat.st_size
        self._stamp = (stat.st_size, stat.st_mtime_ns)
        self.work_dir = Path(work_dir)
        created_at, self.instant_source = instant(self.path, backup_time)
        self.envelope = Envelope(created_at=created_at)
        self.long_number_tables: set[str] = set()
        self.last_keys = {}.keys()
        self.gzipped = False
        self._digest = hashlib.sha256()
        self._hashing: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._tables: SqliteTables | None = None
        self._unwrapped: Path | None = None

    # -- the interface ----------------------------------------------------------------------

    @property
    def sha256(self) -> str:
        if self._hashing is not None:
            self._hashing.join()
        return self._digest.hexdigest()

    @property
    def bytes_read(self) -> int:
        t = self._tables
        if t is None or not t.table_count:
            return 0
        return self.size * t.tables_done // t.table_count

    def tables(self):
        self._open()
        self._tables = SqliteTables(self._conn, self._describe, self.long_number_tables)
        yield from self._tables.tables()
        self._check_unchanged()

    def close(self) -> None:
        if self._hashing is not None:
            self._hashing.join()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._unwrapped is not None:
            self._unwrapped.unlink(missing_ok=True)
            self._unwrapped = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- opening ----------------------------------------------------------------------------

    def _open(self) -> None:
        with open(self.path, "rb") as f:
            head = f.read(100)
        self.gzipped = head[:2] == b"\x1f\x8b"
        if self.gzipped:
            database = self._unwrap()
        else:
            database = self.path
            self._hashing = threading.Thread(target=self._hash_file, daemon=True)
            self._hashing.start()
        with open(database, "rb") as f:
            header = f.read(100)
        if not header.startswith(SQLITE_MAGIC):
            raise InputError(f"{self.path}: not a SQLite database (it does not start with SQLite's header)")
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = int.from_bytes(header[28:32], "big")
        held = database.stat().st_size
        if pages and page_size and held < pages * page_size:
            raise InputError(f"{self.path}: the SQLite database is truncated: its header says {pages:,} pages of"
                             f" {page_size:,} bytes, the file holds {held:,} bytes")
        uri = "file:" + urllib.parse.quote(str(database.resolve())) + "?mode=ro&immutable=1"
        try:
            self._conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            prepare_for_reading(self._conn)
        except sqlite3.Error as exc:
            raise InputError(self._describe(exc)) from None

    def _unwrap(self) -> Path:
        """Decompress into the work folder (SQLite reads only real files), hashing the stored file."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._unwrapped = self.work_dir / f"input-{uuid.uuid4().hex}.sqlite"
        inflate = zlib.decompressobj(wbits=31)
        with open(self.path, "rb") as src, open(self._unwrapped, "wb") as out:
            try:
                while block := src.read(HASH_BLOCK):
                    self._digest.update(block)
                    out.write(inflate.decompress(block))
                    while inflate.eof and inflate.unused_data:
                        rest, inflate = inflate.unused_data, zlib.decompressobj(wbits=31)
                        out.write(inflate.decompress(rest))
                out.write(inflate.flush())
            except zlib.error as exc:
                raise InputError(f"{self.path}: not a valid gzip stream: {exc}") from None
            if not inflate.eof:
                raise InputError(f"{self.path}: the gzip stream is truncated")
        return self._unwrapped

    def _hash_file(self) -> None:
        with open(self.path, "rb") as f:
            while block := f.read(HASH_BLOCK):
                self._digest.update(block)

    def _check_unchanged(self) -> None:
        """immutable=1 promises SQLite the file does not change while it is read: make sure it did not."""
        stat = self.path.stat()
        if (stat.st_size, stat.st_mtime_ns) != self._stamp:
            raise InputError(f"{self.path}: the file changed while it was read (is D1 still writing it?);"
                             " stage it again, or a copy of it")

    def _describe(self, exc: Exception, table: str | None = None, row: int | None = None) -> str:
        where = f"table {table!r}, row {row}: " if table is not None else ""
        detail = str(exc) or type(exc).__name__
        if "not a database" in detail or "malformed" in detail:
            detail = f"not a readable SQLite database ({detail})"
        return f"{self.path}: {where}{detail}"
