"""The value rules of contract §3-§4 once more, in Python, for validation (§8.5).

This is deliberately a second, separate implementation: it shares no code or SQL with the
transform, only the mapping's declarations (which columns, which kinds). Each function takes a
source value as ``json.loads`` gives it (numbers with a fraction as :class:`~decimal.Decimal`)
and returns the target value, or raises :class:`Invalid` when the contract would reject it.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from d1pg.mapping import NAMESPACE_UUID

ABSENT = object()
"""A key the source row does not have (JSON null is ``None``)."""

UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TIMESTAMP_TEXT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:([ Tt])(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?([Zz]|([+-])(\d{2}):(\d{2}))?)?")
EPOCH_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
INTEGER_TEXT = re.compile(r"-?[0-9]+")
RANGES = {"integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}
EPOCH_ZERO = datetime(1970, 1, 1, tzinfo=UTC)


class Invalid(ValueError):
    """The contract rejects this value."""


_DECODER = json.JSONDecoder(parse_float=Decimal)


def parse_row(text: str) -> dict:
    """A staged row as Python values; numbers with a fraction or exponent stay exact."""
    try:
        return _DECODER.decode(text)
    except ValueError:  # an integer literal longer than Python's int parsing allows
        return json.loads(text, parse_float=Decimal, parse_int=_integer)


def _integer(text: str) -> int | Decimal:
    """An integer literal; one longer than Python's int parsing allows stays a Decimal."""
    return int(text) if len(text) < 4000 else Decimal(text)


def is_missing(value) -> bool:
    return value is ABSENT or value is None


def name_uuid(name: str) -> uuid.UUID:
    """RFC 9562 Appendix B.2: SHA-256 of namespace bytes and the UTF-8 name, version 8, variant 10."""
    digest = bytearray(hashlib.sha256(uuid.UUID(NAMESPACE_UUID).bytes + name.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    return uuid.UUID(bytes=bytes(digest))


def js_number_text(number) -> str:
    """A JSON number as JavaScript's ``String(number)`` prints it (ECMAScript Number::toString)."""
    try:
        value = float(number)
    except OverflowError:  # an integer beyond the double range (a float beyond it is already inf)
        raise Invalid("out_of_range") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise Invalid("out_of_range")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits_tuple = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(str(d) for d in digits_tuple.digits)
    k = len(digits)
    n = digits_tuple.exponent + k  # value = 0.digits * 10**n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"
    return sign + text


def scalar_text(value) -> str | None:
    """Text of a scalar: a string unchanged, a number as JavaScript prints it; None when absent."""
    if is_missing(value):
        return None
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise Invalid("invalid_text")
    if isinstance(value, (int, Decimal)):
        return js_number_text(value)
    return value


def to_id(value, prefix: str) -> uuid.UUID | None:
    """§3: a canonical UUID kept (lower case); any other non-empty id the name-based UUID of
    ``"<prefix>:<id>"`` (the prefix is the source table, or a column's declared name prefix)."""
    text = scalar_text(value)
    if text is None or text == "":
        return None
    if UUID_TEXT.fullmatch(text):
        return uuid.UUID(text.lower())
    return name_uuid(f"{prefix}:{text}")


def to_uuid(value) -> uuid.UUID | None:
    """A uuid column that is no id: a canonical UUID kept (lower case); '' is null; else invalid_id."""
    if is_missing(value) or value == "":
        return None
    if isinstance(value, str) and UUID_TEXT.fullmatch(value):
        return uuid.UUID(value.lower())
    raise Invalid("invalid_id")


def to_boolean(value) -> bool | None:
    if is_missing(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal)) and value in (0, 1):
        return value == 1
    if value in ("0", "1"):
        return value == "1"
    raise Invalid("invalid_boolean")


def to_integer(value, kind: str) -> int | None:
    if is_missing(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and INTEGER_TEXT.fullmatch(value):
        number = int(value)
    else:
        raise Invalid("invalid_integer")
    low, high = RANGES[kind]
    if not low <= number <= high:
        raise Invalid("out_of_range")
    return number


def _epoch(number: Decimal) -> datetime:
    if abs(number) >= Decimal("1e20"):
        raise Invalid("invalid_timestamp")
    micros = number * (10**6 if abs(number) < Decimal("1e11") else 10**3)
    whole = int(micros.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    try:
        return EPOCH_ZERO + timedelta(microseconds=whole)
    except OverflowError:
        raise Invalid("invalid_timestamp") from None


def to_timestamp(value) -> datetime | None:
    """The closed grammar of §4; an aware datetime in UTC."""
    if is_missing(value):
        return None
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise Invalid("invalid_timestamp")
    if isinstance(value, (int, Decimal)):
        return _epoch(Decimal(value))
    if EPOCH_TEXT.fullmatch(value):
        return _epoch(Decimal(value))
    m = TIMESTAMP_TEXT.fullmatch(value)
    if not m or (m[4] == " " and m[9] is not None):
        raise Invalid("invalid_timestamp")
    zone = UTC
    if m[10]:
        hours, minutes = int(m[11]), int(m[12])
        if hours >= 24 or minutes >= 60:
            raise Invalid("invalid_timestamp")
        offset = timedelta(hours=hours, minutes=minutes)
        zone = timezone(offset if m[10] == "+" else -offset)
    try:
        moment = datetime(int(m[1]), int(m[2]), int(m[3]), int(m[5] or 0), int(m[6] or 0), int(m[7] or 0),
                          int((m[8] or "").ljust(6, "0")), tzinfo=zone)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise Invalid("invalid_timestamp") from None


def to_date(value) -> date | None:
    try:
        moment = to_timestamp(value)
    except Invalid:
        raise Invalid("invalid_date") from None
    return None if moment is None else moment.date()


def to_json(value):
    """Text holding JSON becomes that JSON ('' becomes None); any other JSON value is kept as is."""
    if is_missing(value):
        return None
    if isinstance(value, str):
        if value == "":
            return None
        try:
            return json.loads(value, parse_float=Decimal)
        except (ValueError, InvalidOperation):
            raise Invalid("invalid_json") from None
    return value


NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
JSON_BLANKS = " \t\n\r"


def to_float(value, single: bool) -> float | None:
    """contract-additions 4.3: a JSON number, or text in the closed number grammar, read as the
    nearest double, then (``single``) rounded to the nearest float4; an infinite result, or zero
    for a number that is not zero, is out of range."""
    if is_missing(value):
        return None
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, str) and NUMBER_TEXT.fullmatch(value):
        try:
            number = Decimal(value)
        except InvalidOperation:  # an exponent beyond Decimal's: zero, or far outside every float's range
            if re.split("[eE]", value)[0].strip("-0."):
                raise Invalid("out_of_range") from None
            return -0.0 if value.startswith("-") else 0.0
    else:
        raise Invalid("invalid_number")
    try:
        double = float(number)
        result = struct.unpack("<f", struct.pack("<f", double))[0] if single else double
    except OverflowError:
        raise Invalid("out_of_range") from None
    if result in (float("inf"), float("-inf")) or result == 0 and number != 0:
        raise Invalid("out_of_range")
    return result


def to_text_list(value) -> tuple[list[str] | None, bool]:
    """contract-additions 4.2: (the list, whether it was read as a comma list)."""
    if is_missing(value):
        return None, False
    if isinstance(value, str):
        if value == "" or value.strip(JSON_BLANKS) == "null":
            return None, False
        if not value.lstrip(JSON_BLANKS).startswith("["):
            return [e.strip(JSON_BLANKS) for e in value.split(",") if e.strip(JSON_BLANKS)], True
        value = to_json(value)
    if isinstance(value, list) and all(isinstance(e, str) for e in value):
        return list(value), False
    raise Invalid("check_violation")


def to_text(value, value_map: dict | None = None) -> str | None:
    """Text unchanged (a JSON number as JavaScript prints it), after the declared value map."""
    text = scalar_text(value)
    return value_map.get(text, text) if value_map and text is not None else text


def to_key(value) -> str | None:
    """A reference to a parent's key: its text; the empty string counts as null (§3)."""
    text = scalar_text(value)
    return None if text == "" else text


def to_verified(value, created_at):
    """users.emailVerified: 1 means the row's created_at, 0 or null NULL, else an epoch or timestamp."""
    try:
        flag = to_boolean(value)
    except Invalid:
        flag = None
    if flag is None and not is_missing(value):
        return to_timestamp(value)
    return created_at if flag else None


CONVERTERS = {
    "id": lambda value, column, ctx: to_id(value, ctx.source_name),
    "ref": lambda value, column, ctx: (to_key(value) if column.is_key_ref
                                       else to_id(value, ctx.ref_sources[column.ref_table])),
    "text": lambda value, column, ctx: to_text(value, column.value_map),
    "boolean": lambda value, column, ctx: to_boolean(value),
    "integer": lambda value, column, ctx: to_integer(value, "integer"),
    "bigint": lambda value, column, ctx: to_integer(value, "bigint"),
    "timestamp": lambda value, column, ctx: to_timestamp(value),
    "date": lambda value, column, ctx: to_date(value),
    "json": lambda value, column, ctx: to_json(value),
    "text_list": lambda value, column, ctx: to_text_list(value)[0],
    "real": lambda value, column, ctx: to_float(value, single=True),
    "double": lambda value, column, ctx: to_float(value, single=False),
    "uuid": lambda value, column, ctx: to_uuid(value),
    "name_uuid": lambda value, column, ctx: to_id(value, column.name_prefix),
    "verified": lambda value, column, ctx: to_verified(value, ctx.created_at),
}
"""Each value kind of d1pg.kinds, re-implemented: ``(source value, column, context) -> target value``.
The context gives ``source_name``, ``ref_sources`` (target table -> source table) and, for
``verified``, the row's final ``created_at``."""


def source_value(doc: dict, column):
    """A column's source value in a row: its key, else its first older alias key present (read only
    when the key is absent, contract-additions 4.4), else, for derive rule alias_when, its first key
    when the second holds ``equals``; ABSENT when none is."""
    for key in (column.source, *column.aliases):
        if key in doc:
            return doc[key]
    d = column.derive
    if d is not None and d.rule == "alias_when" and doc.get(d.keys[1]) == d.equals and d.keys[0] in doc:
        return doc[d.keys[0]]
    return ABSENT


def first_line(text: str | None, size: int) -> str | None:
    """contract-additions 4.5: the text before the first LF or CR, its first ``size`` code points."""
    if text is None:
        return None
    return re.split(r"[\r\n]", text, maxsplit=1)[0][:size]


def _flag(value) -> bool:
    """A boolean a derive rule reads: true only when it is one; anything else (absent, invalid) false."""
    try:
        return to_boolean(value) is True
    except Invalid:
        return False


def _step(value) -> int:
    try:
        return to_integer(value, "integer") or 0
    except Invalid:
        return 0


def derived(column, doc: dict, own, final: dict):
    """The value of a derived column (all-tables.md G7, contract-additions 4.5), from the row ``doc``,
    the column's own converted source value ``own`` and the final values of the other columns. A rule
    beside a source key fills in when ``own`` is missing; quest_status overrides it."""
    d = column.derive
    if d.rule == "utc_date":
        moment = final.get(d.of)
        return None if moment is None else moment.astimezone(UTC).date()
    if d.rule == "copy":
        return final.get(d.of)
    if d.rule == "object":
        values = {k: scalar_text(doc[k]) for k in d.keys if k in doc and not isinstance(doc[k], (dict, list, bool))}
        values = {k: v for k, v in values.items() if v is not None}
        return values or None
    if d.rule == "purchase_status":
        return "redeemed" if final.get(d.of) is not None or _flag(doc.get(d.keys[0], ABSENT)) else "purchased"
    if d.rule == "quest_status":
        if to_boolean(doc.get(d.keys[0], ABSENT)) and own != "claimed":
            return "completed"
        return own if own is not None else column.default
    if own is not None:
        return own
    if d.rule == "source_id":
        return final.get("__source_id__")
    if d.rule == "first_line":
        return first_line(final.get(d.of), d.max)
    if d.rule == "onboarding_status":
        completed, skipped, step = (doc.get(k, ABSENT) for k in d.keys)
        return ("completed" if _flag(completed) else "skipped" if _flag(skipped)
                else "in_progress" if _step(step) > 0 else "not_started")
    return own  # id_of_key, alias_when: read through source_value
