"""``invoke bench``: d1pg against its floors and against pgloader, same run, same server.

For each size (rows across the tables) it generates a backup with ``gen-backup`` (kept in
the work folder; the same size and seed give the same file) and measures, each in a fresh
database on the same server:

- d1pg: ``stage``, ``transform`` and ``validate`` (default sampling), each in its own Python
  process as a user runs it: wall time, rows/s and MB/s of the backup, the peak RSS of that
  process, and its CPU time and the CPU time of the PostgreSQL backends serving it (when the
  server runs on this machine). After transform, the accounting identity of §6 must hold for
  every row of ``migration.table_outcomes`` of the run, or the benchmark fails.
- the transform of as many rows of the core tables only (gen-backup shape ``core``, the other
  mapped tables absent and accepted): the all-tables transform's rows/s must stay within 20% of it.
- the staging floor: the same rows, serialised beforehand as one compact JSON text per line,
  loaded by a plain text COPY into one one-column jsonb table per backup table.
- the typed floors: the rows d1pg migrated, written beforehand as CSV, loaded by COPY into the
  target tables (same DDL) in dependency order, in one transaction, twice: with every key and index
  in place, and in pg_restore's order (primary keys, unique constraints, foreign keys and the other
  indexes dropped before the clock starts; NOT NULL, CHECK and defaults kept; the clock covers the
  COPYs, adding back the primary and unique keys, the indexes and the foreign keys, and the commit).
  The goals compare with the faster of the two.
- pgloader: the same rows as a SQLite database (built beforehand with ``sqlite3``, D1's column
  types) loaded by ``pgloader`` into a fresh database, end to end.
- the other inputs: ``stage`` of the same rows as that SQLite file and as a ``wrangler d1 export``
  dump of it (:mod:`d1pg.forms`, written beforehand), each in a fresh database and its own
  process, against ``stage`` of the JSON (goal: at most 1.5 times).

It prints the times and the ratios against the goals, and writes them with the machine, its
load and the versions to a Markdown file (``docs/benchmarks.md`` by default).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from d1pg import console, mapping
from d1pg.backup import BackupReader, Unstorable
from d1pg.config import Settings
from d1pg.db import embedded_url, external_database_url, mask
from d1pg.errors import CheckFailed, D1pgError, DatabaseError, InputError
from d1pg.inputs.sqlite_rows import quote_identifier
from d1pg.runs import RowRun

ROWS_PER_USER = 112.6
"""gen-backup writes about this many rows per user (shape full, measured at 2,000 users, seed 1)."""
DEFAULT_ROWS = (100_000, 1_000_000, 4_000_000)
CORE_ROWS_PER_USER = 55.8
"""gen-backup's shape core writes about this many rows per user (core-tables.md's tables only)."""
CORE_SPEED_GOAL = 0.8
"""The transform's rows per second on every table stay within 20% of its speed on the core tables."""
VALIDATE_GOAL = 0.25
"""validate (every row's fate, value fidelity's default sample) within this share of the transform's time."""
DATABASES = ("d1pg", "floor", "typed", "restore", "pgloader", "forms", "core")
"""The databases the benchmark creates (and replaces) on the server: <prefix>_<name>."""
STAGE_GOAL, MIGRATION_GOAL, RSS_GOAL_MB, RSS_SPREAD, FORM_GOAL = 1.5, 3.0, 200.0, 0.20, 1.5
FORMS = {"stage (SQL dump)": "sql-dump", "stage (SQLite file)": "sqlite"}
"""The other inputs staged from the same rows, by phase name."""
RESTORE_FLOOR = "typed floor (restore order)"
TYPED_FLOORS = ("typed floor", RESTORE_FLOOR)
"""The two loads of the migrated rows: keys and indexes in place, and in pg_restore's order."""
_BLOCK = 1 << 20


@dataclass
class Phase:
    """One timed step. ``rows``/``mb`` are what it moved; CPU times in seconds, None if unknown."""

    seconds: float
    rows: int
    mb: float
    rss_mb: float | None = None
    client_cpu: float | None = None
    server_cpu: float | None = None
    process_seconds: float | None = None  # the whole Python process, start to exit
    note: str = ""

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.mb / self.seconds if self.seconds else 0.0


@dataclass
class SizeResult:
    target_rows: int
    users: int
    rows: int = 0
    backup_mb: float = 0.0
    phases: dict[str, Phase] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after

    def ratio(self, a: str, b: str) -> float | None:
        if a in self.phases and b in self.phases and self.phases[b].seconds:
            return self.phases[a].seconds / self.phases[b].seconds
        return None

    @property
    def typed_floor(self) -> str | None:
        """The faster of the typed floors measured (the one the goals compare with), or None."""
        timed = [name for name in TYPED_FLOORS if name in self.phases and self.phases[name].seconds]
        return min(timed, key=lambda name: self.phases[name].seconds, default=None)

    @property
    def migration_seconds(self) -> float:
        return sum(self.phases[p].seconds for p in ("stage", "transform", "validate") if p in self.phases)

    @property
    def end_to_end_seconds(self) -> float:
        """d1pg as a user runs it: each step's whole Python process, start to exit."""
        return sum(self.phases[p].process_seconds or self.phases[p].seconds
                   for p in ("stage", "transform", "validate") if p in self.phases)


# -- entry point ------------------------------------------------------------------------------------


def bench(settings: Settings, rows: tuple[int, ...] = DEFAULT_ROWS, *, server: str = "embedded",
          pgloader: bool = True, work: Path = Path(".d1pg/bench"), out: Path | None = Path("docs/benchmarks.md"),
          seed: int = 1, quiet: bool = False, prefix: str = "d1pg_bench", forms: bool = True) -> list[SizeResult]:
    """Run the benchmark for each size in ``rows``; write ``out`` (Markdown) unless None. The
    databases it uses are named ``<prefix>_d1pg``, ``<prefix>_floor``, ... and replaced each run."""
    if not rows or any(int(n) < 1 for n in rows):
        raise InputError("--rows takes positive row counts, e.g. --rows 100000")
    names = {name: f"{prefix}_{name}" for name in DATABASES}
    base = _server_url(settings, server)
    work.mkdir(parents=True, exist_ok=True)
    pgloader_path = shutil.which("pgloader") if pgloader else None
    machine = _machine(base, pgloader_path)
    results = []
    for n in rows:
        result = _one_size(base, names, int(n), seed, work, pgloader, pgloader_path, quiet, forms)
        results.append(result)
        if not quiet:
            _show(result)
    if not quiet:
        _show_goals(results)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(markdown(results, machine, rows, server, pgloader))
        if not quiet:
            console.say(f"wrote {out}")
    return results


def _server_url(settings: Settings, server: str) -> str:
    if server == "embedded":
        return embedded_url(settings.pgdata)
    url = external_database_url(server)
    if not url:
        raise InputError("--server takes 'embedded' or a PostgreSQL URL")
    return url


def _db_url(base: str, dbname: str) -> str:
    params = conninfo_to_dict(base)
    params["dbname"] = dbname
    return make_conninfo(**params)


def _fresh_database(base: str, dbname: str) -> str:
    try:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    except psycopg.Error as exc:
        raise DatabaseError(f"bench: cannot create database {dbname} on {mask(base)}: {exc}") from None
    return _db_url(base, dbname)


# -- one size -------------------------------------------------------------------------------------


def _one_size(base: str, names: dict[str, str], target: int, seed: int, work: Path, pgloader: bool,
              pgloader_path: str | None, quiet: bool, forms: bool = True) -> SizeResult:
    users = max(1, round(target / ROWS_PER_USER))
    result = SizeResult(target, users, load=(os.getloadavg()[0], 0.0))
    backup = work / f"backup-{users}u-seed{seed}.json"
    if not backup.exists():
        _say(quiet, f"bench: generating {backup} ({users:,} users)")
        from d1pg.generate import generate_backup

        generate_backup(backup, users=users, seed=seed)
    result.backup_mb = backup.stat().st_size / 1e6

    # d1pg, as a user runs it: schema (not timed), then stage, transform, validate.
    url = _fresh_database(base, names["d1pg"])
    from d1pg.schema import create_schema

    create_schema(Settings(database_url=url), quiet=True)
    _say(quiet, f"bench {target:,}: stage")
    stage, out = _child("stage", url, names["d1pg"], backup)
    result.rows = out["rows"]
    stage.rows, stage.mb = result.rows, result.backup_mb
    result.phases["stage"] = stage
    _say(quiet, f"bench {target:,}: transform")
    transform, out = _child("transform", url, names["d1pg"], backup)
    transform.rows, transform.mb = result.rows, result.backup_mb
    result.phases["transform"] = transform
    _check_accounting(url, out["run_id"])
    _say(quiet, f"bench {target:,}: validate")
    validate, out = _child("validate", url, names["d1pg"], backup)
    if out.get("skipped"):
        result.notices.append(f"validate skipped: {out['skipped']}")
    else:
        validate.rows, validate.mb = result.rows, result.backup_mb
        result.phases["validate"] = validate

    if forms:
        _stage_forms(result, base, names["forms"], url, backup, quiet)

    _say(quiet, f"bench {target:,}: transform (core tables only)")
    result.phases["transform (core tables)"] = _core_transform(base, names["core"], target, seed, work)

    _say(quiet, f"bench {target:,}: staging floor")
    result.phases["staging floor"] = _staging_floor(base, names["floor"], backup, work)
    _say(quiet, f"bench {target:,}: typed floor")
    folder = work / f"typed-{users}u-seed{seed}"
    tables = _typed_csv(url, folder)
    result.phases["typed floor"] = _typed_floor(base, names["typed"], folder, tables)
    _say(quiet, f"bench {target:,}: typed floor (restore order)")
    result.phases[RESTORE_FLOOR] = _typed_floor(base, names["restore"], folder, tables, restore_order=True)
    if pgloader:
        if pgloader_path is None:
            result.notices.append("pgloader is not installed (Debian package pgloader): its run is left out")
        else:
            _say(quiet, f"bench {target:,}: pgloader")
            try:
                timeout = max(60.0, 2 * result.end_to_end_seconds)
                phase, notices = _pgloader(base, names["pgloader"], url, backup, pgloader_path, timeout)
                result.phases["pgloader"] = phase
                result.notices += notices
            except D1pgError as exc:
                result.notices.append(f"pgloader failed: {exc}")
    result.load = (result.load[0], os.getloadavg()[0])
    return result


def _core_transform(base: str, dbname: str, target: int, seed: int, work: Path) -> Phase:
    """The transform of as many rows of the core tables only (gen-backup shape core; the other mapped
    tables absent, accepted): the speed the all-tables transform is compared with."""
    from d1pg.generate import generate_backup
    from d1pg.schema import create_schema

    users = max(1, round(target / CORE_ROWS_PER_USER))
    backup = work / f"backup-core-{users}u-seed{seed}.json"
    if not backup.exists():
        generate_backup(backup, users=users, seed=seed, shape="core")
    url = _fresh_database(base, dbname)
    create_schema(Settings(database_url=url), quiet=True)
    _, out = _child("stage", url, dbname, backup)
    phase, _ = _child("transform-accept-missing", url, dbname, backup)
    phase.rows, phase.mb = out["rows"], backup.stat().st_size / 1e6
    return phase


def _stage_forms(result: SizeResult, base: str, dbname: str, d1pg_url: str, backup: Path, quiet: bool) -> None:
    """Stage the same rows as a SQLite file and as a dump of it, each in a fresh database."""
    from d1pg.forms import write_dump

    database = _sqlite_database(backup, d1pg_url)
    dump = database.with_suffix(".sql")
    if not dump.exists():
        write_dump(database, dump.with_suffix(".sql.part")).rename(dump)
    for phase_name, kind in FORMS.items():
        source = dump if kind == "sql-dump" else database
        _say(quiet, f"bench {result.target_rows:,}: {phase_name}")
        url = _fresh_database(base, dbname)
        phase, out = _child("stage", url, dbname, source)
        phase.rows, phase.mb = out["rows"], source.stat().st_size / 1e6
        if out["rows"] != result.rows:
            result.notices.append(f"{phase_name} staged {out['rows']:,} rows, the JSON {result.rows:,}")
        result.phases[phase_name] = phase


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        console.say(message)


def _check_accounting(url: str, run_id: str) -> None:
    """§6 for every row of migration.table_outcomes of the run; the benchmark fails otherwise."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select source_table, staged, migrated, merged, skipped, orphaned, rejected"
            " from migration.table_outcomes where run_id = %s", [run_id]).fetchall()
    bad = [r for r in rows if r[1] != sum(r[2:])]
    if not rows or bad:
        raise CheckFailed(f"bench: the accounting identity fails for run {run_id}: "
                          + (", ".join(f"{r[0]} (staged {r[1]} != {sum(r[2:])})" for r in bad) or "no outcomes"))


# -- d1pg steps in their own processes ----------------------------------------------------------------


def _run_process(argv: list[str], output, errors, timeout: float | None = None) -> tuple[int | None, float, float,
                                                                                       float]:
    """Run a process to its end (or kill it after ``timeout`` s: exit code None): exit code, wall
    seconds, CPU seconds, peak RSS in MB.

    The peak RSS is the process's own (VmHWM, sampled while it runs): the kernel's ru_maxrss of a
    child also counts the pages of the parent it was forked from."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=output, stderr=errors)
    peak = 0
    code: int | None = None
    while (code := proc.poll()) is None:
        peak = max(peak, _vm_hwm_kb(proc.pid))
        if timeout is not None and time.perf_counter() - started > timeout:
            proc.kill()
            proc.wait()
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return code, elapsed, cpu, peak / 1024


def _vm_hwm_kb(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _child(step: str, url: str, dbname: str, backup: Path) -> tuple[Phase, dict]:
    """Run one d1pg step in a new Python process; time it and read its peak RSS and CPU."""
    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as errors, _ServerCpu(url, dbname) as server:
        code, elapsed, cpu, peak = _run_process([sys.executable, "-m", "d1pg.bench", step, url, str(backup)],
                                                output, errors)
        errors.seek(0)
        stderr = errors.read().decode(errors="replace").strip()
        output.seek(0)
        text = output.read().decode(errors="replace").strip()
    if code != 0:
        error = {1: CheckFailed, 2: InputError}.get(code, DatabaseError)
        raise error(f"bench: {step} failed: {stderr.splitlines()[-1] if stderr else f'exit {code}'}")
    out = json.loads(text.splitlines()[-1])
    phase = Phase(out.get("seconds", elapsed), 0, 0.0, rss_mb=max(peak, out.get("peak_rss_kb", 0) / 1024),
                  client_cpu=cpu, server_cpu=server.seconds, process_seconds=elapsed)
    return phase, out


def _run_step(step: str, url: str, backup: str) -> dict:
    """In the child: one step, quietly; the result as a dict (printed as JSON)."""
    settings = Settings(database_url=url)
    if step == "stage":
        from d1pg.stage import stage

        started = time.perf_counter()
        result = stage(settings, Path(backup), progress=False, quiet=True)
        return {"seconds": time.perf_counter() - started, "rows": result.rows, "run_id": result.run_id}
    if step in ("transform", "transform-accept-missing"):
        from d1pg.transform import Options, transform

        started = time.perf_counter()
        run_id = transform(settings, Options(accept_missing=step != "transform"), progress=False, quiet=True)
        return {"seconds": time.perf_counter() - started, "run_id": run_id}
    if step == "validate":
        try:
            from d1pg.validate import validate
        except ImportError:
            return {"skipped": "d1pg.validate is not available in this version"}
        started = time.perf_counter()
        validate(settings)
        return {"seconds": time.perf_counter() - started}
    raise InputError(f"bench: unknown step {step!r}")


class _ServerCpu:
    """CPU time of the PostgreSQL backends connected to one database, sampled from /proc while a step
    runs (so only when the server runs on this machine). Background processes are not counted."""

    def __init__(self, url: str, dbname: str):
        self.dbname = dbname
        self.seconds: float | None = None
        self._postmaster = _postmaster_pid(url)
        self._ticks: dict[int, int] = {}
        self._start: dict[int, int] = {}
        self._stop = threading.Event()

    def __enter__(self) -> _ServerCpu:
        if self._postmaster:
            self._start = self._sample()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._postmaster:
            self._stop.set()
            self._thread.join()
            self._ticks.update(self._sample())
            tick = os.sysconf("SC_CLK_TCK")
            self.seconds = sum(t - self._start.get(pid, 0) for pid, t in self._ticks.items()) / tick

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self._ticks.update(self._sample())

    def _sample(self) -> dict[int, int]:
        found: dict[int, int] = {}
        leaders = set(self._ticks) | set(self._start)
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            stat = _proc_stat(int(entry.name))
            if stat is None or stat[0] != self._postmaster:
                continue
            with contextlib.suppress(OSError):
                title = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                words = title.split()
                ours = (f" {self.dbname} " in f" {title} " and "autovacuum" not in title) or (
                    "parallel worker for PID" in title and words[-1].isdigit() and int(words[-1]) in leaders)
                if ours:
                    found[int(entry.name)] = stat[1]
        return found


def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, user + system ticks) of a process, or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _postmaster_pid(url: str) -> int | None:
    """The server's main process when it runs on this machine (seen in /proc), else None."""
    try:
        with psycopg.connect(url) as conn:
            backend = conn.execute("select pg_backend_pid()").fetchone()[0]
            stat = _proc_stat(backend)
            if stat is None:
                return None
            title = Path(f"/proc/{backend}/cmdline").read_bytes()
            return stat[0] if title.startswith(b"postgres") else None
    except (psycopg.Error, OSError):
        return None


# -- the floors --------------------------------------------------------------------------------------


def _staging_floor(base: str, dbname: str, backup: Path, work: Path) -> Phase:
    """A plain COPY of compact JSON lines into one one-column jsonb table per backup table."""
    folder = work / f"floor-{backup.stem}"
    if not (folder / "done").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        with BackupReader(backup, fast=False) as reader:
            for position, (_, rows) in enumerate(reader.tables()):
                with open(folder / f"{position:03d}.txt", "wb") as f:
                    for row in rows:
                        if not isinstance(row, Unstorable):
                            text = json.dumps(json.loads(row), ensure_ascii=False, separators=(",", ":"))
                            f.write(text.replace("\\", "\\\\").encode() + b"\n")
        (folder / "done").write_text("")
    url = _fresh_database(base, dbname)
    files = sorted(folder.glob("*.txt"))
    total_rows = 0
    total_bytes = sum(p.stat().st_size for p in files)
    with psycopg.connect(url) as conn, _ServerCpu(url, dbname) as server:
        cpu = time.process_time()
        started = time.perf_counter()
        for p in files:
            table = sql.Identifier(f"t{p.stem}")
            conn.execute(sql.SQL("create table {} (doc jsonb)").format(table))
            total_rows += _copy_file(conn, sql.SQL("copy {} (doc) from stdin").format(table), p)
        conn.commit()
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    return Phase(seconds, total_rows, total_bytes / 1e6, client_cpu=cpu, server_cpu=server.seconds)


def _typed_csv(d1pg_url: str, folder: Path) -> list[str]:
    """The rows d1pg migrated, one CSV file per target table; the tables in dependency order."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    tables = mapping.target_tables()
    with psycopg.connect(d1pg_url) as conn:
        for t in tables:
            with open(folder / f"{t}.csv", "wb") as f, conn.cursor().copy(
                    sql.SQL("copy {} to stdout (format csv)").format(sql.Identifier("public", t))) as copy:
                for block in copy:
                    f.write(block)
    return tables


def _typed_floor(base: str, dbname: str, folder: Path, tables: list[str], *, restore_order: bool = False) -> Phase:
    """The migrated rows' CSV COPY'd into the target tables (same DDL) in dependency order, in one
    transaction. With ``restore_order``, as pg_restore loads a dump: the keys and indexes are set
    aside before the clock starts, and the clock covers the COPYs, adding them back and the commit."""
    from d1pg.schema import create_schema

    url = _fresh_database(base, dbname)
    create_schema(Settings(database_url=url), quiet=True)
    total_rows = 0
    total_bytes = sum((folder / f"{t}.csv").stat().st_size for t in tables)
    with psycopg.connect(url) as conn:
        aside = set_aside_keys(conn, "public", tables) if restore_order else None
        conn.commit()
        with _ServerCpu(url, dbname) as server:
            cpu = time.process_time()
            started = time.perf_counter()
            for t in tables:
                total_rows += _copy_file(conn, sql.SQL("copy {} from stdin (format csv)").format(
                    sql.Identifier("public", t)), folder / f"{t}.csv")
            if aside is not None:
                restore_keys(conn, aside)
            conn.commit()
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
    note = "rows = migrated rows" + ("; keys and indexes added after the load" if restore_order else "")
    return Phase(seconds, total_rows, total_bytes / 1e6, client_cpu=cpu, server_cpu=server.seconds, note=note)


@dataclass
class SetAside:
    """Keys and indexes dropped for a load, with their names and definitions, in creation order."""

    schema: str
    keys: list[tuple[str, str, str]]  # primary keys and unique constraints: table, name, definition
    indexes: list[str]  # the other indexes: their CREATE INDEX statements (pg_get_indexdef)
    foreign_keys: list[tuple[str, str, str]]  # table, name, definition


_KEYS = """
    select k.contype = 'f', c.relname::text, k.conname::text, pg_catalog.pg_get_constraintdef(k.oid)
    from pg_catalog.pg_constraint as k
    inner join pg_catalog.pg_class as c on k.conrelid = c.oid
    inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
    where n.nspname = %s and c.relname = any(%s) and k.contype in ('p', 'u', 'f')
    order by k.oid"""

_INDEXES = """
    select x.relname::text, pg_catalog.pg_get_indexdef(i.indexrelid)
    from pg_catalog.pg_index as i
    inner join pg_catalog.pg_class as x on i.indexrelid = x.oid
    inner join pg_catalog.pg_class as c on i.indrelid = c.oid
    inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
    where n.nspname = %s and c.relname = any(%s)
        and not exists (select from pg_catalog.pg_constraint as k
                        where k.conindid = i.indexrelid and k.conrelid = i.indrelid and k.contype in ('p', 'u', 'x'))
    order by i.indexrelid"""
"""The indexes no primary key, unique or exclusion constraint owns (those come back with their key)."""


def set_aside_keys(conn: psycopg.Connection, schema: str, tables: list[str]) -> SetAside:
    """Record, then drop, the primary keys, unique constraints, foreign keys and other indexes of
    ``tables``, as pg_dump leaves them for after the data; NOT NULL, CHECK and defaults stay."""
    keys = conn.execute(_KEYS, [schema, tables]).fetchall()
    indexes = conn.execute(_INDEXES, [schema, tables]).fetchall()
    aside = SetAside(schema, [k[1:] for k in keys if not k[0]], [r[1] for r in indexes], [k[1:] for k in keys if k[0]])
    for table, name, _ in [*aside.foreign_keys, *aside.keys]:
        conn.execute(sql.SQL("alter table {} drop constraint {}").format(sql.Identifier(schema, table),
                                                                         sql.Identifier(name)))
    for name, _ in indexes:
        conn.execute(sql.SQL("drop index {}").format(sql.Identifier(schema, name)))
    return aside


def restore_keys(conn: psycopg.Connection, aside: SetAside) -> None:
    """Add back what :func:`set_aside_keys` dropped, in pg_restore's order: primary and unique keys,
    then the other indexes, then the foreign keys (each checks every row)."""
    add = sql.SQL("alter table {} add constraint {} {}")
    for table, name, definition in aside.keys:
        conn.execute(add.format(sql.Identifier(aside.schema, table), sql.Identifier(name), sql.SQL(definition)))
    for definition in aside.indexes:
        conn.execute(sql.SQL(definition))
    for table, name, definition in aside.foreign_keys:
        conn.execute(add.format(sql.Identifier(aside.schema, table), sql.Identifier(name), sql.SQL(definition)))


def _copy_file(conn: psycopg.Connection, statement: sql.Composed, path: Path) -> int:
    """COPY a file's bytes as they are; the number of rows the server took."""
    cursor = conn.cursor()
    with cursor.copy(statement) as copy, open(path, "rb") as f:
        while block := f.read(_BLOCK):
            copy.write(block)
    return cursor.rowcount


# -- pgloader -----------------------------------------------------------------------------------------

_D1_TYPES = {"boolean": "INTEGER", "integer": "INTEGER", "bigint": "INTEGER", "verified": "INTEGER"}


def _sqlite_database(backup: Path, d1pg_url: str) -> Path:
    """The backup as the SQLite database D1 held: one table per backup table, D1's column types
    (INTEGER for booleans, integers and emailVerified; TEXT for ids, timestamps, JSON and text;
    from the values for tables no mapping knows), no constraints (the rows are loaded as they are)."""
    path = backup.with_suffix(".sqlite")
    if path.exists():
        return path
    with psycopg.connect(d1pg_url) as conn:
        columns = dict(conn.execute("select table_name, columns from migration.staged_tables").fetchall())
    kinds = {s.name: {c.source: c.kind for c in s.columns if c.source} for s in mapping.sources()}
    part = path.with_suffix(".part")
    part.unlink(missing_ok=True)
    db = sqlite3.connect(part)
    with BackupReader(backup, fast=False) as reader:
        for name, rows in reader.tables():
            # a table stage counts but does not stage (D1's bookkeeping) has no staged keys: its first row's
            keys = columns.get(name) or None
            declared = kinds.get(name, {})
            types: dict[str, str] = {}
            batch: list[tuple] = []
            created = False
            for row in [*rows, None]:
                if row is not None and not isinstance(row, Unstorable | RowRun):
                    doc = json.loads(row)
                    if keys is None:
                        keys = list(doc)
                    if not types and not created:
                        types = {k: _D1_TYPES.get(declared[k], "TEXT") for k in keys if k in declared}
                    for k, v in doc.items():
                        if k not in types and v is not None:
                            types[k] = _sqlite_type(v)  # a key no mapping declares: from its first value
                    batch.append(tuple(_sqlite_value(doc.get(k)) for k in keys))
                if len(batch) >= 10_000 or (row is None and batch):
                    insert = f"insert into {quote_identifier(name)} values ({', '.join('?' * len(keys))})"  # noqa: S608
                    if not created:
                        db.execute(f"create table {quote_identifier(name)} ("  # noqa: S608 - names quoted by _quote
                                   + ", ".join(f"{quote_identifier(k)} {types.get(k, 'TEXT')}" for k in keys) + ")")
                        created = True
                    db.executemany(insert, batch)
                    batch.clear()
            db.commit()
    db.close()
    part.rename(path)
    return path


def _sqlite_type(value) -> str:
    if isinstance(value, bool) or isinstance(value, int):
        return "INTEGER"
    return "REAL" if isinstance(value, float) else "TEXT"


def _sqlite_value(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _pgloader_url(url: str) -> str:
    p = conninfo_to_dict(url)
    host = p.get("host") or "localhost"
    netloc = f"unix:{host}" if host.startswith("/") else host
    user = p.get("user") or "postgres"
    password = f":{p['password']}" if p.get("password") else ""
    return f"pgsql://{user}{password}@{netloc}:{p.get('port') or 5432}/{p['dbname']}"


PGLOADER_HEAP_MB = 8192
"""SBCL's heap for pgloader (``--dynamic-space-size``; this build's default is 1024 MB)."""
PGLOADER_PREFETCH = 100_000
"""pgloader's default ``prefetch rows``: the capacity of the queue between a table's reader and its writers."""


def pgloader_options(largest_table: int) -> list[str]:
    """pgloader's options for this machine. Its reader pushes a table's rows into a queue of ``prefetch
    rows`` places; when a row fails to format (``"yes"`` in an INTEGER column), the writer gives the table
    up and stops reading the queue, so a reader with more rows than places left blocks for ever and
    the load stalls (seen at 4M rows). A queue that holds the largest table keeps every reader going,
    and the heap is made large enough to hold it. Workers, concurrency and batch sizes stay at their
    defaults (4, 1, 25,000 rows / 20 MB): no other setting measured faster on 2 cores."""
    prefetch = max(PGLOADER_PREFETCH, largest_table + 1_000)
    return ["--dynamic-space-size", str(PGLOADER_HEAP_MB), "--with", f"prefetch rows = {prefetch}"]


def _pgloader(base: str, dbname: str, d1pg_url: str, backup: Path, executable: str,
              timeout: float) -> tuple[Phase, list[str]]:
    """pgloader from the SQLite database into a fresh database, end to end; killed after ``timeout``
    seconds (twice d1pg's end to end time: d1pg is faster whatever pgloader would still do)."""
    source = _sqlite_database(backup, d1pg_url)
    with sqlite3.connect(source) as db:
        counts = [db.execute(f"select count(*) from {quote_identifier(t)}").fetchone()[0]  # noqa: S608
                  for (t,) in db.execute("select name from sqlite_master where type = 'table'").fetchall()]
    url = _fresh_database(base, dbname)
    notices = []
    options = pgloader_options(max(counts, default=0))
    with tempfile.TemporaryFile() as log:
        code, seconds, cpu, peak = _run_process(
            [executable, "--no-ssl-cert-verification", *options,
             "--logfile", os.devnull, f"sqlite://{source.resolve()}", _pgloader_url(url)], log, log, timeout)
        log.seek(0)
        text = log.read().decode(errors="replace").strip()
    errors = [line.split(" ERROR ", 1)[1] for line in text.splitlines() if " ERROR " in line]
    if errors:
        notices.append(f"pgloader logged {len(errors)} errors, first: {'; '.join(errors[:2])}")
    if code is None:
        notices.append(f"pgloader did not finish within {timeout:.0f} s (twice d1pg's end to end) and was"
                       " stopped; its time is that limit")
    elif code != 0:
        raise DatabaseError(f"exit {code}: {text.splitlines()[-1] if text else ''}")
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'public'").fetchall()]
        rows = sum(conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier("public", t))).fetchone()[0]
                   for t in tables)
    source_rows = sum(counts)
    # Server CPU is left blank: pgloader's connections come and go faster than /proc is sampled.
    phase = Phase(seconds, rows, source.stat().st_size / 1e6, rss_mb=peak, client_cpu=cpu, process_seconds=seconds,
                  note=f"loaded {rows:,} of {source_rows:,} rows" + ("; stopped" if code is None else "")
                  + f"; {options[-1]}")
    return phase, notices


# -- output ------------------------------------------------------------------------------------------

PHASES = ("stage", "transform", "validate", *FORMS, "transform (core tables)", "staging floor", "typed floor",
          RESTORE_FLOOR, "pgloader")


def _fmt(value, digits: int = 1) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def _rows(result: SizeResult) -> list[list[str]]:
    out = []
    for name in PHASES:
        p = result.phases.get(name)
        if p is None:
            continue
        out.append([name, _fmt(p.seconds, 2), f"{p.rows_per_s:,.0f}", _fmt(p.mb_per_s), _fmt(p.rss_mb),
                    _fmt(p.client_cpu, 2), _fmt(p.server_cpu, 2), p.note])
    return out


COLUMNS = ["phase", "wall s", "rows/s", "MB/s", "peak RSS MB", "client CPU s", "server CPU s", "note"]


def _show(result: SizeResult) -> None:
    title = (f"{result.rows:,} rows ({result.backup_mb:,.1f} MB backup, {result.users:,} users);"
             f" load average {result.load[0]:.1f} -> {result.load[1]:.1f}")
    console.show(console.table(title, COLUMNS, _rows(result), right=set(range(1, 7))))
    for notice in result.notices:
        console.say(f"notice: {notice}")


def goals(results: list[SizeResult]) -> list[list[str]]:
    """The goals of the benchmark, each with its measured figure and whether it is met."""
    out = []
    for r in results:
        label = f"{r.rows:,} rows"
        stage = r.ratio("stage", "staging floor")
        if stage is not None:
            out.append([label, f"stage <= {STAGE_GOAL}x staging floor", f"{stage:.2f}x", _met(stage <= STAGE_GOAL)])
        for phase_name in FORMS:
            ratio = r.ratio(phase_name, "stage")
            if ratio is not None:
                out.append([label, f"{phase_name} <= {FORM_GOAL}x stage (JSON)", f"{ratio:.2f}x",
                            _met(ratio <= FORM_GOAL)])
        typed = r.typed_floor
        if typed:
            ratio = r.migration_seconds / r.phases[typed].seconds
            what = "stage + transform" + (" + validate" if "validate" in r.phases else " (validate skipped)")
            out.append([label, f"{what} <= {MIGRATION_GOAL}x typed floor", f"{ratio:.2f}x, {typed}",
                        _met(ratio <= MIGRATION_GOAL)])
        if r.phases.get("validate") and r.phases.get("transform") and r.phases["transform"].seconds:
            share = r.phases["validate"].seconds / r.phases["transform"].seconds
            out.append([label, f"validate <= {VALIDATE_GOAL:.0%} of the transform's time",
                        f"{share:.0%} ({r.phases['validate'].seconds:.1f} s vs {r.phases['transform'].seconds:.1f} s)",
                        _met(share <= VALIDATE_GOAL)])
        core = r.phases.get("transform (core tables)")
        if core and core.rows_per_s and "transform" in r.phases:
            speed = r.phases["transform"].rows_per_s / core.rows_per_s
            out.append([label, f"transform rows/s on every table >= {CORE_SPEED_GOAL:.0%} of the core tables'",
                        f"{speed:.0%} ({r.phases['transform'].rows_per_s:,.0f} vs {core.rows_per_s:,.0f} rows/s)",
                        _met(speed >= CORE_SPEED_GOAL)])
        loader = r.phases.get("pgloader")
        if loader:
            out.append([label, "d1pg end to end faster than pgloader",
                        f"{r.end_to_end_seconds:.1f} s vs {loader.seconds:.1f} s",
                        _met(r.end_to_end_seconds < loader.seconds)])
    rss = [(r.rows, r.phases["stage"].rss_mb) for r in results if "stage" in r.phases]
    if rss:
        peak = max(m for _, m in rss)
        out.append(["all", f"peak RSS of stage <= {RSS_GOAL_MB:.0f} MB", f"{peak:.1f} MB", _met(peak <= RSS_GOAL_MB)])
        if len(rss) > 1:
            spread = peak / min(m for _, m in rss) - 1
            out.append(["all", f"peak RSS within {RSS_SPREAD:.0%} from {rss[0][0]:,} to {rss[-1][0]:,} rows",
                        f"{spread:+.1%}", _met(spread <= RSS_SPREAD)])
    return out


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _show_goals(results: list[SizeResult]) -> None:
    console.show(console.table("Goals (same run, same server)", ["size", "goal", "measured", ""], goals(results),
                             right={2}))


def _machine(url: str, pgloader_path: str | None) -> dict[str, str]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        memory = f"{int(Path('/proc/meminfo').read_text().split()[1]) / 1024 / 1024:.0f} GiB"
    with psycopg.connect(url) as conn:
        version = conn.execute("select version()").fetchone()[0]
    loader = ""
    if pgloader_path:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            loader = subprocess.run([pgloader_path, "--version"], capture_output=True, text=True,
                                    timeout=60).stdout.splitlines()[0]
    return {"cpu": cpu, "cores": str(os.cpu_count()), "memory": memory, "os": platform.platform(),
            "python": platform.python_version(), "postgresql": version, "pgloader": loader or "not installed"}


def markdown(results: list[SizeResult], machine: dict[str, str], rows: tuple[int, ...], server: str,
             pgloader: bool) -> str:
    command = "python3 -m invoke bench" + "".join(f" --rows {n}" for n in rows if tuple(rows) != DEFAULT_ROWS)
    if server != "embedded":
        command += " --server URL"
    if not pgloader:
        command += " --no-pgloader"
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; rerun it to refresh this page.",
        "What is measured and how: the docstring of `d1pg/bench.py`, and the notes below.",
        "",
        "## Machine",
        "",
        f"- CPU: {machine['cpu']} ({machine['cores']} cores), memory {machine['memory']}",
        f"- OS: {machine['os']}; Python {machine['python']}",
        f"- PostgreSQL: {machine['postgresql']} ({'embedded' if server == 'embedded' else 'external'} server)",
        f"- pgloader: {machine['pgloader']}",
        "",
        "## Goals",
        "",
        "| size | goal | measured | |",
        "|---|---|---|---|",
    ]
    lines += [f"| {' | '.join(g)} |" for g in goals(results)]
    for r in results:
        lines += ["", f"## {r.rows:,} rows ({r.backup_mb:,.1f} MB backup, {r.users:,} users)", "",
                  f"One-minute load average {r.load[0]:.1f} before, {r.load[1]:.1f} after (2 cores: above 2,"
                  " other work shared the CPU).", "",
                  "| " + " | ".join(COLUMNS) + " |", "|---" * len(COLUMNS) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in _rows(r)]
        for notice in r.notices:
            lines.append(f"\nNotice: {notice}.")
        if r.phases.get("stage") and r.phases["stage"].process_seconds:
            lines.append(f"\nd1pg end to end (each step's whole process, start to exit): {r.end_to_end_seconds:.1f} s.")
    lines += ["", "## Notes", "",
              "- Wall times are the steps' own (`invoke stage` etc. print the same); each d1pg step runs in its own"
              " Python process, whose peak RSS and CPU time (user + system) are shown.",
              "- Server CPU: the CPU time of the PostgreSQL backends serving the step, read from /proc while it"
              " runs (blank when the server is not on this machine); background writers are not counted. On a"
              " busy machine it shows the work done where wall times show the waiting too.",
              "- `stage (SQL dump)` and `stage (SQLite file)` stage the same rows as the JSON `stage`: the"
              " SQLite file pgloader reads, and a `wrangler d1 export` dump written from it; their MB/s count"
              " their own files. A dump is executed into a temporary SQLite file by a loader process inside the"
              " timed step: its CPU time is in the client CPU, its memory not in the peak RSS.",
              "- Rows/s and MB/s of the d1pg steps count the backup's rows and bytes; of the staging floor, its"
              " JSON lines; of the typed floors, the migrated rows and their CSV bytes; of pgloader, the rows it"
              " loaded and the SQLite file.",
              "- The staging floor is the least a load into jsonb can cost on this server; the typed floors the"
              " least a load of the final rows can cost (their target tables' checks, unique keys and foreign"
              " keys included). Both are prepared before the clock starts. `typed floor` keeps every key and"
              " index through its load, as a plain COPY into the schema would. `typed floor (restore order)`"
              " loads as pg_restore does: the primary keys, unique constraints, foreign keys and the other"
              " indexes are dropped before the clock starts (NOT NULL, CHECK and defaults stay), and the clock"
              " covers the COPYs, adding back the primary and unique keys, then the indexes, then the foreign"
              " keys (each checks every row), and the commit; the tables end with the same constraints and"
              " indexes as the schema (tests/test_bench.py). The goals compare with the faster of the two,"
              " named beside the ratio. d1pg's transform sets the foreign keys aside and adds them back checked"
              " (README, transform step 4); its other keys and indexes stay in place.",
              "- pgloader copies the SQLite tables as they are: columns typed by SQLite's declared types, no"
              " foreign keys, checks, id mapping, orphans or accounting. It does much less than d1pg, and where"
              " it is faster the typed floor alone is usually slower than it. A value that does not fit the"
              " declared type (`\"yes\"` in an INTEGER column, which SQLite stores) makes it give up that"
              " table (none of its rows is loaded): see how many rows it loaded. It runs with `--dynamic-space-size"
              f" {PGLOADER_HEAP_MB}` (SBCL's heap; 1024 MB by default in this build) and `--with \"prefetch rows"
              " = N\"`, N the largest table's rows plus 1,000 (shown in its note; default 100,000): after such"
              " an error nothing reads that table's queue any more, and with its default queue a reader with"
              " more rows left than places blocks for ever (how it stalled at 4M rows). Workers, concurrency"
              " and batch sizes stay at their defaults: no other setting measured faster here. Should it still"
              " stall, it is stopped at twice d1pg's end to end time.",
              ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """``python -m d1pg.bench STEP URL BACKUP``: one d1pg step, its result as JSON on stdout."""
    step, url, backup = argv
    try:
        print(json.dumps({**_run_step(step, url, backup), "peak_rss_kb": _vm_hwm_kb(os.getpid())}))
    except D1pgError as exc:
        print(f"d1pg: error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
