"""``invoke scaffold``: draft the declaration file of a D1 table from what is staged and from the
target table's catalog.

The staged side is what ``invoke profile`` sees (the keys and the shapes of their values, decided
in SQL by ``sql/staging/30_profile_values.sql``); the target side is read from pg_catalog: the
columns in order with their types, NOT NULL and defaults, the CHECK, foreign and unique keys and
the other indexes. A target column takes the staged key of its own name, else the key whose
camelCase spelling gives its name (``userId`` -> ``user_id``). Its kind comes from the target type
(:data:`KIND_OF_TYPE`); where the staged shapes do not fit that kind, where a value is guessed and
where no key feeds a column, the line carries a ``# review:`` comment. A draft never replaces a file
unless asked to (``--force``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from d1pg import console, mapping
from d1pg.config import Settings
from d1pg.db import connect, database_url, describe_error
from d1pg.errors import DatabaseError, InputError
from d1pg.identifiers import is_plain_identifier
from d1pg.kinds import CLOCK_DEFAULTS
from d1pg.profile import TableProfile, profile, staged_tables
from d1pg.review import shown

KIND_OF_TYPE = {
    "text": "text",
    "boolean": "boolean",
    "integer": "integer",
    "bigint": "bigint",
    "timestamp with time zone": "timestamp",
    "date": "date",
    "jsonb": "json",
    "real": "real",
    "double precision": "double",
    "text[]": "text_list",
}
"""The kind a target column of this type (as format_type names it) is drafted with; a uuid column is
``id`` (the primary key), ``ref`` (a foreign key) or ``uuid`` (neither)."""

_INTEGERS = {"number_0_1", "number_integer", "number_epoch_s", "number_epoch_ms",
             "text_0_1", "text_integer", "text_epoch_s", "text_epoch_ms"}
_NUMBERS = _INTEGERS | {"number_decimal", "text_decimal"}
_INSTANTS = {"number_epoch_s", "number_epoch_ms", "text_epoch_s", "text_epoch_ms", "text_date",
             "text_sqlite_timestamp", "text_iso_z", "text_iso_offset", "text_iso_no_zone"}
FITTING_SHAPES = {
    "boolean": {"boolean", "number_0_1", "text_0_1"},
    "integer": _INTEGERS, "bigint": _INTEGERS, "real": _NUMBERS, "double": _NUMBERS,
    "timestamp": _INSTANTS, "date": _INSTANTS,
    "json": {"object", "array", "text_json", "text_empty"},
    "text_list": {"array", "text_json", "text_empty"},
    "uuid": {"text_uuid", "text_empty"},
}
"""The staged shapes (d1pg.profile.SHAPES) each kind expects besides null and absent; any other
shape of a key feeding such a column is named in a review comment. Other kinds take any value."""

ON_DELETE_NAMES = {letter: name for name, letter in mapping.ON_DELETE.items()}

HEADER = ('# D1 {table} -> {target}: drafted by invoke scaffold from staging and the target catalog; review every'
          ' line marked "review" before use.')

# ---------------------------------------------------------------------------------------------- the catalog

TABLE_OID = """
    select c.oid
    from pg_catalog.pg_class as c
    inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
    where n.nspname = %s and c.relname = %s and c.relkind in ('r', 'p')"""

COLUMNS = """
    select a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
    from pg_catalog.pg_attribute as a
    left join pg_catalog.pg_attrdef as d on a.attrelid = d.adrelid and a.attnum = d.adnum
    where a.attrelid = %s::oid and a.attnum > 0 and not a.attisdropped
    order by a.attnum"""

CONSTRAINTS = """
    select
        k.contype::text,
        array(select a.attname::text from unnest(k.conkey) with ordinality as u (attnum, n)
              inner join pg_catalog.pg_attribute as a on a.attrelid = k.conrelid and a.attnum = u.attnum
              order by u.n),
        p.relname::text,
        array(select a.attname::text from unnest(k.confkey) with ordinality as u (attnum, n)
              inner join pg_catalog.pg_attribute as a on a.attrelid = k.confrelid and a.attnum = u.attnum
              order by u.n),
        k.confdeltype::text,
        pg_get_constraintdef(k.oid)
    from pg_catalog.pg_constraint as k
    left join pg_catalog.pg_class as p on k.confrelid = p.oid
    where k.conrelid = %s::oid and k.contype in ('p', 'f', 'c')
    order by k.oid"""

INDEXES = """
    select
        x.relname::text,
        array(select a.attname::text || case when u.opt & 1 = 1 then ' desc' else '' end
              from unnest(i.indkey::int2[], i.indoption::int2[]) with ordinality as u (attnum, opt, n)
              inner join pg_catalog.pg_attribute as a on a.attrelid = i.indrelid and a.attnum = u.attnum
              where u.n <= i.indnkeyatts
              order by u.n),
        i.indnkeyatts,
        i.indisunique,
        pg_get_expr(i.indpred, i.indrelid),
        m.amname::text,
        pg_get_indexdef(i.indexrelid)
    from pg_catalog.pg_index as i
    inner join pg_catalog.pg_class as x on i.indexrelid = x.oid
    inner join pg_catalog.pg_am as m on x.relam = m.oid
    where i.indrelid = %s::oid and not i.indisprimary
    order by i.indexrelid"""
"""Indexes in the order they were made (their oids): the order of the app's files."""


@dataclass
class Catalog:
    """One target table as pg_catalog describes it."""

    name: str
    columns: list[tuple]  # name, type, not null, default expression
    constraints: list[tuple]  # contype, columns, parent table, parent columns, ON DELETE letter, definition
    indexes: list[tuple]  # name, columns (" desc" when descending), key columns, unique, predicate, method, definition


def read_catalog(conn: psycopg.Connection, schema: str, table: str) -> Catalog | None:
    found = conn.execute(TABLE_OID, [schema, table]).fetchone()
    if found is None:
        return None
    return Catalog(table, *(conn.execute(query, [found[0]]).fetchall() for query in (COLUMNS, CONSTRAINTS, INDEXES)))


# ---------------------------------------------------------------------------------------------- the draft

@dataclass
class Draft:
    table: str
    target: str
    path: Path
    text: str = ""
    reviews: int = 0
    unmapped: list[str] = field(default_factory=list)


def snake_case(key: str) -> str:
    """``userId`` -> ``user_id``, ``providerAccountId`` -> ``provider_account_id``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()


def match_keys(columns: list[str], keys: list[str], json_columns: set[str]) -> tuple[dict[str, str], set[str]]:
    """Target column -> the staged key that feeds it, and the columns whose key is a guess: the key
    of the column's name, else its camelCase spelling, else (a guess) ``<column>_json`` for a JSON column."""
    free = list(keys)
    sources: dict[str, str] = {}
    guessed: set[str] = set()
    rules = [(lambda k, c: k == c, False), (lambda k, c: snake_case(k) == c, False),
             (lambda k, c: c in json_columns and k == f"{c}_json", True)]
    for rule, guess in rules:
        for column in columns:
            key = next((k for k in free if column not in sources and rule(k, column)), None)
            if key is not None:
                sources[column] = key
                free.remove(key)
                if guess:
                    guessed.add(column)
    return sources, guessed


def _default(expression: str | None, kind: str) -> tuple[str, object] | None:
    """A catalog default as (``default`` | ``default_sql`` | ``unread``, value)."""
    if expression is None:
        return None
    if expression.lower() in CLOCK_DEFAULTS:
        return "default_sql", expression.lower()
    quoted = re.fullmatch(r"'((?:[^']|'')*)'(?:::[a-z ]+(?:\[\])?)?", expression)
    text = quoted[1].replace("''", "'") if quoted else expression
    if kind in ("integer", "bigint", "real", "double") and re.fullmatch(r"-?[0-9]+", text):
        return "default", int(text)
    if kind in ("real", "double") and re.fullmatch(r"-?[0-9]+\.[0-9]+", text):
        return "default", float(text)
    if quoted:
        return "default", text
    if expression in ("true", "false"):
        return "default", expression == "true"
    return "unread", expression


def _unwrap(text: str) -> str:
    """``((a >= 0))`` -> ``a >= 0``: outer parentheses that enclose the whole text."""
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        for i, ch in enumerate(text):
            depth += (ch == "(") - (ch == ")")
            if depth == 0 and i < len(text) - 1:
                return text
        text = text[1:-1].strip()
    return text


def read_check(definition: str) -> tuple[str, str, object] | None:
    """A CHECK a declaration can state: (column, ``allowed``, values) or (column, ``between``, [lo, hi])."""
    body = _unwrap(definition.removeprefix("CHECK ").strip())
    one_of = re.fullmatch(r"\(?(\w+)\)?(?:::[a-z ]+)? = ANY \(\(?ARRAY\[(.*)\](?:\)::[a-z ]+\[\])?\)", body)
    if one_of:
        items = re.sub(r"::[a-z ]+", "", one_of[2])
        values = [int(n) if n else s.replace("''", "'")
                  for s, n in re.findall(r"'((?:[^']|'')*)'|(-?[0-9]+)", items)]
        return one_of[1], "allowed", values
    between = re.fullmatch(r"\((\w+) >= (-?[0-9]+)\) AND \((\w+) <= (-?[0-9]+)\)", body)
    if between and between[1] == between[3]:
        return between[1], "between", [int(between[2]), int(between[4])]
    return None


def _shape_notes(kind: str, key: str, staged: TableProfile | None) -> str | None:
    """What the staged values of ``key`` hold that a column of ``kind`` does not expect."""
    fits = FITTING_SHAPES.get(kind)
    if fits is None or staged is None:
        return None
    odd = [s for s in staged.columns().get(key, []) if s.shape not in fits | {"null", "absent"}]
    if not odd:
        return None
    seen = ", ".join(f"{s.shape} x{s.values}" + (f' (e.g. "{shown(key, s.example, 24)}")' if s.example else "")
                     for s in odd)
    return f"{kind} target, but staged {key} also holds {seen}"


def _kind(table: str, name: str, sql_type: str, primary: bool, fk: tuple | None, declared: set[str]
          ) -> tuple[str, dict, list[str]]:
    """The kind of one target column, its extra keys (references, name_prefix) and its review notes."""
    notes: list[str] = []
    if fk is not None:
        parent, parent_column, on_delete = fk
        if (sql_type, parent_column == "id") in (("uuid", True), ("text", False)):
            ref = {"table": parent} | ({} if parent_column == "id" else {"column": parent_column})
            if on_delete not in ON_DELETE_NAMES:
                notes.append(f"ON DELETE {on_delete!r} is not declarable; stated as no action")
            ref["on_delete"] = ON_DELETE_NAMES.get(on_delete, "no action")
            if parent not in declared:
                notes.append(f"no declaration fills the parent table {parent} yet")
            return "ref", {"references": ref}, notes
        notes.append(f"references {parent}({parent_column}): a ref is a uuid to a parent's id or text to its key")
    if sql_type == "uuid":
        if primary:
            return "id", {}, notes
        return "uuid", {}, notes + [
            "a uuid without a foreign key: UUIDs are kept, any other value rejected; if the values are ids of another"
            " table, declare references = { table, foreign_key = false }; if they are other keys, kind name_uuid"]
    if primary:
        notes.append(f"the primary key is {sql_type}, not uuid: the first column must be of kind id")
    if sql_type not in KIND_OF_TYPE:
        return "text", {}, notes + [f"type {sql_type} has no kind"]
    return KIND_OF_TYPE[sql_type], {}, notes


def draft(table: str, catalog: Catalog, staged: TableProfile | None, path: Path) -> Draft:
    """The declaration text of D1 ``table`` into target ``catalog`` (no file is written)."""
    keys = staged.keys if staged else []
    primary = next((c for c in catalog.constraints if c[0] == "p"), None)
    fks = {c[1][0]: (c[2], c[3][0], c[4]) for c in catalog.constraints if c[0] == "f" and len(c[1]) == 1}
    checks, table_notes = {}, []
    for contype, columns, _, _, _, definition in catalog.constraints:
        check = read_check(definition) if contype == "c" else None
        if check and len(columns) == 1 and check[0] == columns[0]:
            checks[check[0]] = check[1:]
        elif contype == "c" or (contype == "f" and len(columns) > 1):
            table_notes.append(f"not declarable: {definition}")
    if primary and len(primary[1]) > 1:
        table_notes.append(f"a primary key of {len(primary[1])} columns: d1pg needs one id column")
    names = [c[0] for c in catalog.columns]
    json_columns = {c[0] for c in catalog.columns if c[1] == "jsonb"}
    sources, guessed = match_keys(names, keys, json_columns)
    declared = {s.table.name for s in mapping.sources()}
    lines, reviews = [], 0
    for name, sql_type, not_null, default_expression in catalog.columns:
        is_primary = bool(primary) and primary[1] == [name]
        kind, extra, notes = _kind(catalog.name, name, sql_type, is_primary, fks.get(name), declared)
        key = sources.get(name)
        if kind == "uuid" and key is not None and _shape_notes("uuid", key, staged):
            kind, extra = "name_uuid", {"name_prefix": f"{catalog.name}.{name}"}
            notes = [n for n in notes if not n.startswith("a uuid without a foreign key")] + [
                "a uuid without a foreign key fed values that are no UUIDs: they become name-based UUIDs under this "
                "guessed prefix"]
        entry: dict = {"name": name, "kind": kind}
        if key is None:
            entry["source"] = False
            notes.append("no staged key feeds this column")
        elif key != name:
            entry["source"] = key
            if name in guessed:
                notes.append(f"guessed: staged key {key} feeds {name}")
        if not_null and not is_primary:
            entry["not_null"] = True
        default = _default(default_expression, kind)
        if default and default[0] == "unread":
            notes.append(f"default {default[1]} is not declarable")
        elif default and not (is_primary and default == ("default_sql", "gen_random_uuid()")):
            entry[default[0]] = default[1]
        if key is None and not_null and not default and not is_primary:
            del entry["source"]  # read as its own name, so that the draft loads: the note says what to do
            notes.append("NOT NULL without a default, and no staged key of its name: name its source key, or give "
                         "it a derive rule or a default")
        if name in checks:
            entry[checks[name][0]] = checks[name][1]
        entry |= extra
        if console.is_secret(name) or console.is_secret(key):
            entry["secret"] = True
        if key is not None and (note := _shape_notes(kind, key, staged)):
            notes.append(note)
        if not is_plain_identifier(name):
            notes.append("not a plain identifier: a declaration cannot name this column")
        reviews += bool(notes)
        lines.append(f"    {_toml(entry)}," + (f"  # review: {_one_line('; '.join(notes))}" if notes else ""))
    unique, indexes = _keys(catalog, table_notes)
    unmapped = [k for k in keys if k not in sources.values()]
    if unmapped:
        table_notes.insert(0, f"unmapped staged keys: {', '.join(unmapped)}")
    out = [HEADER.format(table=table, target=catalog.name), f"target = {_toml(catalog.name)}", "",
           "columns = [", *lines, "]", ""]
    for title, items in (("unique", unique), ("indexes", indexes)):
        if items:
            out += [f"{title} = [", *(f"    {_toml(i)}," for i in items), "]", ""]
    out += [f"# review: {_one_line(note)}" for note in table_notes]
    return Draft(table, catalog.name, path, "\n".join(out).rstrip("\n") + "\n", reviews + len(table_notes), unmapped)


def _keys(catalog: Catalog, notes: list[str]) -> tuple[list[dict], list[dict]]:
    """The unique keys and the other indexes a declaration can state; the rest go to ``notes``."""
    unique, indexes = [], []
    for name, columns, key_columns, is_unique, predicate, method, definition in catalog.indexes:
        where = _where(predicate)
        search = _search(definition) if method == "gin" and not predicate else None
        if search:
            indexes.append({"name": name, "search": search})
        elif method != "btree" or len(columns) != key_columns or (predicate and (is_unique or where is None)):
            notes.append(f"not declarable: {definition}")
        elif is_unique:
            if any(c.endswith(" desc") for c in columns):
                notes.append(f"a descending unique key is declared ascending: {definition}")
            unique.append({"columns": [c.split()[0] for c in columns]})
        else:
            indexes.append({"name": name, "columns": columns} | ({"where": where} if where else {}))
    return unique, indexes


def _search(definition: str) -> dict | None:
    """A GIN full-text index over text columns joined by ' ': to_tsvector('english', a || ' ' || b)."""
    m = re.search(r"USING gin \(to_tsvector\('(\w+)'::regconfig, (.*)\)\)$", definition)
    if not m:
        return None
    columns = m[2].replace("(", "").replace(")", "").split(" || ' '::text || ")
    if not all(re.fullmatch(r"\w+", c) for c in columns):
        return None
    return {"config": m[1], "columns": columns}


def _where(predicate: str | None) -> dict | list[dict] | None:
    """A partial index's predicate as declared: one condition, or conditions joined by AND."""
    if predicate is None:
        return None
    conditions = [_condition(_unwrap(p)) for p in re.split(r" AND ", _unwrap(predicate))]
    if None in conditions:
        return None
    return conditions[0] if len(conditions) == 1 else conditions


def _condition(text: str) -> dict | None:
    m = re.fullmatch(r"(\w+) (= true|= false|IS NOT NULL)", text)
    if m:
        return {"column": m[1], "is": {"= true": True, "= false": False, "IS NOT NULL": "not null"}[m[2]]}
    m = re.fullmatch(r"(\w+) = '((?:[^']|'')*)'::text", text)
    return {"column": m[1], "equals": m[2].replace("''", "'")} if m else None


def _one_line(note: str) -> str:
    """A comment's text: no control character may end it early or make the TOML invalid."""
    return re.sub(r"[\x00-\x1f\x7f]", " ", note)


def _toml(value) -> str:
    """A TOML value on one line (inline tables, arrays, basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"


# ---------------------------------------------------------------------------------------------- the step

def _chosen(settings: Settings, tables: tuple[str, ...], all_tables: bool, target: str | None) -> list[str]:
    if bool(tables) == all_tables:
        raise InputError("name the tables to draft (--table NAME) or give --all, not both")
    if target is not None and len(tables) != 1:
        raise InputError("--target names the target table of one D1 table: give exactly one --table")
    if all_tables:
        known = mapping.mapped_source_names() | set(mapping.skipped_sources())
        tables = tuple(t for t in staged_tables(settings) if t not in known)
    for name in (*tables, *([target] if target else [])):
        if not is_plain_identifier(name):
            raise InputError(f"{name!r} is not a plain identifier (^[a-z_][a-z0-9_]{{0,62}}$): a declaration is "
                             "named after its table")
    return list(dict.fromkeys(tables))


def scaffold(settings: Settings, *, tables: tuple[str, ...] = (), all_tables: bool = False,
             target: str | None = None, force: bool = False, out: Path | None = None,
             quiet: bool = False) -> list[Draft]:
    """Draft the declaration files of ``tables`` (or of every staged table that has none and is not
    declared skipped) into ``out`` (default d1pg/tables); return the drafts written."""
    names = _chosen(settings, tables, all_tables, target)
    folder = out or mapping.TABLES_DIR
    drafts = [Draft(t, target or t, folder / f"{t}.toml") for t in names]
    existing = [str(d.path) for d in drafts if d.path.exists()]
    if existing and not force:
        raise InputError(f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}: scaffold "
                         "never overwrites a declaration; --force to replace it")
    if not drafts:
        if not quiet:
            console.say("nothing to draft: every staged table has a declaration or is declared skipped")
        return []
    staged = {p.name: p for p in profile(settings, tables=tuple(names), quiet=True)}
    schema = settings.target_schema
    try:
        with connect(database_url(settings)) as conn:
            catalogs = {d.table: read_catalog(conn, schema, d.target) for d in drafts}
    except psycopg.Error as exc:
        raise DatabaseError(f"scaffold: {describe_error(exc)}") from None
    missing = [f"{schema}.{d.target}" for d in drafts if catalogs[d.table] is None]
    if missing:
        raise InputError(f"no target table {', '.join(missing)}: create it (the app's migration files), or name "
                         "it with --target")
    drafts = [draft(d.table, catalogs[d.table], staged.get(d.table), d.path) for d in drafts]
    folder.mkdir(parents=True, exist_ok=True)
    for d in drafts:
        d.path.write_text(d.text, encoding="utf-8")
        if not quiet:
            console.say(f"wrote {d.path}: D1 {d.table} -> {schema}.{d.target}, {d.reviews} line(s) to review"
                        + (f"; unmapped staged keys: {', '.join(d.unmapped)}" if d.unmapped else ""))
    return drafts
