"""``invoke migrate``: the main job — target schema (when absent), stage, transform, validate."""

from __future__ import annotations

from pathlib import Path

from d1pg import report
from d1pg.config import Settings
from d1pg.db import database_url, locked_connection
from d1pg.mapping import target_tables
from d1pg.schema import create_schema, missing_tables
from d1pg.stage import stage
from d1pg.transform import Options, transform
from d1pg.validate import validate


def migrate(settings: Settings, backup: Path, options: Options, *, skip_tables: tuple[str, ...] = (),
            progress: bool | None = None, input_format: str | None = None, backup_time: str | None = None) -> str:
    url = database_url(settings)
    with locked_connection(url) as conn:
        absent = missing_tables(conn, settings.target_schema, target_tables())
    if absent:
        report.say(f"target schema {settings.target_schema}: {len(absent)} table(s) absent, creating them")
        create_schema(settings)
    staged = stage(settings, backup, skip_tables=skip_tables, progress=progress, input_format=input_format,
                   backup_time=backup_time)
    # The lock is released between the steps: make sure no other run staged in between.
    run_id = transform(settings, options, progress=progress, staged_by=staged.run_id)
    validate(settings, run_id=run_id, progress=progress)
    return run_id
