"""The declarations: how each D1 source table becomes a PostgreSQL target table.

Every table fact is declared once, in one TOML file per source table under ``d1pg/tables/``
(``users.toml`` for D1 ``users``); the tables left behind on purpose share
``d1pg/tables/skipped-tables.toml``. This module loads and checks them once and gives the rest of
d1pg the resolved model: :class:`Source` (what is read and how it is converted) and
:class:`Table` (the target table: columns in the app's order, keys, references, indexes). The
SQL templates, the DDL, the target check, validate, value fidelity, the reports and gen-backup
all read these objects; nothing else states a table fact. The insert order is derived from the
declared references. ``docs/declarations.md`` describes the file format.

A bad declaration stops everything with one line naming the file and the key.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from d1pg.errors import D1pgError
from d1pg.identifiers import is_plain_identifier, literal
from d1pg.kinds import CLOCK_DEFAULTS, KEY_REF_TYPE, KINDS

TABLES_DIR = Path(__file__).resolve().parent / "tables"
SKIPPED_FILE = "skipped-tables.toml"

NAMESPACE_UUID = "6a061f31-e1f2-448f-9265-d3177f1d5d19"
"""The namespace of every name-based UUID d1pg makes (contract §3, RFC 9562 Appendix B.2)."""

SOURCE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

WORK_COLUMNS = {"ord", "source_id", "run_id", "bucket", "bucket_reason", "reject_column", "raw_value",
                "orphan_column", "first_failure", "checked_references", "checked_eligibility", "checked_keys"}
WORK_PREFIXES = ("raw_", "final_", "failure_", "missing_", "nulled_", "key_eligible_", "duplicate_key_", "rawkey_",
                 "alias_read_", "derived_", "old_value_", "converted_")
"""Column names of the transform's work tables; no target column may use them."""

SECRET_KEYS = frozenset({"access_token", "refresh_token", "id_token", "session_state", "sessionToken", "token"})
"""Source keys whose values never appear in logs, reports or messages (contract §9), in any table
and inside JSON text; a declared column adds its own with ``secret = true``."""

ON_DELETE = {"cascade": "c", "set null": "n", "no action": "a", "restrict": "r"}
"""The ON DELETE actions a reference may declare, with pg_constraint.confdeltype's letter."""

@dataclass(frozen=True)
class DeriveRule:
    text: str  # the rule in words, as the report names it
    of: bool = False  # needs ``of``: the target column it is computed from
    keys: int = 0  # needs ``keys``: this many source keys (-1: one or more)
    max: bool = False  # needs ``max``: a length in characters
    equals: bool = False  # needs ``equals``: a text the second key's value is compared with
    sourced: bool = True  # may stand beside a source key (the derived value fills in when it is missing)


DERIVE_RULES = {
    "utc_date": DeriveRule("the UTC date of {of}", of=True, sourced=False),
    "copy": DeriveRule("a copy of {of}", of=True, sourced=False),
    "source_id": DeriveRule("the row's source id, as text"),
    "first_line": DeriveRule("the first line of {of}, cut to {max} characters", of=True, max=True),
    "object": DeriveRule("an object of the non-null {keys}", keys=-1, sourced=False),
    "purchase_status": DeriveRule("'redeemed' when {of} is set or {keys} is true, else 'purchased'", of=True,
                                  keys=1, sourced=False),
    "quest_status": DeriveRule("'completed' when {keys} is true and the status is not 'claimed'", keys=1),
    "onboarding_status": DeriveRule("from {keys}: 'completed', 'skipped', 'in_progress' or 'not_started'",
                                    keys=3),
    "id_of_key": DeriveRule("section 3's id of {keys} when the row has no id key", keys=1),
    "alias_when": DeriveRule("{first} when {second} is {equals}", keys=2, equals=True),
}
"""Derived values (all-tables.md G7, contract-additions 4.5). A rule beside a source key fills in the
value when the source's is missing (null or absent); ``quest_status`` overrides it as its rule says;
``id_of_key`` reads its key when the row has no id key. Each rule has one SQL macro in
``templates/derive.sql`` and one Python function in ``d1pg/fidelity.py`` (``DERIVED``)."""


class DeclarationError(D1pgError):
    """A declaration file is wrong: exit code 2, one line naming the file and the key."""

    exit_code = 2


@dataclass(frozen=True)
class Derive:
    rule: str  # one of DERIVE_RULES
    of: str | None = None  # the target column it is computed from
    keys: tuple[str, ...] = ()  # the source keys it reads
    max: int | None = None
    equals: str | None = None

    @property
    def text(self) -> str:
        first, second = (*self.keys, None, None)[:2]
        return DERIVE_RULES[self.rule].text.format(of=self.of, keys=", ".join(self.keys), first=first, second=second,
                                                   max=self.max, equals=repr(self.equals))


@dataclass(frozen=True)
class Column:
    target: str
    kind: str
    source: str | None = None  # the D1 key; None: no source column (derived, a default, or NULL)
    aliases: tuple[str, ...] = ()  # older keys read when ``source`` is absent from a row
    not_null: bool = False
    default: object = None  # a constant DEFAULT of the target column
    default_sql: str | None = None  # a DEFAULT that reads the clock or makes a value (kinds.CLOCK_DEFAULTS)
    allowed: tuple | None = None  # CHECK (column IN (...))
    between: tuple[int, int] | None = None  # CHECK (column >= lo AND column <= hi)
    check_null: bool = False  # the CHECK is written "column IS NULL OR (...)", as the app's file writes it
    at_least: int | None = None  # CHECK (column >= n)
    value_map: dict | None = None  # applied before the check
    ref_table: str | None = None  # parent target table
    ref_column: str = "id"
    on_delete: str | None = None  # the reference's ON DELETE action (ON_DELETE)
    foreign_key: bool = True  # false: the target column has no FK; the value is still translated and checked
    derive: Derive | None = None
    name_prefix: str | None = None  # for kind name_uuid
    secret: bool = False
    primary_key: bool = False
    holds_old_ids: bool = False  # the values embed ids of other rows, which are not rewritten (G8)

    @property
    def sql_type(self) -> str:
        """The type as information_schema.columns.data_type names it."""
        return KEY_REF_TYPE[0] if self.is_key_ref else KINDS[self.kind].sql_type

    @property
    def ddl_type(self) -> str:
        return KEY_REF_TYPE[1] if self.is_key_ref else KINDS[self.kind].ddl_type

    @property
    def is_key_ref(self) -> bool:
        return self.kind == "ref" and self.ref_column != "id"

    @property
    def on_missing(self) -> str:
        """What a reference to a parent that is not migrated does (contract §5, additions 5.1):
        ``skip`` (the row is an orphan) for a NOT NULL or an ON DELETE CASCADE reference, else
        ``null`` (the value is set to NULL and logged as nulled)."""
        return "skip" if self.not_null or self.on_delete == "cascade" else "null"

    @property
    def clock_fill(self) -> bool:
        """A ``now()`` default: a missing value takes the deterministic fill of §4, never the clock."""
        return self.default_sql == "now()"


@dataclass(frozen=True)
class Unique:
    columns: tuple[str, ...]
    order_by: tuple[str, ...] = ()  # which duplicate is kept: these columns ("col" or "col desc"), then backup order
    warn_case_insensitive: bool = False
    index: str | None = None  # the target enforces it with this unique index, not a UNIQUE constraint

    @property
    def ordering(self) -> list[tuple[str, bool]]:
        """``order_by`` as (column, descending) pairs."""
        return [(o.split()[0], o.endswith(" desc")) for o in self.order_by]


@dataclass(frozen=True)
class Index:
    columns: tuple[str, ...]  # column names, each optionally followed by " desc"; none for a search index
    name: str | None = None
    where: tuple[tuple[str, str], ...] = ()  # ANDed (column, "= true" | "= false" | "is not null" | "= '<text>'")
    search: tuple[str, tuple[str, ...]] | None = None  # GIN full-text: (text search config, columns joined by ' ')

    @property
    def column_names(self) -> list[str]:
        return [c.split()[0] for c in self.columns]


@dataclass(frozen=True)
class Table:
    """A target table as the app's schema defines it (contract-additions §0)."""

    name: str
    columns: tuple[Column, ...]
    unique: tuple[Unique, ...] = ()
    indexes: tuple[Index, ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.target == name)

    @property
    def primary_key(self) -> Column:
        return next(c for c in self.columns if c.primary_key)

    @property
    def refs(self) -> list[Column]:
        return [c for c in self.columns if c.ref_table]


@dataclass(frozen=True)
class Source:
    """One D1 table. ``target`` is its PostgreSQL table; None for the sources of the progress merge,
    whose target tables are declared as their ``merge_target``."""

    name: str
    target: str | None
    columns: tuple[Column, ...]
    unique: tuple[Unique, ...] = ()
    merge: str | None = None
    table: Table | None = None  # the target table this file declares (its own, or its merge target)
    proposed: bool = False  # the app's schema has no such table: d1pg ships its DDL (contract-additions §0)
    unmapped: tuple[tuple[str, str], ...] = ()  # source keys no column reads, known and said in words
    loss: str | None = None  # what the table loses, in words, for the report
    path: Path | None = field(default=None, compare=False)
    sha256: str | None = field(default=None, compare=False)

    def column(self, target: str) -> Column:
        return next(c for c in self.columns if c.target == target)

    @property
    def id_column(self) -> Column:
        return next(c for c in self.columns if c.kind == "id")

    @property
    def refs(self) -> list[Column]:
        """The references a row's value is read for (a reference without a source is always NULL)."""
        return [c for c in self.columns if c.kind == "ref" and c.source]

    @property
    def parents(self) -> set[str]:
        return {c.ref_table for c in self.refs if c.ref_table != self.target}

    def key_reads(self) -> dict[str, list[tuple]]:
        """Each source key a column reads, with when a row's key is read (contract-additions 4.4):
        ``[]`` always; else any of ``("absent", keys)`` (read when none of ``keys`` is in the row: an
        alias) or ``("absent_when", keys, key, equals)`` (alias_when). A key present in a row where it
        is not read is an unmapped value."""
        reads: dict[str, list[tuple] | None] = {}

        def read(key: str, condition: tuple | None) -> None:
            if reads.get(key, ()) is None:
                return
            reads[key] = None if condition is None else [*reads.get(key, []), condition]

        for c in self.columns:
            if c.source:
                read(c.source, None)
            before = [c.source] if c.source else []
            for alias in c.aliases:
                read(alias, ("absent", tuple(before)))
                before.append(alias)
            if c.derive and c.derive.rule == "alias_when":
                read(c.derive.keys[0], ("absent_when", tuple(before), c.derive.keys[1], c.derive.equals))
            elif c.derive and c.derive.rule != "id_of_key":
                for key in c.derive.keys:
                    read(key, None)
        return {k: v or [] for k, v in reads.items()}

    @property
    def derive_keys(self) -> list[str]:
        """The source keys derive rules read beside the columns' own (object, status rules)."""
        out: list[str] = []
        for c in self.columns:
            if c.derive and c.derive.rule not in ("id_of_key", "alias_when"):
                out += [k for k in c.derive.keys if k not in out]
        return out

    @property
    def self_refs(self) -> list[Column]:
        """References to the table's own rows (resolved to a fixed point, contract-additions 5.1)."""
        return [c for c in self.refs if c.ref_table == self.target]


@dataclass(frozen=True)
class Skipped:
    name: str  # a table name, or a prefix followed by * ("_cf_*")
    code: str
    reason: str

    @property
    def prefix(self) -> str | None:
        return self.name[:-1] if self.name.endswith("*") else None

    def matches(self, table: str) -> bool:
        return table.startswith(self.prefix) if self.prefix is not None else table == self.name


# ---------------------------------------------------------------------------------------------
# Loading

_COLUMN_KEYS = {"name", "kind", "source", "aliases", "not_null", "default", "default_sql", "allowed", "between",
                "value_map", "references", "derive", "name_prefix", "secret", "primary_key", "holds_old_ids",
                "check_null", "at_least"}
_TABLE_KEYS = {"target", "merge", "columns", "unique", "indexes", "merge_target", "description", "proposed",
               "unmapped", "loss"}
_MERGE_TARGET_KEYS = {"table", "columns", "unique", "indexes"}


class _Reader:
    """Reads one declaration file, naming the file and the key in every error."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, message: str):
        raise DeclarationError(f"declaration {self.path.name}: {where}: {message}")

    def keys(self, where: str, data: dict, allowed: set[str], required: set[str] = frozenset()) -> None:
        if not isinstance(data, dict):
            self.fail(where, "must be a table")
        for key in data:
            if key not in allowed:
                self.fail(f"{where}.{key}" if where else key, f"unknown key (known: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in data:
                self.fail(f"{where}.{key}" if where else key, "missing")

    def name(self, where: str, value) -> str:
        if not is_plain_identifier(value):
            self.fail(where, f"{value!r} is not a plain identifier (^[a-z_][a-z0-9_]{{0,62}}$)")
        return value

    def typed(self, where: str, value, types, what: str):
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _tuple(types)):
            self.fail(where, f"must be {what}, not {value!r}")
        return value

    def column(self, where: str, data: dict, sourced: bool) -> Column:
        self.keys(where, data, _COLUMN_KEYS, {"name", "kind"})
        target = self.name(f"{where}.name", data["name"])
        where = f"{where} ({target})"
        if target in WORK_COLUMNS or target.startswith(WORK_PREFIXES):
            self.fail(f"{where}.name", "the name is used by the transform's work tables")
        kind = data["kind"]
        if kind not in KINDS:
            self.fail(f"{where}.kind", f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
        source = data.get("source", target if sourced else False)
        if source is False:
            source = None
        elif not isinstance(source, str) or not SOURCE_KEY.match(source):
            self.fail(f"{where}.source", f"{source!r} is not a plain key (or false for no source column)")
        aliases = tuple(self.typed(f"{where}.aliases", data.get("aliases", []), list, "a list of keys"))
        for alias in aliases:
            if not isinstance(alias, str) or not SOURCE_KEY.match(alias):
                self.fail(f"{where}.aliases", f"{alias!r} is not a plain key")
        default_sql = data.get("default_sql")
        if default_sql is not None and default_sql not in CLOCK_DEFAULTS:
            self.fail(f"{where}.default_sql", f"{default_sql!r} is not one of {', '.join(CLOCK_DEFAULTS)}")
        default = data.get("default")
        if default is not None and default_sql is not None:
            self.fail(f"{where}.default", "a column has either default or default_sql")
        if default is not None:
            self.typed(f"{where}.default", default, (str, int, float, bool), "a string, number or boolean")
        allowed = data.get("allowed")
        if allowed is not None:
            allowed = tuple(self.typed(f"{where}.allowed", allowed, list, "a list of values"))
        between = data.get("between")
        if between is not None:
            if (not isinstance(between, list) or len(between) != 2
                    or not all(isinstance(v, int) and not isinstance(v, bool) for v in between)):
                self.fail(f"{where}.between", "must be [low, high], two integers")
            between = (between[0], between[1])
        value_map = data.get("value_map")
        if value_map is not None:
            self.typed(f"{where}.value_map", value_map, dict, "a table of old = new")
            for old, new in value_map.items():
                self.typed(f"{where}.value_map.{old}", new, str, "a string")
        ref_table, ref_column, on_delete, foreign_key = None, "id", None, True
        if "references" in data:
            ref = data["references"]
            self.keys(f"{where}.references", ref, {"table", "column", "on_delete", "foreign_key"}, {"table"})
            ref_table = self.name(f"{where}.references.table", ref["table"])
            ref_column = self.name(f"{where}.references.column", ref.get("column", "id"))
            foreign_key = self.typed(f"{where}.references.foreign_key", ref.get("foreign_key", True), bool,
                                     "true or false")
            if foreign_key != ("on_delete" in ref):
                self.fail(f"{where}.references.on_delete", "a foreign key states its on_delete; a reference "
                          "without one (foreign_key = false) states none")
            on_delete = ref.get("on_delete", "no action")
            if on_delete not in ON_DELETE:
                self.fail(f"{where}.references.on_delete", f"{on_delete!r} is not one of {', '.join(ON_DELETE)}")
            if kind != "ref":
                self.fail(f"{where}.references", "only a column of kind 'ref' references a parent")
        elif kind == "ref":
            self.fail(f"{where}.references", "a column of kind 'ref' needs references = { table, on_delete }")
        derive = self.derive(where, data["derive"], data) if "derive" in data else None
        if derive is not None and not DERIVE_RULES[derive.rule].sourced:
            source = None
        if derive is not None and derive.rule == "id_of_key":
            if kind != "id":
                self.fail(f"{where}.derive.rule", "id_of_key derives a column of kind 'id'")
            aliases = (*aliases, *derive.keys)
        name_prefix = data.get("name_prefix")
        if (kind == "name_uuid") != (name_prefix is not None):
            self.fail(f"{where}.name_prefix", "a column of kind 'name_uuid' and only it has a name_prefix")
        if name_prefix is not None:
            self.typed(f"{where}.name_prefix", name_prefix, str, "a string")
        primary_key = bool(self.typed(f"{where}.primary_key", data.get("primary_key", kind == "id"), bool, "true or "
                                      "false"))
        if primary_key and default_sql is None and kind == "id":
            default_sql = "gen_random_uuid()"
        return Column(
            target=target, kind=kind, source=source, aliases=aliases,
            not_null=bool(self.typed(f"{where}.not_null", data.get("not_null", primary_key), bool, "true or false")),
            default=default, default_sql=default_sql, allowed=allowed, between=between, value_map=value_map,
            ref_table=ref_table, ref_column=ref_column, on_delete=on_delete, foreign_key=foreign_key, derive=derive,
            name_prefix=name_prefix,
            secret=bool(self.typed(f"{where}.secret", data.get("secret", False), bool, "true or false")),
            primary_key=primary_key,
            holds_old_ids=bool(self.typed(f"{where}.holds_old_ids", data.get("holds_old_ids", False), bool,
                                          "true or false")),
            check_null=bool(self.typed(f"{where}.check_null", data.get("check_null", False), bool, "true or false")),
            at_least=self.typed(f"{where}.at_least", data["at_least"], int, "an integer") if "at_least" in data
            else None)

    def derive(self, where: str, d, data: dict) -> Derive:
        where = f"{where}.derive"
        self.keys(where, d, {"rule", "of", "keys", "max", "equals"}, {"rule"})
        rule = DERIVE_RULES.get(d["rule"])
        if rule is None:
            self.fail(f"{where}.rule", f"unknown rule {d['rule']!r} (known: {', '.join(DERIVE_RULES)})")
        for key, needed in (("of", rule.of), ("max", rule.max), ("keys", bool(rule.keys)), ("equals", rule.equals)):
            if needed != (key in d):
                self.fail(f"{where}.{key}", f"rule {d['rule']} {'needs' if needed else 'takes no'} {key}")
        of = self.name(f"{where}.of", d["of"]) if rule.of else None
        keys = tuple(self.typed(f"{where}.keys", d.get("keys", []), list, "a list of source keys"))
        for key in keys:
            if not isinstance(key, str) or not SOURCE_KEY.match(key):
                self.fail(f"{where}.keys", f"{key!r} is not a plain key")
        if rule.keys > 0 and len(keys) != rule.keys or rule.keys < 0 and not keys:
            self.fail(f"{where}.keys", f"rule {d['rule']} reads {rule.keys if rule.keys > 0 else 'one or more'} key(s)")
        size = self.typed(f"{where}.max", d["max"], int, "a number of characters") if rule.max else None
        if not rule.sourced and data.get("source", False) is not False:
            self.fail(where, f"a column derived by {d['rule']} has no source (source = false)")
        equals = self.typed(f"{where}.equals", d["equals"], str, "a string") if rule.equals else None
        return Derive(d["rule"], of, keys, size, equals)

    def columns(self, where: str, data, sourced: bool = True) -> tuple[Column, ...]:
        """A list of columns; in a merge target (``sourced`` false) a column has no source key."""
        if not isinstance(data, list) or not data:
            self.fail(where, "must be a non-empty list of columns")
        cols = tuple(self.column(f"{where}[{i}]", c, sourced) for i, c in enumerate(data))
        names = [c.target for c in cols]
        for name in names:
            if names.count(name) > 1:
                self.fail(where, f"column {name!r} is declared twice")
        for c in cols:
            if c.derive and c.derive.of and c.derive.of not in names:
                self.fail(f"{where} ({c.target}).derive.of", f"no column {c.derive.of!r} in this table")
        return cols

    def uniques(self, where: str, data, names: list[str]) -> tuple[Unique, ...]:
        out = []
        for i, u in enumerate(self.typed(where, data, list, "a list")):
            w = f"{where}[{i}]"
            self.keys(w, u, {"columns", "order_by", "warn_case_insensitive", "index"}, {"columns"})
            for key in ("columns", "order_by"):
                for col in self.typed(f"{w}.{key}", u.get(key, []), list, "a list of column names"):
                    parts = col.split() if isinstance(col, str) else []
                    if (not parts or parts[0] not in names
                            or parts[1:] not in ([], ["desc"]) or key == "columns" and parts[1:]):
                        self.fail(f"{w}.{key}", f"no column {col!r} in this table"
                                  + (" (optionally followed by desc)" if key == "order_by" else ""))
            out.append(Unique(tuple(u["columns"]), tuple(u.get("order_by", ())),
                              bool(u.get("warn_case_insensitive", False)),
                              self.name(f"{w}.index", u["index"]) if "index" in u else None))
        return tuple(out)

    def indexes(self, where: str, data, names: list[str]) -> tuple[Index, ...]:
        out = []
        for i, x in enumerate(self.typed(where, data, list, "a list")):
            w = f"{where}[{i}]"
            self.keys(w, x, {"name", "columns", "where", "search"}, set())
            if ("columns" in x) == ("search" in x):
                self.fail(w, "an index states columns, or search = { config, columns } for a full-text index")
            cols = self.typed(f"{w}.columns", x.get("columns", []), list, "a list of column names")
            for col in cols:
                parts = col.split() if isinstance(col, str) else []
                if not parts or parts[0] not in names or parts[1:] not in ([], ["desc"]):
                    self.fail(f"{w}.columns", f"{col!r} is not a column of this table (optionally followed by desc)")
            search = None
            if "search" in x:
                self.keys(f"{w}.search", x["search"], {"config", "columns"}, {"config", "columns"})
                config = self.name(f"{w}.search.config", x["search"]["config"])
                searched = self.typed(f"{w}.search.columns", x["search"]["columns"], list, "a list of column names")
                for col in searched:
                    if col not in names:
                        self.fail(f"{w}.search.columns", f"no column {col!r} in this table")
                search = (config, tuple(searched))
            name = self.name(f"{w}.name", x["name"]) if "name" in x else None
            conditions = x.get("where", [])
            conditions = [conditions] if isinstance(conditions, dict) else conditions
            cond = tuple(self.condition(f"{w}.where", c, names) for c in self.typed(f"{w}.where", conditions, list,
                                                                                    "a condition or a list of them"))
            out.append(Index(tuple(cols), name, cond, search))
        return tuple(out)

    def condition(self, w: str, c, names: list[str]) -> tuple[str, str]:
        self.keys(w, c, {"column", "is", "equals"}, {"column"})
        if c["column"] not in names:
            self.fail(f"{w}.column", f"no column {c['column']!r} in this table")
        if ("is" in c) == ("equals" in c):
            self.fail(w, "states either is (true, false, \"not null\") or equals (a text)")
        if "equals" in c:
            return (c["column"], "= " + literal(self.typed(f"{w}.equals", c["equals"], str, "a text")))
        if c["is"] not in (True, False, "not null"):
            self.fail(f"{w}.is", "must be true, false or \"not null\"")
        return (c["column"], {True: "= true", False: "= false", "not null": "is not null"}[c["is"]])

    def table(self, where: str, name: str, data: dict, columns: tuple[Column, ...]) -> Table:
        names = [c.target for c in columns]
        if sum(c.primary_key for c in columns) != 1:
            self.fail(f"{where}columns", "exactly one column is the primary key")
        return Table(name, columns, self.uniques(f"{where}unique", data.get("unique", []), names),
                     self.indexes(f"{where}indexes", data.get("indexes", []), names))


def _tuple(types) -> tuple:
    return types if isinstance(types, tuple) else (types,)


def _load_file(path: Path) -> Source:
    reader = _Reader(path)
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DeclarationError(f"declaration {path.name}: not valid TOML: {exc}") from None
    name = reader.name("(file name)", path.stem)
    reader.keys("", data, _TABLE_KEYS, {"columns"})
    merge = data.get("merge")
    if merge is not None and merge != "progress":
        reader.fail("merge", "the only merge is \"progress\" (core-tables.md)")
    target = data.get("target")
    if (target is None) == (merge is None):
        reader.fail("target", "a source has a target table, or takes part in a merge (merge = \"progress\")")
    columns = reader.columns("columns", data["columns"])
    if sum(c.kind == "id" for c in columns) != 1 or columns[0].kind != "id":
        reader.fail("columns", "the first column must be the table's one column of kind 'id'")
    for c in columns:
        if c.source is None and c.derive is None and c.default is None and c.default_sql is None and c.not_null:
            reader.fail(f"columns ({c.target})", "a NOT NULL column needs a source, a derive rule or a default")
    unique = reader.uniques("unique", data.get("unique", []), [c.target for c in columns])
    proposed = bool(reader.typed("proposed", data.get("proposed", False), bool, "true or false"))
    unmapped = reader.typed("unmapped", data.get("unmapped", {}), dict, "a table of key = \"what it held\"")
    for key, words in unmapped.items():
        if not SOURCE_KEY.match(key):
            reader.fail(f"unmapped.{key}", "not a plain key")
        reader.typed(f"unmapped.{key}", words, str, "a string saying what the key held")
    loss = reader.typed("loss", data["loss"], str, "a string") if "loss" in data else None
    if target is not None:
        reader.name("target", target)
        if "merge_target" in data:
            reader.fail("merge_target", "only a source of the merge declares a merge target")
        table = reader.table("", target, data, columns)
    else:
        if "indexes" in data:
            reader.fail("indexes", "indexes belong to the merge_target")
        mt = data.get("merge_target")
        if mt is None:
            reader.fail("merge_target", "a source of the merge declares the target table it fills")
        reader.keys("merge_target", mt, _MERGE_TARGET_KEYS, {"table", "columns"})
        table_name = reader.name("merge_target.table", mt["table"])
        table = reader.table("merge_target.", table_name, mt,
                             reader.columns("merge_target.columns", mt["columns"], sourced=False))
    for c in columns:
        if c.ref_table is not None and c.ref_table == target and c.on_missing != "skip":
            reader.fail(f"columns ({c.target}).references", "a reference to the table's own rows is NOT NULL or ON "
                        "DELETE CASCADE (it is resolved to a fixed point; contract-additions 5.1)")
    source = Source(name, target, columns, unique, merge, table, proposed=proposed, unmapped=tuple(unmapped.items()),
                    loss=loss, path=path, sha256=hashlib.sha256(raw).hexdigest())
    reads = source.key_reads()
    for key in unmapped:
        if key in reads:
            reader.fail(f"unmapped.{key}", "a column reads this key")
    return source


def _load_skipped(path: Path) -> dict[str, Skipped]:
    reader = _Reader(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DeclarationError(f"declaration {path.name}: not valid TOML: {exc}") from None
    out = {}
    for name, entry in data.items():
        reader.name(name, name[:-1] if name.endswith("*") and len(name) > 1 else name)
        reader.keys(name, entry, {"code", "reason"}, {"code", "reason"})
        reader.name(f"{name}.code", entry["code"])
        reader.typed(f"{name}.reason", entry["reason"], str, "a string")
        out[name] = Skipped(name, entry["code"], entry["reason"])
    return out


@dataclass(frozen=True)
class Declarations:
    sources: tuple[Source, ...]
    skipped: dict[str, Skipped]

    def check(self) -> None:
        """What no single file can check: names across files, references, the order."""
        tables: dict[str, Table] = {}
        for s in self.sources:
            if s.name in self.skipped:
                raise DeclarationError(f"declaration {s.name}.toml: the table is also declared skipped in "
                                       f"{SKIPPED_FILE}")
            if s.table.name in tables:
                raise DeclarationError(f"declaration {s.path.name}: target table {s.table.name!r} is declared "
                                       "by another file too")
            tables[s.table.name] = s.table
        for s in self.sources:
            for c in (*s.columns, *s.table.columns):
                if c.ref_table is None:
                    continue
                parent = tables.get(c.ref_table)
                if parent is None:
                    raise DeclarationError(f"declaration {s.path.name}: columns ({c.target}).references.table: "
                                           f"no declared target table {c.ref_table!r}")
                if c.ref_column not in [p.target for p in parent.columns]:
                    raise DeclarationError(f"declaration {s.path.name}: columns ({c.target}).references.column: "
                                           f"{c.ref_table} has no column {c.ref_column!r}")
        insert_order(self.sources)


@cache
def declarations(folder: Path = TABLES_DIR) -> Declarations:
    """Load and check every declaration file of ``folder`` (once per process)."""
    if not folder.is_dir():
        raise DeclarationError(f"declarations: no folder {folder}")
    sources = tuple(_load_file(p) for p in sorted(folder.glob("*.toml")) if p.name != SKIPPED_FILE)
    skipped = _load_skipped(folder / SKIPPED_FILE) if (folder / SKIPPED_FILE).exists() else {}
    decl = Declarations(sources, skipped)
    decl.check()
    return decl


# ---------------------------------------------------------------------------------------------
# The resolved plan

def _merge_group(s: Source) -> str:
    return f"merge:{s.merge}"


def insert_order(sources: tuple[Source, ...] | None = None) -> list[Source]:
    """Sources in an order where every parent's target is filled before its children (from the
    declared references); among equals, by name."""
    sources = declarations().sources if sources is None else sources
    node = {s.name: (s.target or _merge_group(s)) for s in sources}
    owner = {s.table.name: node[s.name] for s in sources}
    graph: dict[str, set[str]] = {}
    for s in sources:
        refs = {c.ref_table for c in (*s.columns, *s.table.columns) if c.ref_table}
        graph.setdefault(node[s.name], set()).update(owner[t] for t in refs if owner.get(t, node[s.name]) !=
                                                     node[s.name])
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise DeclarationError(f"declarations: the references form a cycle: {' -> '.join(exc.args[1])}") from None
    depth: dict[str, int] = {}
    for n in order:
        depth[n] = 1 + max((depth[p] for p in graph.get(n, ())), default=-1)
    return sorted(sources, key=lambda s: (depth[node[s.name]], node[s.name], s.name))


def plan() -> list[Source]:
    return insert_order()


def sources() -> tuple[Source, ...]:
    return declarations().sources


def source(name: str) -> Source:
    return next(s for s in declarations().sources if s.name == name)


def skipped_sources() -> dict[str, Skipped]:
    """D1 tables left behind on purpose, by name or name prefix (their rows are ``skipped`` with the
    code, contract-additions §6)."""
    return dict(declarations().skipped)


def skip_of(table: str) -> Skipped | None:
    """The declaration that leaves ``table`` behind, if any."""
    return next((s for s in declarations().skipped.values() if s.matches(table)), None)


SKIP_CODES = {
    "unmapped_accepted": "no mapping; left behind with --accept-unmapped",
    "skipped_by_name": "skipped by name at stage (--skip-table)",
}
"""The skip codes d1pg gives itself; the declared ones are in skipped-tables.toml."""


def skip_reason(code: str | None) -> str:
    """A skip code in words."""
    if code is None:
        return ""
    declared = next((s.reason for s in declarations().skipped.values() if s.code == code), None)
    return declared or SKIP_CODES.get(code, code)


def merge_sources() -> list[Source]:
    return [s for s in plan() if s.merge]


def merge_targets() -> list[str]:
    """Targets built by the progress merge, in insert order."""
    return sorted(s.table.name for s in merge_sources())


def tables() -> list[Table]:
    """Every declared target table, parents before children."""
    out: list[Table] = []
    for s in plan():
        group = [s.table] if s.target else sorted((m.table for m in merge_sources()), key=lambda t: t.name)
        out += [t for t in group if t not in out]
    return out


def source_of_table(name: str) -> Source:
    """The source whose file declares target table ``name``."""
    return next(s for s in declarations().sources if s.table.name == name)


def table(name: str) -> Table:
    return next(t for t in tables() if t.name == name)


def target_tables() -> list[str]:
    """The mapped target tables, in insert order."""
    return [t.name for t in tables()]


def mapped_source_names() -> set[str]:
    return {s.name for s in declarations().sources}


def ref_sources() -> dict[str, str]:
    """Target table -> the source table whose ids it holds (the parent of an id reference)."""
    return {s.target: s.name for s in declarations().sources if s.target}
