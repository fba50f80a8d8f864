"""``invoke transform``: run the rendered transform SQL in one transaction, and ``invoke render``.

Python only orders and renders the steps; PostgreSQL does the casting, the id map, the
reference rewrite, orphan and reject logging, the merge and the inserts. The runner executes
exactly the text ``invoke render`` writes.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from d1pg import console, mapping
from d1pg.audit import audited
from d1pg.config import Settings
from d1pg.db import database_url, describe_error, locked_connection, run_script, server_version
from d1pg.errors import DatabaseError, InputError
from d1pg.render import render
from d1pg.stage import ensure_bookkeeping


@dataclass(frozen=True)
class Step:
    """One rendered SQL file of the transform, in execution order."""

    template: str
    table: str | None
    sql: str

    @property
    def label(self) -> str:
        stem = Path(self.template).stem.split("_", 1)[1]
        return f"{stem} {self.table}" if self.table else stem


@dataclass
class Options:
    replace: bool = False
    accept_unmapped: bool = False
    accept_missing: bool = False
    merge_winner: str = "wallet"

    def settings(self) -> dict[str, str]:
        return {
            "d1pg.replace": "on" if self.replace else "off",
            "d1pg.accept_unmapped": "on" if self.accept_unmapped else "off",
            "d1pg.accept_missing": "on" if self.accept_missing else "off",
            "d1pg.merge_winner": self.merge_winner,
        }


def work_table(source: str) -> str:
    """The temporary table holding each row's decision for one source table (20_convert_source)."""
    return f"work_{source}"


def conv_table(source: str) -> str:
    """The temporary table holding one source table's converted values (20_convert_source)."""
    return f"conv_{source}"


def _context(settings: Settings, server_version_num: int, staged: set[str]) -> dict:
    sources = mapping.plan()
    return {
        "target_schema": settings.target_schema,
        "server_version_num": server_version_num,
        "sources": sources,
        "tables": mapping.tables(),
        "mapped_sources": sorted(mapping.mapped_source_names()),
        "skipped_sources": mapping.skipped_sources(),
        "ref_sources": mapping.ref_sources(),
        "target_tables": mapping.target_tables(),
        "staged": staged,
        "work_table": work_table,
        "conv_table": conv_table,
    }


def steps(settings: Settings, server_version_num: int, staged: set[str]) -> list[Step]:
    """The transform, rendered for one server and one staging, in execution order."""
    ctx = _context(settings, server_version_num, staged)
    out = [Step(t, None, render(t, **ctx)) for t in (
        "transform/00_functions.sql", "transform/01_json_function.sql", "transform/02_number_list_functions.sql",
        "transform/10_prologue.sql",
        "transform/11_check_backup.sql", "transform/12_check_target.sql", "transform/13_prepare_target.sql",
        "transform/14_drop_foreign_keys.sql")]
    merge_sources = [s for s in ctx["sources"] if s.merge]
    for source in ctx["sources"]:
        work, conv = work_table(source.name), conv_table(source.name)
        out.append(Step("transform/20_convert_source.sql", source.name,
                        render("transform/20_convert_source.sql", source=source, work=work, conv=conv, **ctx)))
        out.append(Step("transform/30_load_source.sql", source.name,
                        render("transform/30_load_source.sql", source=source, work=work, conv=conv, **ctx)))
        if source.merge and source is merge_sources[-1]:
            out.append(Step("transform/40_merge_progress.sql", "user_progress, user_wallet",
                            render("transform/40_merge_progress.sql", **ctx)))
    out += [Step(t, None, render(t, **ctx)) for t in ("transform/45_restore_foreign_keys.sql",
                                                      "transform/50_skipped_tables.sql",
                                                      "transform/55_value_changes.sql",
                                                      "transform/60_unmapped_columns.sql")]
    return out


def staged_tables(conn: psycopg.Connection) -> set[str]:
    exists = conn.execute("select to_regclass('migration.staged_tables') is not null").fetchone()[0]
    if not exists:
        return set()
    return {r[0] for r in conn.execute(
        "select table_name from migration.staged_tables where skipped_reason is null").fetchall()}


def transform(settings: Settings, options: Options | None = None, *, progress: bool | None = None,
              quiet: bool = False, staged_by: str | None = None) -> str:
    """Run the transform in one transaction; return the run id. With ``staged_by`` (a stage run id:
    ``migrate`` passes the stage it just ran) it stops unless staging still holds that stage."""
    options = options or Options()
    if options.merge_winner not in ("wallet", "progress"):
        raise InputError("--merge-winner must be wallet or progress")
    url = database_url(settings)
    started = time.perf_counter()
    with locked_connection(url) as conn:
        ensure_bookkeeping(conn)
        num, _ = server_version(conn)
        staged = staged_tables(conn)
        rendered = steps(settings, num, staged)
        stage_run = conn.execute(  # as 10_prologue.sql finds it
            "select coalesce((select stage_run_id from migration.staged_tables limit 1),"
            " (select run_id from migration.runs where step = 'stage' and status = 'succeeded'"
            " order by finished_at desc limit 1))").fetchone()[0]
        conn.commit()
        with audited(url, "transform", stage_run_id=stage_run,
                     options={k: v for k, v in options.settings().items()}) as audit:
            run_id = str(audit.run_id)
            if staged_by is not None and str(stage_run) != staged_by:
                raise DatabaseError(
                    f"staging no longer holds what this run staged (stage run {staged_by}): another run replaced"
                    f" it in between (stage run {stage_run}); nothing was written. Run it again")
            _execute(conn, rendered, run_id, options, audit, progress)
            conn.commit()
            outcomes = conn.execute(
                "select source_table, staged, migrated, merged, skipped, orphaned, rejected, skip_reason"
                " from migration.table_outcomes where run_id = %s", [run_id]).fetchall()
            for row in outcomes:
                audit.log("info", "outcome", table=row[0], counts=dict(zip(
                    ("staged", "migrated", "merged", "skipped", "orphaned", "rejected"), row[1:7], strict=True)))
            for warning in _warnings(conn, settings):
                audit.log("warning", warning)
    if not quiet:
        _summary(outcomes, time.perf_counter() - started, run_id)
    return run_id


def _execute(conn, rendered: list[Step], run_id: str, options: Options, audit, progress) -> None:
    conn.execute("select set_config('d1pg.run_id', %s, true)", [run_id])
    for name, value in options.settings().items():
        conn.execute("select set_config(%s, %s, true)", [name, value])
    with console.byte_progress("transform", len(rendered), progress) as update:
        for i, step in enumerate(rendered):
            update(i, f"transform: {step.label}")
            audit.log("info", f"step {step.label} started", table=step.table)
            t0 = time.perf_counter()
            try:
                run_script(conn, step.sql)
            except psycopg.Error as exc:
                with contextlib.suppress(psycopg.Error):  # the connection may be gone with the error
                    conn.rollback()
                message = describe_error(exc)
                where = f"step {step.label}"
                if getattr(exc, "sqlstate", None) == "P0001":  # raised by the SQL's own checks
                    raise InputError(f"transform stopped at {where}: {message}") from None
                raise DatabaseError(f"transform failed at {where}: {message}") from None
            audit.log("info", f"step {step.label} done in {time.perf_counter() - t0:.2f} s", table=step.table)
        update(len(rendered))


def _warnings(conn, settings: Settings) -> list[str]:
    """Things a person should know that are not losses: e-mails that differ only in letter case."""
    rows = conn.execute(
        psycopg.sql.SQL("select lower(email), count(*) from {}.users group by lower(email) having count(*) > 1")
        .format(psycopg.sql.Identifier(settings.target_schema))).fetchall()
    return [f"users.email: {len(rows)} e-mail address(es) differ only in letter case"
            " (kept as distinct users; compared exactly)"] if rows else []


def _summary(outcomes, seconds: float, run_id: str) -> None:
    rows = [[r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] or ""] for r in outcomes]
    total = [sum(r[i] for r in rows) for i in range(1, 7)]
    rows.append(["total", *total, ""])
    console.show(console.table("Transform outcome per source table",
                             ["table", "staged", "migrated", "merged", "skipped", "orphaned", "rejected",
                              "skip reason"], rows, right={1, 2, 3, 4, 5, 6}))
    console.say(f"transform committed in {seconds:.1f} s ({total[0] / max(seconds, 1e-9):,.0f} staged rows/s);"
               f" run {run_id}")
