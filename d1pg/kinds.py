"""The value kinds a declared column can have: one registry entry each.

A kind says how a source value becomes a target value (contract §3-§4). It lives in three
places, one entry in each, and ``tests/test_declarations.py`` checks that they agree:

- here: its PostgreSQL type and what it accepts, in words;
- ``templates/convert.sql``: its SQL conversion (the branch ``column.kind == '<kind>'`` of
  ``convert_base``) and its reject reasons (``conversion_error``);
- ``d1pg/fidelity.py``: its independent Python re-implementation (``fidelity.CONVERTERS``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    sql_type: str  # the PostgreSQL type of its target column, as information_schema names it
    ddl_type: str  # the same type as the DDL writes it
    accepts: str


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("id", "uuid", "uuid",
         "the row's id: a canonical UUID is kept (lower-cased), any other non-empty id becomes the "
         "name-based UUID of '<source table>:<old id>' (§3); the table's primary key"),
    Kind("ref", "uuid", "uuid",
         "a reference to a parent's id, by the same rule against the parent's source table; a reference "
         "to a parent's key (references.column other than id) is text, matched exactly"),
    Kind("text", "text", "text", "any string, unchanged; a JSON number becomes its JavaScript text"),
    Kind("boolean", "boolean", "boolean", "0, 1, \"0\", \"1\", true, false"),
    Kind("integer", "integer", "integer", "JSON integers and strings matching ^-?[0-9]+$, in range"),
    Kind("bigint", "bigint", "bigint", "JSON integers and strings matching ^-?[0-9]+$, in range"),
    Kind("timestamp", "timestamp with time zone", "timestamptz", "the closed timestamp grammar of §4"),
    Kind("date", "date", "date", "YYYY-MM-DD, or any accepted timestamp (its UTC date)"),
    Kind("json", "jsonb", "jsonb", "text holding JSON (the empty string is NULL), or a JSON value"),
    Kind("text_list", "ARRAY", "text[]",
         "text holding a JSON array of strings (kept as is, in order), any other text a comma list (split on ',', "
         "elements trimmed, empty ones dropped); the empty string or JSON null is NULL (contract-additions 4.2)"),
    Kind("real", "real", "real",
         "a JSON number or text matching ^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$, read as a double and rounded "
         "to float4 (contract-additions 4.3)"),
    Kind("double", "double precision", "double precision",
         "as real, without the float4 rounding (contract-additions 4.3)"),
    Kind("uuid", "uuid", "uuid",
         "a canonical UUID, kept (lower-cased); any other non-empty value is rejected invalid_id (a uuid "
         "column that is no id and refers to nothing)"),
    Kind("name_uuid", "uuid", "uuid",
         "a UUID is kept; any other non-empty value becomes the name-based UUID of "
         "'<name_prefix>:<value>', recorded in migration.id_map under name_prefix"),
    Kind("verified", "timestamp with time zone", "timestamptz",
         "users.emailVerified: 1 is the row's created_at, 0 or null NULL, an epoch or timestamp text "
         "that instant"),
)}

KEY_REF_TYPE = ("text", "text")
"""A reference to a parent's key (not its id) is text (core-tables.md: skill_key, achievement_key)."""

CLOCK_DEFAULTS = frozenset({"now()", "current_date", "gen_random_uuid()"})
"""The defaults that read the clock or make a value (declared as ``default_sql``, written so in the
DDL). d1pg never lets the server use one of them for a migrated value (contract-additions §0)."""
