"""The loader's fast path: runs of consecutive rows checked in one regular-expression match.

A backup written by ``JSON.stringify(backup, null, 2)`` (contract §1) puts every row of a table
in the same layout with, but for a few, the same keys in the same order, each value a scalar on
its own line. Once the exact reader (:mod:`d1pg.backup`) has read one such row, this module
compiles one pattern for rows of that shape: the row's layout and key list as literals, each
value a strict JSON scalar. One ``match`` call then takes as many consecutive rows as fit the
pattern, in C, with no Python work per row. A row the pattern takes is, by construction:

- complete, and a valid JSON object (strict grammar, no raw control characters in strings);
- flat (depth 1) and free of duplicate keys (its keys are the pattern's, which the exact reader
  found distinct);
- free of ``\\u`` escapes and of numbers with an exponent or 16+ integer digits, so it can hold
  neither ``\\u0000`` nor a lone surrogate, and needs no check for integers beyond ±2^53.

Anything else (a new key list, an object value, an escape, a long number, a row cut by the end of
the buffer) fails the pattern and goes to the exact reader, one row at a time, which also learns
the new key list.

A run is handed out as data for ``COPY staging.<table> (ord, doc) from stdin (format binary)``:
per row its position, and the row in jsonb's binary format, which is the version byte 1 followed
by the JSON text as the backup wrote it. The server parses and checks that text exactly as it parses jsonb text
input (same parser, same errors); binary framing only spares it the per-byte scan for
delimiters and escapes of the text and CSV formats (measured: about 20% less server CPU).
Rows are separated by ``,`` + whitespace holding a newline + ``{``, which no string can contain
(JSON strings hold no raw newline) and no flat row either, so one ``split`` finds every row
boundary and nothing else.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from itertools import count, repeat
from operator import add

RUN_BYTES = 1 << 18
"""At most this many bytes of rows per run: bounds memory, and keeps each regular-expression call
(which holds the GIL) short, so the COPY writer thread is not kept waiting."""

MAX_PATTERNS = 32
"""Patterns compiled per table; rows of further shapes take the exact reader."""
LATER_PATTERN_AFTER = 16
"""A table's first key list gets its pattern the second time the exact reader sees it; any other
only after this many rows: compiling one costs about 4 ms, the exact reader about 25 us a row."""

# A string without control characters or \u escapes; the ranges spell "anything but '"', '\\' and
# controls" (as positive ranges, sre matches about 1.4 times faster than the negated set).
_STRING = rb'"[ !#-\[\]-\xff]*+(?:\\["\\/bfnrt][ !#-\[\]-\xff]*+)*+"'
_NUMBER = rb"-?+(?:0|[1-9][0-9]{0,14}+)(?:\.[0-9]++)?+"
_VALUE = rb"(?:" + _STRING + rb"|" + _NUMBER + rb"|null|true|false)"
_LAYOUT = re.compile(rb'\{([ \n]*)"(?:[^"\\]|\\.)*"( ?+: ?+)')
_CLOSE = re.compile(rb"([ \n]*)\}\Z")
_SEPARATOR = re.compile(rb",( *+\n[ \n]*+)\Z")


COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
"""Starts binary COPY data: the signature, no flags, no header extension."""
COPY_TRAILER = struct.pack(">h", -1)
"""Ends binary COPY data."""
JSONB_VERSION = b"\x01"
# Per row: two fields; ord (8-byte bigint); the length of doc, then jsonb's version byte (and the
# '{' that the split took from every row but the first of a run).
_ROW = struct.Struct(">hiqic")
_SPLIT_ROW = struct.Struct(">hiqi2s")


def copy_row(ordinal: int, row: bytes) -> bytes:
    """One row (a JSON object's text) and its position as binary COPY data for (ord, doc)."""
    return _ROW.pack(2, 8, ordinal, len(row) + 1, JSONB_VERSION) + row


@dataclass(frozen=True)
class RowRun:
    """``rows`` consecutive rows of one shape (key list ``keys``), as binary COPY data (see above)."""

    data: bytes
    rows: int
    keys: tuple[str, ...]


class RunMatcher:
    """Learns a table's row layout and key lists from rows the exact reader accepted; matches runs."""

    def __init__(self) -> None:
        self.boundary: bytes | None = None
        self._layout: tuple[bytes, bytes, bytes] | None = None  # whitespace after '{', the colon, before '}'
        self._patterns: dict[tuple[str, ...], re.Pattern | None] = {}
        self._seen: dict[tuple[str, ...], int] = {}
        self._current: re.Pattern | None = None
        self._keys: tuple[str, ...] = ()
        self._tail = 0  # length of ',' + the whitespace between rows

    def learn_separator(self, between: bytes) -> None:
        """The bytes from a ``,`` between two rows to the next ``{`` (exclusive)."""
        if self.boundary is None:
            m = _SEPARATOR.fullmatch(b"," + between) if b"\n" in between else None
            self.boundary = b"}," + between + b"{" if m else b""
            self._tail = 1 + len(between)

    def learn_row(self, raw: bytes, doc: dict) -> None:
        """A row the exact reader accepted (valid, no duplicate key): once its key list is seen often
        enough, it gets a pattern, which becomes the current one."""
        if self._layout is None:
            self._layout = _layout_of(raw) or (b"", b"", b"")
        keys = tuple(doc)
        if keys not in self._patterns:
            seen = self._seen.get(keys, 0) + 1
            if len(self._seen) > 4 * MAX_PATTERNS:
                self._seen.clear()
            self._seen[keys] = seen
            needed = LATER_PATTERN_AFTER if self._patterns else 2
            if seen < needed or not self.boundary or not self._layout[0] or len(self._patterns) >= MAX_PATTERNS:
                return
            self._patterns[keys] = _compile(keys, self._layout, self.boundary)
        if self._patterns[keys] is not None:
            self._current = self._patterns[keys]
            self._keys = keys

    @property
    def ready(self) -> bool:
        return self._current is not None

    def match(self, buf: bytes, pos: int, endpos: int, ordinal: int) -> tuple[RowRun, int] | None:
        """The longest run of rows of one known shape starting at ``buf[pos]`` (a ``{``), each followed
        by ``,`` and the whitespace between rows, and the length of its text in ``buf``; or None.
        ``ordinal`` is the first row's position in the table. Tries the current shape, then the others."""
        m = self._current.match(buf, pos, endpos)
        if m is None:
            for keys, pattern in self._patterns.items():
                if pattern is not None and pattern is not self._current and (m := pattern.match(buf, pos, endpos)):
                    self._current, self._keys = pattern, keys
                    break
            else:
                return None
        text = buf[pos : m.end() - self._tail]
        if not text.isascii():
            try:
                text.decode("utf-8")
            except UnicodeDecodeError as exc:  # leave that row to the exact reader, which names it
                cut = text.rfind(self.boundary, 0, exc.start)
                if cut < 0:
                    return None
                text = text[: cut + 1]
        rows = text.split(self.boundary[1:])  # each row but the first loses its '{'
        rows[0] = rows[0][1:]
        data = [b""] * (2 * len(rows))
        data[0::2] = map(_SPLIT_ROW.pack, repeat(2), repeat(8), count(ordinal), map(add, map(len, rows), repeat(2)),
                         repeat(JSONB_VERSION + b"{"))
        data[1::2] = rows
        return RowRun(b"".join(data), len(rows), self._keys), len(text)


def _layout_of(raw: bytes) -> tuple[bytes, bytes, bytes] | None:
    """The whitespace of a pretty-printed flat row: after ``{`` and each ``,``; around ``:``; before ``}``.
    None unless both ends hold a newline (so the run's text can be split by plain ``replace``)."""
    head = _LAYOUT.match(raw)
    tail = _CLOSE.search(raw)
    if not head or not tail or b"\n" not in head.group(1) or b"\n" not in tail.group(1):
        return None
    return head.group(1), head.group(2), tail.group(1)


def _compile(keys: tuple[str, ...], layout: tuple[bytes, bytes, bytes], boundary: bytes) -> re.Pattern | None:
    if not keys:
        return None
    opening, colon, closing = layout
    try:
        literals = [re.escape(json.dumps(k, ensure_ascii=False).encode("utf-8")) for k in keys]
    except UnicodeEncodeError:  # a lone surrogate in a key: the exact reader handles such rows
        return None
    pairs = (b"," + re.escape(opening)).join(k + re.escape(colon) + _VALUE for k in literals)
    row = rb"\{" + re.escape(opening) + pairs + re.escape(closing) + rb"\}"
    return re.compile(rb"(?:" + row + rb"," + re.escape(boundary[2:-1]) + rb")++")
