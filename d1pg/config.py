"""Settings and where things live: the database, the working directory, the target schema.

Where the database is, in order: an explicit URL (``--database-url``), ``DATABASE_URL``,
the standard libpq ``PG*`` variables when any is set, and otherwise the embedded
PostgreSQL under ``.d1pg/pgdata`` in the working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from d1pg.errors import InputError
from d1pg.identifiers import is_plain_identifier

PG_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")
"""Any of these set means: connect where libpq's own environment says."""

DEFAULT_TARGET_SCHEMA = "public"
ADVISORY_LOCK_NAME = "d1pg migration"
"""The advisory lock every writing step holds; the key is ``hashtext('d1pg migration')``."""


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    target_schema: str = DEFAULT_TARGET_SCHEMA
    home: Path = Path(".d1pg")
    reports_dir: Path = Path("reports")

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"


def settings(database_url: str | None = None, target_schema: str | None = None) -> Settings:
    """Build settings from options, then the environment (``D1PG_TARGET_SCHEMA``), then defaults."""
    schema = target_schema or os.environ.get("D1PG_TARGET_SCHEMA") or DEFAULT_TARGET_SCHEMA
    if not is_plain_identifier(schema):
        raise InputError(f"target schema {schema!r} is not a plain identifier (^[a-z_][a-z0-9_]{{0,62}}$)")
    if schema in ("staging", "staging_view", "migration"):
        raise InputError(f"target schema {schema!r} is one of d1pg's own schemas; choose another")
    return Settings(database_url=database_url or None, target_schema=schema)


def external_database_url(explicit: str | None) -> str | None:
    """The server the user named, or None for the embedded one. ``""`` means libpq's PG* variables."""
    if explicit:
        return explicit
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if any(os.environ.get(name) for name in PG_VARIABLES):
        return ""
    return None
