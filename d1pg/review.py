"""``invoke status`` and ``invoke review``: what is staged, the last runs, and every row that did not
move as it was (rejects, orphans, merge conflicts) with its raw values, secrets masked.

Read-only: both only query ``migration.*`` (and, for the CSV's source rows, ``staging.*``).
Everything shown or written passes :func:`d1pg.console.mask_value` (contract §9).
"""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

import psycopg
from psycopg import sql

from d1pg import console
from d1pg.config import ADVISORY_LOCK_NAME, Settings
from d1pg.console import mask_value
from d1pg.db import connect, database_url, qualified
from d1pg.errors import InputError
from d1pg.identifiers import is_plain_identifier


def shown(column: str | None, value: str | None, width: int) -> str | None:
    """A value as a person sees it on screen: masked, on one line, cut to ``width`` characters."""
    value = mask_value(column, value)
    if value is None:
        return None
    value = value.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return value if len(value) <= width else value[: width - 1] + "…"


def _bookkeeping(conn: psycopg.Connection) -> bool:
    return conn.execute("select to_regclass('migration.runs') is not null"
                        " and to_regclass('migration.staged_tables') is not null").fetchone()[0]


# ---------------------------------------------------------------------------------------------- status

@dataclass
class Status:
    staged: list[tuple] = field(default_factory=list)  # table, staged, loaded, unstorable, skipped, long ints
    stage_run: dict | None = None
    runs: list[dict] = field(default_factory=list)
    last_transform: dict | None = None
    lock_held: bool = False


_RUN_COLUMNS = ("run_id", "step", "status", "started_at", "finished_at", "failure")


def status(settings: Settings, *, runs: int = 10, quiet: bool = False) -> Status:
    """What is staged, the stage run, the last ``runs`` runs, the last transform's totals."""
    if runs < 1:
        raise InputError("--runs must be at least 1")
    result = Status()
    with connect(database_url(settings)) as conn:
        result.lock_held = conn.execute(
            "select exists (select 1 from pg_locks as l where l.locktype = 'advisory' and l.granted"
            " and l.database = (select oid from pg_database where datname = current_database())"
            " and l.objid = hashtext(%s)::oid)", [ADVISORY_LOCK_NAME]).fetchone()[0]
        if _bookkeeping(conn):
            _read_status(conn, result, runs)
    if not quiet:
        _show_status(result)
    return result


def _read_status(conn: psycopg.Connection, result: Status, runs: int) -> None:
    result.staged = conn.execute(
        "select table_name, staged_rows, loaded_rows, unstorable_rows, skipped_reason, long_integers"
        " from migration.staged_tables order by position").fetchall()
    stage = conn.execute(
        "select r.run_id, r.started_at, r.finished_at, r.backup_path, r.backup_sha256, r.backup_size_bytes,"
        " r.backup_created_at, r.backup_created_by, r.backup_version, r.backup_version_name"
        " from migration.runs as r where r.run_id = (select stage_run_id from migration.staged_tables limit 1)"
    ).fetchone()
    if stage:
        result.stage_run = dict(zip(("run_id", "started_at", "finished_at", "backup_path", "backup_sha256",
                                     "backup_size_bytes", "backup_created_at", "backup_created_by",
                                     "backup_version", "backup_version_name"), stage, strict=True))
    result.runs = [dict(zip(_RUN_COLUMNS, r, strict=True)) for r in conn.execute(
        f"select {', '.join(_RUN_COLUMNS)} from migration.runs"  # noqa: S608 - fixed column names
        " order by started_at desc, run_id limit %s", [runs]).fetchall()]
    last = conn.execute(
        "select r.run_id, r.stage_run_id, r.finished_at,"
        " coalesce(sum(o.staged), 0), coalesce(sum(o.migrated), 0), coalesce(sum(o.merged), 0),"
        " coalesce(sum(o.skipped), 0), coalesce(sum(o.orphaned), 0), coalesce(sum(o.rejected), 0)"
        " from migration.runs as r left join migration.table_outcomes as o on o.run_id = r.run_id"
        " where r.run_id = (select run_id from migration.runs where step = 'transform' and status = 'succeeded'"
        " order by started_at desc limit 1) group by r.run_id, r.stage_run_id, r.finished_at").fetchone()
    if last:
        result.last_transform = dict(zip(("run_id", "stage_run_id", "finished_at", "staged", "migrated", "merged",
                                          "skipped", "orphaned", "rejected"), last, strict=True))
        result.last_transform["conflicts"] = conn.execute(
            "select count(*) from migration.conflicts where run_id = %s", [last[0]]).fetchone()[0]


def _when(ts) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if ts else ""


def _show_status(s: Status) -> None:
    if not s.staged and not s.runs:
        console.say("nothing is staged and no run is recorded in this database (`invoke stage BACKUP` starts)")
        return
    if s.staged:
        rows = [[name, staged, loaded, unstorable, skipped or "",
                 ", ".join(f"{k} ({v})" for k, v in (long_ints or {}).items())]
                for name, staged, loaded, unstorable, skipped, long_ints in s.staged]
        rows.append(["total", sum(r[1] for r in s.staged), sum(r[2] for r in s.staged),
                     sum(r[3] for r in s.staged), "", ""])
        console.show(console.table("Staged", ["table", "rows", "stored", "unstorable", "skipped",
                                            "integers beyond 2^53"], rows,
                                 right={1, 2, 3}))
    else:
        console.say("nothing is staged")
    if s.stage_run:
        r = s.stage_run
        size = f"{r['backup_size_bytes'] / 1e6:,.1f} MB" if r["backup_size_bytes"] is not None else "?"
        console.say(f"stage run {r['run_id']} finished {_when(r['finished_at']) or '(not finished)'}: "
                   f"{r['backup_path']} ({size}, sha256 {(r['backup_sha256'] or '?')[:16]}…); backup createdAt "
                   f"{r['backup_created_at']}"
                   + (f", version {r['backup_version']} {r['backup_version_name'] or ''}".rstrip()
                      if r["backup_version"] is not None else ""))
    if s.runs:
        rows = []
        for r in s.runs:
            state = r["status"]
            if state == "running" and not s.lock_held:
                state = "running? (no run holds the lock: interrupted)"
            # in UTC: two datetimes of one zone subtract by their wall clocks, wrong across a clock change
            took = ((r["finished_at"].astimezone(UTC) - r["started_at"].astimezone(UTC)).total_seconds()
                    if r["finished_at"] else None)
            rows.append([r["step"], _when(r["started_at"]), _when(r["finished_at"]), took, state,
                         shown("failure", r["failure"], 100) or "", str(r["run_id"])])
        console.show(console.table(f"Last {len(rows)} run(s), newest first",
                                 ["step", "started", "finished", "seconds", "status", "cause", "run"],
                                 rows, right={3}))
    t = s.last_transform
    if t:
        console.say(f"last successful transform {t['run_id']} ({_when(t['finished_at'])}): {t['staged']:,} staged ="
                   f" {t['migrated']:,} migrated + {t['merged']:,} merged + {t['skipped']:,} skipped +"
                   f" {t['orphaned']:,} orphaned + {t['rejected']:,} rejected; {t['conflicts']:,} merge conflicts."
                   " `invoke review` lists them.")


# ---------------------------------------------------------------------------------------------- review

@dataclass
class Review:
    run_id: str
    step: str
    rejects: list[dict] = field(default_factory=list)
    orphans: list[dict] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    csv_files: list[Path] = field(default_factory=list)


REJECT_COLUMNS = ("run_id", "source_table", "source_ord", "source_id", "column_name", "reason", "raw_value", "detail")
ORPHAN_COLUMNS = ("run_id", "source_table", "source_ord", "source_id", "fk_column", "missing_value", "parent_table",
                  "action")
CONFLICT_COLUMNS = ("run_id", "target_table", "key", "detail")


def review(settings: Settings, *, run_id: str | None = None, tables: tuple[str, ...] = (), limit: int = 10,
           csv_dir: Path | None = None, quiet: bool = False) -> Review:
    """The rejects, orphans and conflicts of one transform run (default: the last that succeeded; with
    no transform yet, the current stage's unstorable rows), shown masked; ``csv_dir`` gets them all."""
    if limit < 0:
        raise InputError("--limit must be 0 or more")
    for name in tables:
        if not is_plain_identifier(name):
            raise InputError(f"--table {name!r} is not a table name")
    with connect(database_url(settings)) as conn:
        if not _bookkeeping(conn):
            raise InputError("nothing to review: this database holds no d1pg bookkeeping (schema migration)")
        run, step, stage_run = _pick_run(conn, run_id)
        result = Review(str(run), step)
        runs = [run] + ([stage_run] if stage_run else [])
        result.rejects = _fetch(conn, "rejects", REJECT_COLUMNS, "source_table", runs, tables,
                                ("source_table", "source_ord", "reject_id"))
        result.orphans = _fetch(conn, "orphans", ORPHAN_COLUMNS, "source_table", runs, tables,
                                ("source_table", "source_ord", "orphan_id"))
        result.conflicts = _fetch(conn, "conflicts", CONFLICT_COLUMNS, "target_table", runs, tables,
                                  ("target_table", "key", "conflict_id"))
        if csv_dir is not None:
            staged_run = stage_run if step == "transform" else run
            rows = _source_rows(conn, staged_run, result.rejects + result.orphans)
            result.csv_files = _write_csv(csv_dir, result, rows)
    if not quiet:
        _show_review(result, limit)
    return result


def _pick_run(conn: psycopg.Connection, run_id: str | None) -> tuple[uuid.UUID, str, uuid.UUID | None]:
    if run_id:
        try:
            wanted = uuid.UUID(run_id)
        except ValueError:
            raise InputError(f"--run {run_id!r} is not a run id (a UUID; `invoke status` lists them)") from None
        row = conn.execute("select run_id, step, stage_run_id, status from migration.runs where run_id = %s",
                           [wanted]).fetchone()
        if row is None:
            raise InputError(f"--run {run_id}: no such run in migration.runs (`invoke status` lists them)")
        if row[1] not in ("transform", "stage"):
            raise InputError(f"--run {run_id} is a {row[1]} run; rejects, orphans and conflicts belong to"
                             " transform (and stage) runs")
        return row[0], row[1], row[2]
    row = conn.execute("select run_id, step, stage_run_id from migration.runs where step = 'transform'"
                       " and status = 'succeeded' order by started_at desc limit 1").fetchone()
    if row is None:
        row = conn.execute("select r.run_id, r.step, null::uuid from migration.runs as r where r.run_id ="
                           " (select stage_run_id from migration.staged_tables limit 1)").fetchone()
    if row is None:
        raise InputError("nothing to review: no transform has succeeded and nothing is staged")
    return row[0], row[1], row[2]


def _fetch(conn, table: str, columns: tuple[str, ...], table_column: str, runs: list, tables: tuple[str, ...],
           order: tuple[str, ...]) -> list[dict]:
    """The rows of ``migration.<table>`` for these runs (and these tables, when given)."""
    only = sql.SQL(" and {} = any(%s)").format(sql.Identifier(table_column)) if tables else sql.SQL("")
    query = sql.SQL("select {columns} from {table} where run_id = any(%s){only} order by {order}").format(
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)), table=qualified("migration", table), only=only,
        order=sql.SQL(", ").join(map(sql.Identifier, order)))
    params = [runs, list(tables)] if tables else [runs]
    out = []
    for row in conn.execute(query, params).fetchall():
        record = dict(zip(columns, row, strict=True))
        if table == "conflicts":
            record["detail"] = json.dumps(record["detail"], ensure_ascii=False)
        out.append(record)
    return out


def _source_rows(conn, stage_run, records: list[dict]) -> dict[tuple[str, int], str]:
    """The staged rows behind the records, when the staging still holds the run's backup."""
    current = conn.execute("select stage_run_id from migration.staged_tables limit 1").fetchone()
    if not records or stage_run is None or current is None or current[0] != stage_run:
        return {}
    wanted: dict[str, set[int]] = {}
    for r in records:
        wanted.setdefault(r["source_table"], set()).add(r["source_ord"])
    out = {}
    for table, ords in wanted.items():
        if not is_plain_identifier(table) or not conn.execute(
                "select to_regclass(format('staging.%%I', %s::text)) is not null", [table]).fetchone()[0]:
            continue
        query = sql.SQL("select ord, coalesce(doc::text, raw_text) from {} where ord = any(%s)").format(
            qualified("staging", table))
        for ord_, text in conn.execute(query, [sorted(ords)]).fetchall():
            out[(table, ord_)] = text
    return out


_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")


def spreadsheet_safe(value) -> str:
    """A CSV cell that a spreadsheet shows as text: a value that would start a formula (=, +, -, @,
    tab, carriage return) gets a leading apostrophe, unless it is a plain number."""
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.match(text):
        return "'" + text
    return text


MASK_BY = {"raw_value": "column_name", "missing_value": "fk_column"}
"""Values whose secrecy is decided by the column the row names, not by their own field name."""


def masked(record: dict, column: str) -> str | None:
    """One field of a reject, orphan or conflict as a person may see it (contract §9)."""
    name = record[MASK_BY[column]] if column in MASK_BY else column
    return mask_value(name, _text(record[column]))


def _write_csv(folder: Path, result: Review, source_rows: dict) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, columns, records in (("rejects.csv", REJECT_COLUMNS, result.rejects),
                                   ("orphans.csv", ORPHAN_COLUMNS, result.orphans),
                                   ("conflicts.csv", CONFLICT_COLUMNS, result.conflicts)):
        with_rows = name != "conflicts.csv"
        path = folder / name
        # UTF-8 with a byte order mark: spreadsheets then read non-ASCII text right.
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([*columns, *(["source_row"] if with_rows else [])])
            for r in records:
                values = [masked(r, c) for c in columns]
                if with_rows:
                    values.append(mask_value(None, source_rows.get((r["source_table"], r["source_ord"]))))
                writer.writerow([spreadsheet_safe(v) for v in values])
        written.append(path)
    return written


def _text(value) -> str | None:
    return None if value is None else str(value)


def _show_review(r: Review, limit: int) -> None:
    console.say(f"review of {r.step} run {r.run_id}")
    if not (r.rejects or r.orphans or r.conflicts):
        console.say("no rejects, orphans or conflicts: every staged row of this run moved as it was"
                   " (or was skipped on purpose)")
    if r.rejects:
        by = Counter((x["source_table"], x["reason"], x["column_name"] or "") for x in r.rejects)
        console.show(console.table("Rejects by table and reason", ["table", "reason", "column", "rows"],
                                 [[t, why, col, n] for (t, why, col), n in sorted(by.items())],
                                 right={3}))
        rows = [[x["source_table"], x["source_ord"], shown("source_id", x["source_id"], 40), x["column_name"],
                 x["reason"], shown(x["column_name"], x["raw_value"], 60)] for x in r.rejects[:limit]]
        console.show(console.table(f"Rejects (first {len(rows)} of {len(r.rejects):,})",
                                 ["table", "ord", "id", "column", "reason", "raw value"],
                                 rows, right={1}))
    if r.orphans:
        by = Counter((x["source_table"], x["fk_column"], x["parent_table"], x["action"]) for x in r.orphans)
        console.show(console.table("Orphans by table and reference", ["table", "column", "parent", "action", "rows"],
                                 [[a, b, c, d, n] for (a, b, c, d), n in sorted(by.items())],
                                 right={4}))
        rows = [[x["source_table"], x["source_ord"], shown("source_id", x["source_id"], 40), x["fk_column"],
                 shown(x["fk_column"], x["missing_value"], 40), x["parent_table"], x["action"]]
                for x in r.orphans[:limit]]
        console.show(console.table(f"Orphans (first {len(rows)} of {len(r.orphans):,})",
                                 ["table", "ord", "id", "column", "missing value", "parent", "action"],
                                 rows, right={1}))
    if r.conflicts:
        by = Counter((x["target_table"], key) for x in r.conflicts for key in json.loads(x["detail"]) if key != "kept")
        console.show(console.table("Merge conflicts by table and value", ["table", "value", "rows"],
                                 [[t, k, n] for (t, k), n in sorted(by.items())], right={2}))
        rows = [[x["target_table"], x["key"], shown("detail", x["detail"], 100)] for x in r.conflicts[:limit]]
        console.show(console.table(f"Merge conflicts (first {len(rows)} of {len(r.conflicts):,})",
                                 ["table", "key", "detail"], rows, right=set()))
    for path in r.csv_files:
        console.say(f"wrote {path}")
