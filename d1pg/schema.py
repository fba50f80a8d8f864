"""``invoke schema``: create the declared target tables (idempotently), as the app's migration files
define them, and remember which d1pg created."""

from __future__ import annotations

import psycopg

from d1pg import console
from d1pg.config import Settings
from d1pg.db import database_url, describe_error, locked_connection, run_script
from d1pg.errors import DatabaseError
from d1pg.mapping import source_of_table, tables
from d1pg.render import render
from d1pg.stage import ensure_bookkeeping


def missing_tables(conn: psycopg.Connection, schema: str, names: list[str]) -> list[str]:
    found = {r[0] for r in conn.execute(
        "select table_name from information_schema.tables where table_schema = %s", [schema]).fetchall()}
    return [t for t in names if t not in found]


def ddl(schema: str) -> list[str]:
    """The DDL of every declared target table, parents first (sql/schema/10_create_table.sql)."""
    return [render("schema/10_create_table.sql", table=t, target_schema=schema,
                   declaration=source_of_table(t.name).path.name, proposed=source_of_table(t.name).proposed)
            for t in tables()]


def create_schema(settings: Settings, *, quiet: bool = False) -> list[str]:
    """Create the target schema and its tables where missing; return the tables created now."""
    url = database_url(settings)
    schema = settings.target_schema
    with locked_connection(url) as conn:
        ensure_bookkeeping(conn)
        try:
            names = [t.name for t in tables()]
            before = missing_tables(conn, schema, names)
            conn.execute(psycopg.sql.SQL("create schema if not exists {}").format(psycopg.sql.Identifier(schema)))
            for sql_text in ddl(schema):
                run_script(conn, sql_text)
            created = [t for t in before if t not in missing_tables(conn, schema, names)]
            for table in created:
                conn.execute("insert into migration.created_tables (table_schema, table_name) values (%s, %s)"
                             " on conflict do nothing", [schema, table])
            conn.commit()
        except psycopg.Error as exc:
            raise DatabaseError(f"schema: {describe_error(exc)}") from None
    if not quiet:
        console.say(f"schema {schema}: created {len(created)} table(s)" + (f": {', '.join(created)}" if created
                                                                          else "; all were there already"))
    return created
