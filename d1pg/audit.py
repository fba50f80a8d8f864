"""The audit trail: ``migration.runs`` and ``migration.audit_log``, written on their own connection.

They are written with autocommit, outside the step's transaction, so a step that fails
and rolls back still leaves its run row (status ``failed``, with the cause) and its log.

A run that cannot record its own end (the process was killed, the server went away) stays
``running``. Its audit connection carries the run id in its ``application_name``; the next run
to start finds such rows whose connection is gone and marks them ``failed`` (interrupted).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from psycopg.types.json import Jsonb

from d1pg import __version__
from d1pg.db import connect, server_version
from d1pg.errors import D1pgError

RUN_APPLICATION_NAME = "d1pg run "
"""The audit connection's application_name: this prefix and the run id, while the run is alive."""

INTERRUPTED = ("interrupted: the run ended without recording its end (process killed, connection lost or"
               " server stopped); its transaction was rolled back. Noticed by run {run_id}")


class Audit:
    def __init__(self, url: str, step: str, *, run_id: uuid.UUID | None = None):
        self.step = step
        self.run_id = run_id or uuid.uuid4()
        self.conn = connect(url, autocommit=True, application_name=f"{RUN_APPLICATION_NAME}{self.run_id}")

    def start(self, *, options: dict | None = None, **backup) -> None:
        _, version = server_version(self.conn)
        unknown = set(backup) - _UPDATABLE
        if unknown:
            raise ValueError(f"not a column of migration.runs: {sorted(unknown)}")
        self.mark_interrupted_runs()
        backup = {k: storable(v) for k, v in backup.items()}
        columns = ["run_id", "step", "started_at", "options", "tool_version", "server_version", *backup]
        values = [self.run_id, self.step, None, Jsonb(storable(options or {})), __version__, version,
                  *backup.values()]
        placeholders = ", ".join("clock_timestamp()" if c == "started_at" else "%s" for c in columns)
        values = [v for c, v in zip(columns, values, strict=True) if c != "started_at"]
        self.conn.execute(
            f"insert into migration.runs ({', '.join(columns)}) values ({placeholders})",  # noqa: S608 - fixed names
            values,
        )
        self.log("info", f"{self.step} started")

    def update(self, **fields) -> None:
        """Set more columns of this run's row (e.g. the backup's envelope once it is read)."""
        for column, value in fields.items():
            if column not in _UPDATABLE:
                raise ValueError(column)
            self.conn.execute(
                f"update migration.runs set {column} = %s where run_id = %s",  # noqa: S608 - allow-listed name
                [storable(value), self.run_id],
            )

    def log(self, level: str, message: str, *, table: str | None = None, counts: dict | None = None) -> None:
        self.conn.execute(
            "insert into migration.audit_log (run_id, level, step, table_name, message, counts)"
            " values (%s, %s, %s, %s, %s, %s)",
            [self.run_id, level, self.step, storable(table), storable(message),
             Jsonb(storable(counts)) if counts is not None else None],
        )

    def finish(self, status: str, failure: str | None = None) -> None:
        failure = storable(failure)
        if failure:
            self.log("error", failure)
        self.log("info", f"{self.step} {status}")
        self.conn.execute(
            "update migration.runs set finished_at = clock_timestamp(), status = %s, failure = %s where run_id = %s",
            [status, failure, self.run_id],
        )

    def mark_interrupted_runs(self) -> list[str]:
        """Mark ``failed`` every run still ``running`` whose audit connection is gone; log why."""
        rows = self.conn.execute(
            """
            with gone as (
                update migration.runs as r
                set status = 'failed', finished_at = clock_timestamp(), failure = %(failure)s
                where r.status = 'running' and not exists (
                    select 1 from pg_catalog.pg_stat_activity as a
                    where a.application_name = %(prefix)s || r.run_id::text
                )
                returning r.run_id, r.step
            )
            insert into migration.audit_log (run_id, level, step, message)
            select gone.run_id, 'error', gone.step, %(failure)s from gone
            returning run_id
            """,
            {"failure": INTERRUPTED.format(run_id=self.run_id), "prefix": RUN_APPLICATION_NAME},
        ).fetchall()
        return [str(r[0]) for r in rows]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()


def storable(value):
    """Text as PostgreSQL can store it: NUL and lone UTF-16 surrogates (which JSON escapes in a backup
    can spell, e.g. in its envelope or a table name) written as escapes; inside lists and dicts too.
    Anything else passes unchanged."""
    if isinstance(value, str):
        return value.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    return value


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "interrupted"


_UPDATABLE = {
    "backup_path", "backup_sha256", "backup_size_bytes", "backup_created_at", "backup_created_by",
    "backup_version", "backup_version_name", "stage_run_id", "options",
}


@contextlib.contextmanager
def audited(url: str, step: str, **start_fields) -> Iterator[Audit]:
    """Open an audit for one step: the run row is ``succeeded`` if the block ends normally, else
    ``failed`` with the cause (one line) and the exception goes on."""
    audit = Audit(url, step)
    try:
        audit.start(**start_fields)
        try:
            yield audit
        except BaseException as exc:
            cause = str(exc) if isinstance(exc, D1pgError) else f"{type(exc).__name__}: {_first_line(exc)}"
            with contextlib.suppress(Exception):  # the audit connection may be gone too
                audit.finish("failed", cause)
            raise
        else:
            audit.finish("succeeded")
    finally:
        audit.close()
