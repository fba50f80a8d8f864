"""``invoke db``: where the database is, how to reach it with psql, and stopping the embedded one."""

from __future__ import annotations

import shlex

from d1pg import console
from d1pg.config import Settings, external_database_url
from d1pg.db import connect, database_url, mask, server_version, stop_embedded


def show_database(settings: Settings, *, stop: bool = False) -> None:
    external = external_database_url(settings.database_url)
    if stop:
        if external is not None:
            console.say("the database is an external server (DATABASE_URL / PG* / --database-url): nothing to stop")
        elif stop_embedded(settings.pgdata):
            console.say(f"stopped the embedded PostgreSQL under {settings.pgdata}")
        else:
            console.say(f"the embedded PostgreSQL under {settings.pgdata} is not running")
        return
    url = database_url(settings)
    with connect(url) as conn:
        _, version = server_version(conn)
    where = "embedded server, data in " + str(settings.pgdata) if external is None else "external server"
    console.say(f"PostgreSQL {version} ({where})")
    console.say(f"psql {shlex.quote(mask(url))}" if url else "psql   # with your PG* variables")
