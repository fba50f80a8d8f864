"""Names that may reach SQL: the one test of a plain identifier, quoting, and the two Jinja
filters that put declared names (``ident``) and declared metadata (``literal``) into templates.

A leaf module: it imports nothing of d1pg.
"""

from __future__ import annotations

import math
import re

PLAIN_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def is_plain_identifier(name: str) -> bool:
    """A name that needs no quoting in PostgreSQL and cannot be truncated: ``^[a-z_][a-z0-9_]{0,62}$``."""
    return isinstance(name, str) and bool(PLAIN_IDENTIFIER.match(name))


def quote_ident(name: str) -> str:
    """Quote one identifier, PostgreSQL style. Refuses names PostgreSQL would truncate or cannot hold."""
    if not isinstance(name, str) or not name or "\x00" in name or len(name.encode()) > 63:
        raise ValueError(f"not a usable identifier: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def ident(name: str) -> str:
    """Jinja filter: a validated mapping name, quoted. ``users`` -> ``users``; anything else fails."""
    if not is_plain_identifier(name):
        raise ValueError(f"identifier from a mapping must match {PLAIN_IDENTIFIER.pattern}: {name!r}")
    return name if name not in _RESERVED else quote_ident(name)


def literal(value: str | int | float | bool | None) -> str:
    """Jinja filter: static mapping metadata (a column name, a type name) as a SQL literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError(f"not a literal: {value!r}")
    return "'" + value.replace("'", "''") + "'"


# Reserved words that a plain identifier may still collide with; quoted when used.
_RESERVED = frozenset(
    """all analyse analyze and any array as asc asymmetric both case cast check collate column
    constraint create current_catalog current_date current_role current_time current_timestamp
    current_user default deferrable desc distinct do else end except false fetch for foreign from
    grant group having in initially intersect into lateral leading limit localtime localtimestamp
    not null offset on only or order placing primary references returning select session_user
    some symmetric system_user table then to trailing true union unique user using variadic when
    where window with authorization binary collation concurrently cross current_schema freeze
    full ilike inner is isnull join left like natural notnull outer overlaps right similar tablesample
    verbose""".split()
)
