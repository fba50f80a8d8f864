"""Value helpers of the generator: ids, timestamps in the app's shapes, tokens, REAL numbers."""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Callable
from functools import lru_cache

DAY = 86_400
# The backup is taken on 2026-01-06 (plus a seed-derived offset); all data lies before that.
NOW = 1_767_657_600  # 2026-01-06T00:00:00Z
HISTORY_DAYS = 300
CATALOG_CREATED = "2025-03-01 00:00:00"
"""When the app's SQL seeds filled the catalogs (their ``datetime('now')``)."""

JSON_TEXT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
"""JSON held as text, as ``JSON.stringify(value)`` writes it."""

# Probability mixes for timestamp shapes: cumulative thresholds (sqlite, iso, epoch ms number);
# the rest is epoch ms as a numeric string.
TS_SQLITE = (1.0, 1.0, 1.0)
TS_MOSTLY_SQLITE = (0.8, 1.0, 1.0)
TS_MIXED = (0.5, 1.0, 1.0)
TS_MOSTLY_ISO = (0.15, 1.0, 1.0)
TS_ISO = (0.0, 1.0, 1.0)
TS_EPOCH = (0.35, 0.75, 0.9)

_UUID_CLEAR = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_UUID_V4 = (0x4 << 76) | (0x2 << 62)


def uuid(bits: int) -> str:
    """A lowercase v4 UUID (``crypto.randomUUID()`` style) from 128 random bits."""
    h = "%032x" % ((bits & _UUID_CLEAR) | _UUID_V4)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@lru_cache(maxsize=16_384)
def day(d: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(d * DAY))


def sqlite(t: int) -> str:
    d, s = divmod(t, DAY)
    return f"{day(d)} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def iso(t: int, ms: int) -> str:
    d, s = divmod(t, DAY)
    return f"{day(d)}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{ms:03d}Z"


def ts(t: int, x: float, mix: tuple[float, float, float]) -> str | int:
    """Format instant ``t`` (epoch seconds) in one of the shapes of ``mix``, chosen by ``x`` in [0,1)."""
    if x < mix[0]:
        return sqlite(t)
    ms = int(x * 1_000_000) % 1000
    if x < mix[1]:
        return iso(t, ms)
    if x < mix[2]:
        return t * 1000 + ms
    return str(t * 1000 + ms)


def ts_ms(ms: int, x: float, mix: tuple[float, float, float]) -> str | int:
    """Format instant ``ms`` (epoch milliseconds) as :func:`ts` does, keeping its milliseconds."""
    t, frac = divmod(ms, 1000)
    if x < mix[0]:
        return sqlite(t)
    if x < mix[1]:
        return iso(t, frac)
    if x < mix[2]:
        return ms
    return str(ms)


def stamps(times: list[int], i: int, m: int) -> list[int]:
    """``Date.now()`` values (epoch ms) for one user's rows of one table, created at ``times``
    (epoch seconds): sorted, strictly increasing, and congruent to the user's number ``i`` modulo
    ``m`` (at least the number of users), so an id built from them (``book_<ms>``) is unique across
    the whole table without remembering any other user's ids. Each is within ``m`` ms of its time."""
    out: list[int] = []
    last = -1
    for t in sorted(times):
        b = t * 1000 // m
        if b <= last:
            b = last + 1
        last = b
        out.append(b * m + i)
    return out


def token(rng: random.Random, nbytes: int) -> str:
    """A random-looking url-safe token of about 4/3 * nbytes characters."""
    raw = rng.getrandbits(nbytes * 8).to_bytes(nbytes, "little")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def rand36(rng: random.Random, n: int = 9) -> str:
    """``Math.random().toString(36).substr(2, n)``: n base-36 characters."""
    v = rng.getrandbits(6 * n)
    return "".join(_B36[(v >> (6 * k)) % 36] for k in range(n))


def real(x: float, digits: int = 2) -> float | int:
    """A D1 REAL as JavaScript writes it: rounded to ``digits`` decimals, and an integral value as an
    integer (``JSON.stringify(60.0)`` is ``60``), so Python's JSON text equals JavaScript's."""
    v = round(x, digits)
    return int(v) if v == int(v) else v


def pick(x: Callable[[], float], seq):
    """One element of ``seq``, chosen by one draw of ``x``."""
    return seq[int(x() * len(seq))]
