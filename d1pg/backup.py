"""Read a D1 admin backup as a stream: the envelope, then each table's rows as raw JSON text.

The document is never held whole in memory. A small scanner walks the structure
(top-level object, the ``tables`` object, each table's array) and hands out each row's
own bytes unchanged, so the row reaches PostgreSQL exactly as the backup wrote it.
Each row is also checked on its own with the strict ``json`` parser, so a syntax error
is reported with its byte offset, table and row, and never reaches COPY.

That exact walk costs several microseconds a row. For the layout the app writes, runs of rows
of one known shape are instead taken whole by one regular-expression match (:mod:`d1pg.runs`)
and handed out as a :class:`~d1pg.runs.RowRun`; every other row still takes the exact walk.

Every problem with the file raises :class:`~d1pg.errors.InputError` with one line that
names the file, the byte offset and, inside a table, the table and row.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from d1pg.errors import InputError
from d1pg.runs import RUN_BYTES, RowRun, RunMatcher

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 22

_WS = re.compile(rb"[ \t\n\r]*")
# A complete string, or one structural character. A lone quote means "string not complete yet".
# Possessive quantifiers: an incomplete string (a long value across reads) fails at once instead of
# backtracking through every character of it.
_ROW_TOKEN = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[{}\[\]"]')
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"')
_SCALAR = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null")
# Escapes PostgreSQL's jsonb cannot hold: \u0000, and surrogates (checked for pairing below).
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_SURROGATE_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u[dD]([89abAB]|[c-fC-F])[0-9a-fA-F]{2}")
# A run of 16+ digits outside strings: a cheap hint that a table may hold integers beyond 2^53.
LONG_NUMBER_HINT = re.compile(rb"[0-9]{16,}")

MAX_DEPTH = 512
"""Rows nested deeper than this are not staged (``unstorable_text``); PostgreSQL's own limit
depends on its stack settings, so the loader enforces one that every server accepts."""

NUMERIC_MAX_INTEGER_DIGITS = 131_072
NUMERIC_MAX_SCALE = 16_383
"""What PostgreSQL's numeric (and so a jsonb number) holds: digits before the point, digits after it.
A row with a number beyond them is not staged (``unstorable_text``); JavaScript never writes one."""


class _Unholdable(Exception):
    """A number in a row that jsonb cannot hold."""


class _NotJson(Exception):
    """NaN, Infinity or -Infinity: Python's json reads them, JSON and PostgreSQL do not."""


def _not_json(literal: str):
    raise _NotJson(literal)


def _check_numeric(literal: str) -> None:
    try:
        sign, digits, exponent = Decimal(literal).as_tuple()
        holdable = -exponent <= NUMERIC_MAX_SCALE and (
            not any(digits) or len(digits) + exponent <= NUMERIC_MAX_INTEGER_DIGITS)
    except (ArithmeticError, ValueError, TypeError):
        holdable = False
    if not holdable:
        raise _Unholdable(literal)


def _float(literal: str) -> float:
    """Only the row's keys are kept from the check, so values need not be built; a float literal
    long enough or with an exponent is checked against numeric's limits."""
    if len(literal) > 24 or "e" in literal or "E" in literal:
        _check_numeric(literal)
    return 0.0


def _int(literal: str) -> int:
    if len(literal) > NUMERIC_MAX_INTEGER_DIGITS:
        _check_numeric(literal)
    return 0




UNSTORABLE_TEXT = "unstorable_text"
DUPLICATE_KEY_IN_ROW = "duplicate_key_in_row"


@dataclass
class Unstorable:
    """A row PostgreSQL cannot hold as jsonb without loss: rejected at load time with its raw JSON
    text. ``reason`` is ``unstorable_text``, or ``duplicate_key_in_row`` for an object (at any depth)
    that names one key twice: jsonb would silently keep only the last value."""

    reason_detail: str
    raw: str
    reason: str = UNSTORABLE_TEXT


@dataclass
class Envelope:
    """The backup's top-level fields other than ``tables``."""

    version: object = None
    version_name: object = None
    created_at: object = None
    created_by: object = None
    other_keys: list[str] = field(default_factory=list)


class _Source:
    """A binary stream that counts and hashes what it reads; gzip detected by magic bytes."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.raw = open(path, "rb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise InputError(f"{path}: cannot open: {exc.strerror}") from None
        self.size = path.stat().st_size
        self._sha256 = hashlib.sha256()
        self._hashing: threading.Thread | None = None
        self.compressed_read = 0
        head = self.raw.read(2)
        self.raw.seek(0)
        self.gzipped = head == GZIP_MAGIC
        self._inflate = zlib.decompressobj(wbits=31) if self.gzipped else None
        self.eof = False

    def read(self, n: int) -> bytes:
        while True:
            block = self.raw.read(n)
            self.compressed_read += len(block)
            self._hash(block)
            if self._inflate is None:
                if not block:
                    self.eof = True
                return block
            try:
                if not block:
                    out = self._inflate.flush()
                    self.eof = True
                    if not self._inflate.eof:
                        raise InputError(f"{self.path}: the gzip stream is truncated")
                    return out
                out = self._inflate.decompress(block)
                if self._inflate.eof and self._inflate.unused_data:
                    # A second gzip member: continue with a fresh decompressor.
                    rest = self._inflate.unused_data
                    self._inflate = zlib.decompressobj(wbits=31)
                    out += self._inflate.decompress(rest)
            except zlib.error as exc:
                raise InputError(f"{self.path}: not a valid gzip stream: {exc}") from None
            if out:
                return out

    def _hash(self, block: bytes) -> None:
        """Hash in a second thread (hashlib releases the GIL), one block at a time, in order."""
        if self._hashing is not None:
            self._hashing.join()
        self._hashing = threading.Thread(target=self._sha256.update, args=(block,), daemon=True)
        self._hashing.start()

    @property
    def sha256(self):
        """The SHA-256 of what was read so far."""
        if self._hashing is not None:
            self._hashing.join()
        return self._sha256

    def close(self) -> None:
        self.raw.close()


class BackupReader:
    """Walk a backup file: ``for name, rows in reader.tables(): for row in rows: ...``.

    ``rows`` yields ``bytes`` (the row's raw JSON object), :class:`Unstorable`, and with
    ``fast=True`` also :class:`~d1pg.runs.RowRun`: consecutive rows checked all at once.
    After the walk, ``envelope``, ``sha256`` and ``size`` are complete.
    """

    def __init__(self, path: Path | str, *, fast: bool = False):
        self.path = Path(path)
        self._src = _Source(self.path)
        self.envelope = Envelope()
        self.long_number_tables: set[str] = set()
        self.last_keys = {}.keys()  # the keys of the last row handed out
        self.fast = fast
        self._decoder = json.JSONDecoder(object_pairs_hook=self._object, parse_constant=_not_json,
                                         parse_float=_float)
        # For rows with an integer longer than Python converts by default (sys.get_int_max_str_digits()).
        self._long_integer_decoder = json.JSONDecoder(object_pairs_hook=self._object, parse_constant=_not_json,
                                                      parse_float=_float, parse_int=_int)
        self._duplicate: str | None = None
        self._buf = b""
        self._pos = 0
        self._base = 0  # offset (in the decompressed document) of _buf[0]

    # -- public ---------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self._src.size

    @property
    def bytes_read(self) -> int:
        return self._src.compressed_read

    @property
    def sha256(self) -> str:
        return self._src.sha256.hexdigest()

    @property
    def gzipped(self) -> bool:
        return self._src.gzipped

    def close(self) -> None:
        self._src.close()

    def __enter__(self) -> BackupReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def tables(self) -> Iterator[tuple[str, Iterator[bytes | Unstorable | RowRun]]]:
        """Yield ``(table name, rows)`` in file order; each ``rows`` must be consumed before the next."""
        self._expect(b"{", "the backup must be a JSON object with a 'tables' object")
        seen_tables = False
        first = True
        while True:
            key = self._key_or_end("the backup's top-level object", first)
            first = False
            if key is None:
                break
            if key == "tables":
                if seen_tables:
                    self._fail("the top-level key 'tables' appears twice")
                seen_tables = True
                c = self._peek()
                if c != b"{":
                    self._fail(f"'tables' must be an object of arrays, found {self._describe(c)}")
                self._pos += 1
                yield from self._tables_object()
            else:
                self._envelope_value(key)
        self._skip_ws()
        if self._more():
            self._fail("unexpected data after the end of the backup's top-level object")
        if not seen_tables:
            self._fail("the backup has no 'tables' object")

    # -- structure --------------------------------------------------------------------------

    def _tables_object(self) -> Iterator[tuple[str, Iterator[bytes | Unstorable | RowRun]]]:
        names: set[str] = set()
        first = True
        while True:
            name = self._key_or_end("the 'tables' object", first)
            first = False
            if name is None:
                return
            if name in names:
                self._fail(f"table {name!r} appears twice in 'tables'")
            names.add(name)
            c = self._peek()
            if c != b"[":
                self._fail(f"table {name!r} must be an array of row objects, found {self._describe(c)}")
            self._pos += 1
            rows = self._rows(name)
            yield name, rows
            for _ in rows:  # the caller may stop early (e.g. a skipped table): drain it
                pass

    def _rows(self, table: str) -> Iterator[bytes | Unstorable | RowRun]:
        ordinal = 0
        self._skip_ws()
        if self._peek() == b"]":
            self._pos += 1
            return
        runs = RunMatcher() if self.fast else None
        while True:
            self._skip_ws()
            c = self._peek()
            if c != b"{":
                self._fail(f"table {table!r}, row {ordinal}: a row must be an object, found {self._describe(c)}")
            run = self._run(runs, ordinal) if runs is not None and runs.ready else None
            if run is not None:
                yield run
                ordinal += run.rows
            else:
                row = self._row(table, ordinal)
                if runs is not None and type(row) is bytes:
                    runs.learn_row(row, self.last_keys.mapping)
                yield row
                ordinal += 1
            self._skip_ws()
            c = self._peek()
            self._pos += 1
            if c == b"]":
                return
            if c != b",":
                self._pos -= 1
                self._fail(f"table {table!r}, after row {ordinal - 1}: expected ',' or ']', found {self._describe(c)}")
            if runs is not None and runs.boundary is None:
                start, base = self._pos, self._base
                self._skip_ws()
                if base == self._base:
                    runs.learn_separator(self._buf[start:self._pos])

    def _run(self, runs: RunMatcher, ordinal: int) -> RowRun | None:
        """Rows of the table's current shape taken whole from the buffer (at least one), or None."""
        if len(self._buf) - self._pos < RUN_BYTES:
            self._refill(keep_from=self._pos)
        found = runs.match(self._buf, self._pos, min(len(self._buf), self._pos + RUN_BYTES), ordinal)
        if found is None:
            return None
        self._pos += found[1]
        return found[0]

    def _row(self, table: str, ordinal: int) -> bytes | Unstorable:
        start, end, max_depth = self._scan_value(f"table {table!r}, row {ordinal}: the file ends inside this row")
        return self._finish_row(table, ordinal, start, end, max_depth)

    def _scan_value(self, truncated: str) -> tuple[int, int, int]:
        """Find the end of the object or array at the current position, reading more as needed.
        Returns its (start, end) in the buffer and its nesting depth; the position moves past it."""
        start = self._pos
        depth = 0
        max_depth = 0
        scan = start
        while True:
            for m in _ROW_TOKEN.finditer(self._buf, scan):
                ch = m.group()[:1]
                if ch == b"{" or ch == b"[":
                    depth += 1
                    if depth > max_depth:
                        max_depth = depth
                elif ch == b"}" or ch == b"]":
                    depth -= 1
                    if depth == 0:
                        self._pos = m.end()
                        return start, m.end(), max_depth
                elif m.end() - m.start() == 1:  # a lone quote: the string is not complete yet
                    scan = m.start()
                    break
                scan = m.end()
            else:
                scan = len(self._buf)
            # Need more bytes: keep the value's start in the buffer.
            if not self._refill(keep_from=start):
                self._pos = len(self._buf)
                self._fail(f"{truncated} (truncated?)")
            scan -= start
            start = 0

    def _finish_row(self, table: str, ordinal: int, start: int, end: int, max_depth: int) -> bytes | Unstorable:
        row = self._buf[start:end]
        try:
            text = row.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._fail_at(self._base + start + exc.start,
                          f"table {table!r}, row {ordinal}: invalid UTF-8 ({exc.reason})")
        if max_depth > MAX_DEPTH:
            return Unstorable(f"nested {max_depth} levels deep (limit {MAX_DEPTH})",
                              _ascii_excerpt(text))
        self._duplicate = None
        try:
            try:
                self.last_keys = self._decoder.decode(text).keys()
            except ValueError as exc:
                if isinstance(exc, json.JSONDecodeError):
                    raise
                self._duplicate = None
                self.last_keys = self._long_integer_decoder.decode(text).keys()
        except json.JSONDecodeError as exc:
            self._fail_at(self._base + start + len(text[: exc.pos].encode()),
                          f"table {table!r}, row {ordinal}: not valid JSON ({exc.msg})")
        except _NotJson as exc:
            self._fail_at(self._base + start, f"table {table!r}, row {ordinal}: not valid JSON ({exc} is not a JSON"
                          " value; JSON.stringify writes null)")
        except _Unholdable as exc:
            return Unstorable(f"a number beyond what PostgreSQL's numeric holds ({_ascii_excerpt(str(exc), 40)})",
                              text)
        except RecursionError:
            return Unstorable(f"nested too deep (limit {MAX_DEPTH})", _ascii_excerpt(text))
        if b"\\u" in row:  # plain substring tests first: the regular expressions are slow on long rows
            if b"\\u0000" in row and _NUL_ESCAPE.search(row):
                return Unstorable("a string holds \\u0000", text)
            if (b"\\ud" in row or b"\\uD" in row) and _unpaired_surrogate(row):
                return Unstorable("a string holds an unpaired UTF-16 surrogate", text)
        if self._duplicate is not None:
            return Unstorable(f"an object names the key {self._duplicate!r} more than once", text,
                              DUPLICATE_KEY_IN_ROW)
        if (table not in self.long_number_tables and LONG_NUMBER_HINT.search(row)
                and LONG_NUMBER_HINT.search(_STRING.sub(b'""', row))):  # a number's digits, not a string's
            self.long_number_tables.add(table)
        return row

    def _object(self, pairs: list[tuple[str, object]]) -> dict:
        """Build each object of a row, noting the first key named twice (jsonb would keep the last)."""
        obj = dict(pairs)
        if len(obj) != len(pairs) and self._duplicate is None:
            seen: set[str] = set()
            self._duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))
        return obj

    def _envelope_value(self, key: str) -> None:
        self._skip_ws()
        c = self._peek()
        if c in (b"{", b"["):
            self.envelope.other_keys.append(key)
            self._skip_value()
            return
        value = self._scalar(f"the top-level key {key!r}")
        target = {"version": "version", "versionName": "version_name",
                  "createdAt": "created_at", "createdBy": "created_by"}.get(key)
        if target:
            setattr(self.envelope, target, value)
        else:
            self.envelope.other_keys.append(key)

    def _skip_value(self) -> None:
        self._scan_value("the file ends inside a top-level value")

    # -- tokens -----------------------------------------------------------------------------

    def _key_or_end(self, where: str, first: bool) -> str | None:
        """After '{' (first) or a value: a key followed by ':' (returned), or '}' (None)."""
        self._skip_ws()
        c = self._peek()
        if c == b"}":
            self._pos += 1
            return None
        if not first:
            if c != b",":
                self._fail(f"in {where}: expected ',' or '}}', found {self._describe(c)}")
            self._pos += 1
            self._skip_ws()
            c = self._peek()
        if c != b'"':
            self._fail(f"in {where}: expected a key in double quotes, found {self._describe(c)}")
        key = self._string(where)
        self._skip_ws()
        if self._peek() != b":":
            self._fail(f"in {where}: expected ':' after the key {key!r}")
        self._pos += 1
        self._skip_ws()
        return key

    def _string(self, where: str) -> str:
        while True:
            m = _STRING.match(self._buf, self._pos)
            if m:
                break
            if not self._refill(keep_from=self._pos):
                self._fail(f"in {where}: the file ends inside a string (truncated?)")
        raw = m.group()
        self._pos = m.end()
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self._fail(f"in {where}: invalid string ({exc})")

    def _scalar(self, where: str) -> object:
        c = self._peek()
        if c == b'"':
            return self._string(where)
        while True:
            m = _SCALAR.match(self._buf, self._pos)
            if m and (m.end() < len(self._buf) or self._src.eof):
                break
            if not self._refill(keep_from=self._pos):
                if m:
                    break
                self._fail(f"in {where}: expected a value, found {self._describe(c)}")
        self._pos = m.end()
        try:
            return json.loads(m.group())
        except ValueError:  # an integer longer than Python converts by default: keep its JSON text
            return m.group().decode()

    def _expect(self, token: bytes, message: str) -> None:
        self._skip_ws()
        if self._peek() != token:
            if self._base == 0 and self._pos == 0 and self._buf[:3] == b"\xef\xbb\xbf":
                self._fail("the file starts with a UTF-8 byte order mark; JSON.stringify output never does")
            if self._base == 0 and not self._buf:
                self._fail("the file is empty" + (" once decompressed" if self.gzipped else ""))
            self._fail(message + f", found {self._describe(self._peek())}")
        self._pos += 1

    def _skip_ws(self) -> None:
        while True:
            m = _WS.match(self._buf, self._pos)
            self._pos = m.end()
            if self._pos < len(self._buf) or not self._refill(keep_from=self._pos):
                return

    def _peek(self) -> bytes:
        if self._pos >= len(self._buf) and not self._refill(keep_from=self._pos):
            return b""
        return self._buf[self._pos : self._pos + 1]

    def _more(self) -> bool:
        return self._pos < len(self._buf) or self._refill(keep_from=self._pos)

    def _refill(self, keep_from: int) -> bool:
        """Read more: drop what is before ``keep_from``; False at end of file."""
        if self._src.eof:
            return False
        need = max(CHUNK, len(self._buf) - keep_from)  # grow for very long values
        block = self._src.read(need)
        if not block:
            return False
        self._base += keep_from
        self._pos -= keep_from
        self._buf = self._buf[keep_from:] + block
        return True

    def _describe(self, c: bytes) -> str:
        if not c:
            return "the end of the file (truncated?)"
        names = {b"[": "an array", b"{": "an object", b'"': "a string"}
        if c in names:
            return names[c]
        for literal in (b"true", b"false", b"null"):
            if c == literal[:1] and self._buf.startswith(literal, self._pos):
                return literal.decode()
        if c in b"-0123456789":
            return "a number"
        return f"{c.decode('latin-1')!r}"

    def _fail(self, message: str):
        self._fail_at(self._base + self._pos, message)

    def _fail_at(self, offset: int, message: str):
        where = "decompressed byte" if self.gzipped else "byte"
        raise InputError(f"{self.path}: {where} {offset}: {message}")


def _unpaired_surrogate(row: bytes) -> bool:
    """True if a \\uD800-\\uDFFF escape is not part of a high+low pair."""
    expect_low_at = -1
    for m in _SURROGATE_ESCAPE.finditer(row):
        at = m.start() + len(m.group(1))
        high = m.group(2) in b"89abAB"
        if high:
            if expect_low_at != -1:
                return True
            expect_low_at = at + 6
        else:
            if at != expect_low_at:
                return True
            expect_low_at = -1
    return expect_low_at != -1


def _ascii_excerpt(text: str, limit: int = 10_000) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"

