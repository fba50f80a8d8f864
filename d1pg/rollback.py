"""``invoke rollback`` and ``invoke clean``: undo what d1pg wrote, each behind ``--yes``.

rollback empties the mapped target tables (``--drop``: drops those d1pg created, as recorded in
``migration.created_tables``); clean drops d1pg's own schemas (staging, staging_view, migration).
Neither uses CASCADE on anything of the user's: a table outside the mapping whose foreign key
references a mapped table, or any object outside the set that depends on it, is named and the
step stops. Without ``yes`` both print what they would do, and the SQL, and change nothing.
The SQL is in ``sql/rollback/``; the table lists come from the mapping, in reverse dependency order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from d1pg import console, mapping
from d1pg.audit import audited
from d1pg.config import Settings
from d1pg.db import connect, database_url, describe_error, locked_connection, qualified, run_script
from d1pg.errors import DatabaseError, InputError
from d1pg.render import render
from d1pg.stage import ensure_bookkeeping

OWN_SCHEMAS = ("staging_view", "staging", "migration")
"""d1pg's own schemas, in the order clean drops them."""


@dataclass
class RollbackPlan:
    schema: str
    rows: dict[str, int] = field(default_factory=dict)  # mapped tables that exist -> rows, reverse order
    absent: list[str] = field(default_factory=list)
    drop: list[str] = field(default_factory=list)  # recorded as created by d1pg, reverse order
    blockers: list[str] = field(default_factory=list)
    referenced_from_outside: bool = False  # empty by DELETE, children first, instead of TRUNCATE

    @property
    def empty(self) -> list[str]:
        """The tables emptied: every mapped table that exists and is not dropped."""
        return [t for t in self.rows if t not in self.drop]

    def statements(self) -> list[str]:
        """The SQL, in order: the created tables are dropped first (they may reference tables d1pg did
        not create, never the other way round: that is a blocker), then the others are emptied."""
        out = []
        if self.drop:
            out.append(render("rollback/30_drop_created.sql", target_schema=self.schema, tables=self.drop))
        if self.empty and self.referenced_from_outside:
            out += [render("rollback/21_delete_target.sql", target_schema=self.schema, table=t) for t in self.empty]
        elif self.empty:
            out.append(render("rollback/20_empty_target.sql", target_schema=self.schema, tables=self.empty))
        return out


def _exists(conn: psycopg.Connection, schema: str, table: str) -> bool:
    return conn.execute("select to_regclass(format('%%I.%%I', %s::text, %s::text)) is not null",
                        [schema, table]).fetchone()[0]


def _count(conn: psycopg.Connection, schema: str, table: str) -> int:
    return conn.execute(sql.SQL("select count(*) from {}").format(qualified(schema, table))).fetchone()[0]


def _referencing_rows(conn: psycopg.Connection, schema: str, table: str, columns: list[str]) -> int:
    """Rows of an outside table whose key columns are all set: each references a mapped row."""
    return conn.execute(sql.SQL("select count(*) from {} where ({}) is not null").format(
        qualified(schema, table), sql.SQL(", ").join(map(sql.Identifier, columns)))).fetchone()[0]


def _dependents(conn: psycopg.Connection, inside: list[tuple[str, str | None]]) -> list[str]:
    rows = conn.execute(render("rollback/11_outside_dependents.sql", inside=inside)).fetchall()
    by_object: dict[str, list[str]] = {}
    for dependent, part, depends_on in rows:
        by_object.setdefault(dependent, []).append(f"{part} -> {depends_on}")
    return [f"{dependent} ({'; '.join(parts)})" for dependent, parts in by_object.items()]


def rollback_plan(conn: psycopg.Connection, schema: str, *, drop: bool) -> RollbackPlan:
    """What rollback would do on this database now."""
    plan = RollbackPlan(schema)
    for table in reversed(mapping.target_tables()):
        if _exists(conn, schema, table):
            plan.rows[table] = _count(conn, schema, table)
        else:
            plan.absent.append(table)
    if plan.rows:
        refs = conn.execute(render("rollback/10_outside_references.sql", target_schema=schema,
                                   tables=list(plan.rows))).fetchall()
        plan.referenced_from_outside = bool(refs)
        for s, t, k, parent, columns in refs:
            rows = _referencing_rows(conn, s, t, columns)
            if rows:
                plan.blockers.append(f"{s}.{t} ({rows} row(s) of foreign key {k} reference {schema}.{parent})")
    if drop and _exists(conn, "migration", "created_tables"):
        recorded = {r[0] for r in conn.execute(
            "select table_name from migration.created_tables where table_schema = %s", [schema]).fetchall()}
        plan.drop = [t for t in plan.rows if t in recorded]
        if plan.drop:
            plan.blockers += _dependents(conn, [(schema, t) for t in plan.drop])
    return plan


def rollback(settings: Settings, *, yes: bool = False, drop: bool = False, quiet: bool = False) -> RollbackPlan:
    """Empty the mapped target tables (``drop``: drop the ones d1pg created) in one transaction.
    Without ``yes``, show the plan and change nothing."""
    url = database_url(settings)
    schema = settings.target_schema
    if not yes:
        with connect(url) as conn:
            plan = rollback_plan(conn, schema, drop=drop)
        if not quiet:
            _show_rollback(plan, drop, done=False)
        return plan
    with locked_connection(url) as conn:
        ensure_bookkeeping(conn)
        with audited(url, "rollback", options={"target_schema": schema, "drop": drop}) as audit:
            plan = rollback_plan(conn, schema, drop=drop)
            if plan.blockers:
                raise InputError(f"rollback stopped, nothing was changed: objects outside the mapping depend on "
                                 f"the target tables of {schema}: {'; '.join(plan.blockers)}. "
                                 f"Remove or alter them first (d1pg uses no CASCADE)")
            try:
                for statement in plan.statements():
                    run_script(conn, statement)
                conn.commit()
            except psycopg.Error as exc:
                raise DatabaseError(f"rollback failed, nothing was changed: {describe_error(exc)}") from None
            for table, rows in plan.rows.items():
                audit.log("info", "dropped" if table in plan.drop else "emptied", table=f"{schema}.{table}",
                          counts={"rows": rows})
    if not quiet:
        _show_rollback(plan, drop, done=True)
    return plan


def _show_rollback(plan: RollbackPlan, drop: bool, *, done: bool) -> None:
    rows = [[t, n, ("dropped" if done else "drop") if t in plan.drop else ("emptied" if done else "empty")]
            for t, n in plan.rows.items()]
    rows += [[t, None, "absent"] for t in plan.absent]
    title = f"Rollback of {plan.schema}" + ("" if done else " (dry run)")
    console.show(console.table(title, ["table", "rows", "action"], rows, right={1}))
    if drop and not plan.drop and plan.rows:
        console.say("--drop: no table of this schema is recorded in migration.created_tables as created by d1pg;"
                   " nothing is dropped")
    if done:
        console.say(f"rollback committed: {len(plan.empty)} table(s) emptied, {len(plan.drop)} dropped,"
                   f" {sum(plan.rows.values()):,} rows removed")
        return
    if plan.blockers:
        console.say("rollback would stop and change nothing: objects outside the mapping depend on the target tables: "
                   + "; ".join(plan.blockers))
    elif plan.rows:
        console.say("It would run, in one transaction:")
        for statement in plan.statements():
            console.say(statement.rstrip())
    console.say("Nothing was changed; pass --yes to do it.")


@dataclass
class CleanPlan:
    schemas: dict[str, dict[str, int]] = field(default_factory=dict)  # schema -> {table: rows}
    views: dict[str, int] = field(default_factory=dict)  # schema -> number of views
    blockers: list[str] = field(default_factory=list)
    created_tables: list[str] = field(default_factory=list)


def clean_plan(conn: psycopg.Connection) -> CleanPlan:
    plan = CleanPlan()
    present = {r[0] for r in conn.execute(
        "select nspname from pg_catalog.pg_namespace where nspname = any(%s)", [list(OWN_SCHEMAS)]).fetchall()}
    for schema in OWN_SCHEMAS:
        if schema not in present:
            continue
        relations = conn.execute(
            "select c.relname, c.relkind = 'v' from pg_catalog.pg_class as c join pg_catalog.pg_namespace as n"
            " on c.relnamespace = n.oid where n.nspname = %s and c.relkind in ('r', 'p', 'v')"
            " order by c.relname", [schema]).fetchall()
        plan.schemas[schema] = {t: _count(conn, schema, t) for t, is_view in relations if not is_view}
        plan.views[schema] = sum(1 for _, is_view in relations if is_view)
    if plan.schemas:
        plan.blockers = _dependents(conn, [(s, None) for s in plan.schemas])
    if _exists(conn, "migration", "created_tables"):
        plan.created_tables = [f"{s}.{t}" for s, t in conn.execute(
            "select c.table_schema, c.table_name from migration.created_tables as c"
            " where to_regclass(format('%I.%I', c.table_schema, c.table_name)) is not null"
            " order by 1, 2").fetchall()]
    return plan


def clean(settings: Settings, *, yes: bool = False, quiet: bool = False) -> CleanPlan:
    """Drop the schemas staging, staging_view and migration. Without ``yes``, show what and change nothing."""
    url = database_url(settings)
    if not yes:
        with connect(url) as conn:
            plan = clean_plan(conn)
        if not quiet:
            _show_clean(plan, done=False)
        return plan
    with locked_connection(url) as conn:
        plan = clean_plan(conn)
        if plan.blockers:
            raise InputError("clean stopped, nothing was dropped: objects outside d1pg's schemas depend on them: "
                             + "; ".join(plan.blockers) + ". Remove or alter them first")
        try:
            run_script(conn, render("rollback/40_clean.sql"))
            conn.commit()
        except psycopg.Error as exc:
            raise DatabaseError(f"clean failed, nothing was dropped: {describe_error(exc)}") from None
    if not quiet:
        _show_clean(plan, done=True)
    return plan


def _show_clean(plan: CleanPlan, *, done: bool) -> None:
    if not plan.schemas:
        console.say("clean: none of d1pg's schemas (staging, staging_view, migration) exists; nothing to drop")
        return
    rows = []
    for schema, tables in plan.schemas.items():
        rows += [[f"{schema}.{name}", n] for name, n in tables.items()]
        if plan.views.get(schema):
            rows.append([f"{schema}: {plan.views[schema]} view(s)", None])
        if not tables and not plan.views.get(schema):
            rows.append([f"{schema} (empty)", None])
    title = "Dropped" if done else "Clean would drop (dry run)"
    console.show(console.table(title, ["relation", "rows"], rows, right={1}))
    if done:
        console.say(f"clean committed: dropped schema(s) {', '.join(plan.schemas)}; the target tables are untouched"
                   " (the audit trail went with schema migration)")
        return
    if plan.blockers:
        console.say("clean would stop and drop nothing: objects outside d1pg's schemas depend on them: "
                   + "; ".join(plan.blockers))
    if plan.created_tables:
        console.say(f"note: migration.created_tables records {len(plan.created_tables)} table(s) d1pg created "
                   f"({', '.join(plan.created_tables)}); after clean, `rollback --drop` cannot tell them apart."
                   " Run it first if you mean to drop them.")
    console.say("Nothing was changed; pass --yes to do it.")
