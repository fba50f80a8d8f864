"""The audit trail: ``migration.runs`` and ``migration.audit_log``, written on their own connection.

They are written with autocommit, outside the step's transaction, so a step that fails
and rolls back still leaves its run row (status ``failed``, with the cause) and its log.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from psycopg.types.json import Jsonb

from d1pg import __version__
from d1pg.db import connect, server_version
from d1pg.errors import D1pgError


class Audit:
    def __init__(self, url: str, step: str, *, run_id: uuid.UUID | None = None):
        self.conn = connect(url, autocommit=True)
        self.step = step
        self.run_id = run_id or uuid.uuid4()

    def start(self, *, options: dict | None = None, **backup) -> None:
        _, version = server_version(self.conn)
        unknown = set(backup) - _UPDATABLE
        if unknown:
            raise ValueError(f"not a column of migration.runs: {sorted(unknown)}")
        columns = ["run_id", "step", "started_at", "options", "tool_version", "server_version", *backup]
        values = [self.run_id, self.step, None, Jsonb(options or {}), __version__, version, *backup.values()]
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
                [value, self.run_id],
            )

    def log(self, level: str, message: str, *, table: str | None = None, counts: dict | None = None) -> None:
        self.conn.execute(
            "insert into migration.audit_log (run_id, level, step, table_name, message, counts)"
            " values (%s, %s, %s, %s, %s, %s)",
            [self.run_id, level, self.step, table, message, Jsonb(counts) if counts is not None else None],
        )

    def finish(self, status: str, failure: str | None = None) -> None:
        if failure:
            self.log("error", failure)
        self.log("info", f"{self.step} {status}")
        self.conn.execute(
            "update migration.runs set finished_at = clock_timestamp(), status = %s, failure = %s where run_id = %s",
            [status, failure, self.run_id],
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()


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
