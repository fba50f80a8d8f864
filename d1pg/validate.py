"""``invoke validate``: prove the outcome of the last transform (contract §8).

SQL checks (``sql/validate/``) each return the offending rows; the runner counts them and keeps a
few, masked. Value fidelity converts migrated source rows again in Python (:mod:`d1pg.fidelity`)
and compares them with their target rows. Results go to ``migration.checks``; exit code 1 when any
check found something.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import NamedTuple

import psycopg
from psycopg import sql

from d1pg import console, fidelity, mapping
from d1pg.audit import audited
from d1pg.config import Settings
from d1pg.db import database_url, describe_error, locked_connection, qualified, run_script
from d1pg.errors import CheckFailed, DatabaseError, InputError
from d1pg.render import render
from d1pg.stage import ensure_bookkeeping

EXAMPLES = 5
"""Offending rows kept and shown per check."""

DEFAULT_SAMPLE = 1000


@dataclass
class Step:
    template: str
    label: str
    category: str | None  # None: a setup step, not a check
    sql: str


@dataclass
class Result:
    name: str
    category: str
    offending: int
    examples: list[dict] = field(default_factory=list)
    checked: int | None = None  # value fidelity: rows compared

    @property
    def passed(self) -> bool:
        return self.offending == 0


def references() -> list[dict]:
    """Every declared foreign key of the target: (table, column) -> parent (column)."""
    return [{"table": t.name, "column": c.target, "parent": c.ref_table, "parent_column": c.ref_column}
            for t in mapping.tables() for c in t.refs]


def unique_keys() -> list[dict]:
    """Every declared unique key of the target, primary keys first."""
    keys = [{"table": t.name, "columns": [t.primary_key.target]} for t in mapping.tables()]
    keys += [{"table": t.name, "columns": list(key.columns)} for t in mapping.tables() for key in t.unique]
    for key in keys:
        key["seed_query"] = key["table"] == "users" and key["columns"] == ["email"]
    return keys


def target_sources() -> dict[str, list[str]]:
    """Which source tables fill each target table, in insert order."""
    merge = [s.name for s in mapping.merge_sources()]
    return {t: merge if t in mapping.merge_targets() else [s.name for s in mapping.plan() if s.target == t]
            for t in mapping.target_tables()}


def steps(settings: Settings) -> list[Step]:
    """The SQL of validate, rendered, in execution order (the first step chooses the run)."""
    ctx = {"target_schema": settings.target_schema}
    out = [Step("validate/00_select_run.sql", "select_run", None, render("validate/00_select_run.sql", **ctx)),
           Step("validate/10_accounting_identity.sql", "accounting identity", "accounting",
                render("validate/10_accounting_identity.sql", **ctx)),
           Step("validate/11_bucket_evidence.sql", "rejects and orphans logged", "accounting",
                render("validate/11_bucket_evidence.sql", **ctx)),
           Step("validate/20_target_counts.sql", "target row counts", "counts",
                render("validate/20_target_counts.sql", target_sources=target_sources(), **ctx))]
    for ref in references():
        out.append(Step("validate/30_foreign_key.sql",
                        f"foreign key {ref['table']}.{ref['column']} -> {ref['parent']}.{ref['parent_column']}",
                        "foreign_key", render("validate/30_foreign_key.sql", ref=ref, **ctx)))
    for key in unique_keys():
        label = f"unique {key['table']} ({', '.join(key['columns'])})"
        if key["seed_query"]:
            label += " - duplicate user e-mails"
        out.append(Step("validate/40_unique_key.sql", label, "unique_key",
                        render("validate/40_unique_key.sql", key=key, **ctx)))
    return out


def _wrapped(check_sql: str) -> bytes:
    """A check's query, counted: every offending row counts, the first few come back."""
    body = check_sql.rstrip().rstrip(";")
    return (f"select count(*) over () as offending_rows, o.*\nfrom (\n{body}\n) as o\nlimit {EXAMPLES}").encode()


def _example(names: list[str], row) -> dict:
    return {name: console.mask_value(name, None if v is None else str(v)) for name, v in zip(names, row, strict=True)}


def _run_check(conn: psycopg.Connection, step: Step) -> Result:
    cur = conn.execute(_wrapped(step.sql))
    names = [d.name for d in cur.description][1:]
    rows = cur.fetchall()
    return Result(step.label, step.category, rows[0][0] if rows else 0, [_example(names, r[1:]) for r in rows])


def last_transform(conn: psycopg.Connection, run_id: str | None = None):
    """The transform run to validate: the given one, else the newest that succeeded."""
    query = ("select run_id, stage_run_id, options from migration.runs where step = 'transform'"
             " and status = 'succeeded'")
    row = (conn.execute(query + " and run_id::text = %s", [run_id]) if run_id else
           conn.execute(query + " order by started_at desc limit 1")).fetchone()
    if row is None:
        raise InputError("no succeeded transform run" + (f" with id {run_id}" if run_id else "")
                         + "; run `invoke transform` (or `invoke migrate BACKUP`) first")
    return row


class Validation(NamedTuple):
    run_id: str
    results: list[Result]
    transform_run: str


def validate(settings: Settings, *, full: bool = False, sample: int = DEFAULT_SAMPLE, run_id: str | None = None,
             quiet: bool = False, progress: bool | None = None) -> Validation:
    """Run every check against the last transform; raise :class:`CheckFailed` (with the
    ``transform_run`` it validated) when one finds rows."""
    if sample < 1:
        raise InputError("--sample must be at least 1")
    url = database_url(settings)
    rendered = steps(settings)
    started = time.perf_counter()
    with locked_connection(url) as conn:
        ensure_bookkeeping(conn)
        transform_run, stage_run, options = last_transform(conn, run_id)
        staged_run = conn.execute("select stage_run_id from migration.staged_tables limit 1").fetchone()
        if staged_run is None or staged_run[0] != stage_run:
            raise InputError("staging has changed since the transform being validated; run `invoke transform` again")
        conn.commit()
        with audited(url, "validate", stage_run_id=stage_run,
                     options={"transform_run_id": str(transform_run), "full": full, "sample": sample}) as audit:
            results = _check_all(conn, settings, rendered, str(transform_run), stage_run, options or {},
                                 None if full else sample, progress)
            conn.rollback()
            conn.read_only = False
            _record(conn, audit.run_id, transform_run, results)
            for r in results:
                counts = {"offending": r.offending} | ({"checked": r.checked} if r.checked is not None else {})
                audit.log("info" if r.passed else "error", f"check {r.name}: {r.offending} offending row(s)",
                          counts=counts)
            failed = [r for r in results if not r.passed]
            if not quiet:
                _summary(results, time.perf_counter() - started, str(audit.run_id))
            if failed:
                error = CheckFailed(f"validation failed: {len(failed)} of {len(results)} checks found offending rows ("
                                    + "; ".join(f"{r.name}: {r.offending}" for r in failed[:5])
                                    + ("; ..." if len(failed) > 5 else "") + ")")
                error.transform_run = str(transform_run)
                raise error
    return Validation(str(audit.run_id), results, str(transform_run))


def _check_all(conn, settings, rendered, transform_run, stage_run, options, sample, progress) -> list[Result]:
    conn.read_only = True
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    results: list[Result] = []
    sources = [s for s in mapping.plan() if _is_staged(conn, s.name)]
    with console.byte_progress("validate", len(rendered) + len(sources), progress) as update:
        try:
            conn.execute("select set_config('d1pg.transform_run_id', %s, false)", [transform_run])
            # Timestamps come back as UTC datetimes whatever the user's TimeZone: in a zone's own
            # terms, years 1 and 9999 can fall outside Python's datetime (0001 BC, 10000 AD).
            conn.execute("select set_config('TimeZone', 'UTC', true)")
            for i, step in enumerate(rendered):
                update(i, f"validate: {step.label}")
                if step.category is None:
                    run_script(conn, step.sql)
                else:
                    results.append(_run_check(conn, step))
            context = _FidelityContext(conn, settings, transform_run, stage_run, options.get("d1pg.merge_winner",
                                                                                            "wallet"))
            for j, source in enumerate(sources):
                update(len(rendered) + j, f"validate: value fidelity {source.name}")
                results.append(context.check(source, sample))
        except psycopg.Error as exc:
            raise DatabaseError(f"validate failed: {describe_error(exc)}") from None
    return results


def _is_staged(conn, name: str) -> bool:
    return conn.execute("select exists (select 1 from migration.staged_tables where table_name = %s"
                        " and skipped_reason is null)", [name]).fetchone()[0]


def _record(conn, run_id, transform_run, results: list[Result]) -> None:
    from psycopg.types.json import Jsonb

    with conn.cursor() as cur:
        cur.executemany(
            "insert into migration.checks (run_id, transform_run_id, position, check_name, category, offending_rows,"
            " examples) values (%s, %s, %s, %s, %s, %s, %s)",
            [(run_id, transform_run, i, r.name, r.category, r.offending, Jsonb(r.examples))
             for i, r in enumerate(results, 1)])
    conn.commit()


def _summary(results: list[Result], seconds: float, run_id: str) -> None:
    rows = [[r.name, r.category, r.checked if r.checked is not None else "", r.offending,
             "pass" if r.passed else "FAIL"] for r in results]
    console.show(console.table("Validation", ["check", "kind", "rows compared", "offending rows", "result"], rows,
                             right={2, 3}))
    for r in results:
        if not r.passed and r.examples:
            console.say(f"{r.name}: first offending rows: " + "; ".join(
                ", ".join(f"{k}={v}" for k, v in e.items()) for e in r.examples))
    passed = sum(r.passed for r in results)
    console.say(f"validate: {passed} of {len(results)} checks passed in {seconds:.1f} s; run {run_id}")


class _FidelityContext:
    """Value fidelity (§8.5) for one transform run: which rows were migrated comes from the
    bookkeeping (not rejected, not orphaned); each is converted again by :mod:`d1pg.fidelity`."""

    def __init__(self, conn, settings: Settings, transform_run: str, stage_run, merge_winner: str):
        self.conn = conn
        self.schema = settings.target_schema
        self.transform_run = transform_run
        self.stage_run = stage_run
        self.merge_winner = merge_winner
        created = conn.execute("select backup_created_at from migration.runs where run_id = %s",
                               [stage_run]).fetchone()
        try:
            self.backup_created_at = fidelity.to_timestamp(created[0] if created else None)
        except fidelity.Invalid:
            self.backup_created_at = None
        self.ref_sources = mapping.ref_sources()
        self._keys: dict[tuple[str, str], dict] = {}  # (parent, key column) -> {id: key}, read once

    def check(self, source: mapping.Source, sample: int | None) -> Result:
        name = f"value fidelity {source.name}" + (f" (sample of {sample})" if sample else " (every row)")
        mismatches: list[dict] = []
        checked = 0
        for batch in self._migrated_rows(source, sample):
            checked += len(batch)
            if source.merge:
                mismatches += self._compare_merge(source, batch)
            else:
                mismatches += self._compare(source, batch)
        return Result(name, "value_fidelity", len(mismatches),
                      [{k: console.mask_value(m["column"], v) if k in ("expected", "actual") else v
                        for k, v in m.items()} for m in mismatches[:EXAMPLES]], checked)

    def _migrated_rows(self, source: mapping.Source, sample: int | None):
        query = sql.SQL(
            "select s.ord, s.doc::text from staging.{table} as s"
            " where s.doc is not null"
            " and not exists (select 1 from migration.rejects as r where r.source_table = %(name)s"
            "   and r.source_ord = s.ord and r.run_id in (%(run)s, %(stage)s))"
            " and not exists (select 1 from migration.orphans as o where o.source_table = %(name)s"
            "   and o.source_ord = s.ord and o.run_id = %(run)s and o.action = 'skipped')"
            " {order}"
        ).format(table=sql.Identifier(source.name),
                 order=sql.SQL("order by hashint8(s.ord) limit %(sample)s" if sample else "order by s.ord"))
        params = {"name": source.name, "run": self.transform_run, "stage": self.stage_run, "sample": sample}
        with self.conn.cursor(name="fidelity_rows") as cur:
            cur.itersize = 2000
            cur.execute(query, params)
            while rows := cur.fetchmany(2000):
                yield [(ord_, fidelity.parse_row(text)) for ord_, text in rows]

    def _nulled(self, source: mapping.Source, ords: list[int]) -> set[tuple[int, str]]:
        return set(self.conn.execute(
            "select source_ord, fk_column from migration.orphans where run_id = %s and source_table = %s"
            " and action = 'nulled' and source_ord = any(%s)", [self.transform_run, source.name, ords]).fetchall())

    def _targets(self, table: str, columns: list[str], key: str, values: list) -> dict:
        """Target rows by ``key``; jsonb comes back as text so numbers stay exact."""
        cols = list(columns)
        json_cols = {c.target for c in mapping.table(table).columns if c.kind == "json"}
        real_cols = {c.target for c in mapping.table(table).columns if c.kind == "real"}
        select = sql.SQL(", ").join(  # a real read as text is its shortest float4 form: widen it exactly first
            sql.SQL("{}::text").format(sql.Identifier(c)) if c in json_cols
            else sql.SQL("{}::double precision").format(sql.Identifier(c)) if c in real_cols
            else sql.Identifier(c) for c in cols)
        rows = self.conn.execute(sql.SQL("select {} from {} where {} = any(%s)").format(
            select, qualified(self.schema, table), sql.Identifier(key)), [values]).fetchall()
        out = {}
        for row in rows:
            record = dict(zip(cols, row, strict=True))
            for c in json_cols & set(cols):
                if record[c] is not None:
                    record[c] = fidelity.parse_row(record[c])
            out[record[key]] = record
        return out

    def _expected(self, source: mapping.Source, doc: dict, ord_: int, nulled: set) -> dict:
        """The target row §3-§4 and contract-additions 4.1 make of one source row, every declared
        column: converted by fidelity.CONVERTERS, missing values filled, derived values recomputed."""
        ctx = SimpleNamespace(source_name=source.name, ref_sources=self.ref_sources, created_at=None)
        late = [c for c in source.columns if c.kind == "verified"
                or c.derive and c.derive.rule not in ("id_of_key", "alias_when")]
        converted = {c.target: None if (ord_, c.target) in nulled else
                     self._converted(c, fidelity.source_value(doc, c), ctx)
                     for c in source.columns if c.source and c not in late}
        out = {c.target: self._filled(c, converted.get(c.target), converted)
               for c in source.columns if c not in late}
        ctx.created_at = out.get("created_at")
        for col in late:
            value = fidelity.source_value(doc, col) if col.source else fidelity.ABSENT
            own = fidelity.CONVERTERS[col.kind](value, col, ctx) if col.source else None
            if col.derive:
                final = {**out, "__source_id__": fidelity.scalar_text(fidelity.source_value(doc, source.id_column))}
                out[col.target] = fidelity.derived(col, doc, own, final)
            else:
                out[col.target] = own
        return {c.target: out[c.target] for c in source.columns}

    def _converted(self, col: mapping.Column, value, ctx):
        """One converted value; a reference by key that holds a migrated parent's id becomes that
        parent's key (contract-additions 5.2: the parents' id and key are checked as their own rows)."""
        converted = fidelity.CONVERTERS[col.kind](value, col, ctx)
        if not col.is_key_ref or converted is None:
            return converted
        keys = self._parent_keys(col)
        if converted in keys.values():
            return converted
        return keys.get(fidelity.to_id(value, self.ref_sources[col.ref_table]), converted)

    def _parent_keys(self, col: mapping.Column) -> dict:
        """id -> key of the migrated rows of a column's parent, read once per parent and key."""
        name = (col.ref_table, col.ref_column)
        if name not in self._keys:
            self._keys[name] = dict(self.conn.execute(sql.SQL("select id, {} from {}").format(
                sql.Identifier(col.ref_column), qualified(self.schema, col.ref_table))).fetchall())
        return self._keys[name]

    def _filled(self, col: mapping.Column, value, converted: dict):
        """contract-additions 4.1: a missing value of a NOT NULL column (or a column without a source)
        takes its constant default, else the §4 clock fill (created_at: the row's own converted
        updated_at first); otherwise it stays NULL."""
        if value is not None or (col.source and not col.not_null):
            return value
        if col.default is not None:
            return col.default
        if col.clock_fill:
            return (converted.get("updated_at") if col.target == "created_at" else None) or self.backup_created_at
        return None

    def _compare(self, source: mapping.Source, batch) -> list[dict]:
        nulled = self._nulled(source, [o for o, _ in batch])
        expected = []
        mismatches = []
        for ord_, doc in batch:
            try:
                expected.append((ord_, doc, self._expected(source, doc, ord_, nulled)))
            except fidelity.Invalid as exc:
                mismatches.append(_mismatch(source, ord_, doc, "(row)", f"a migrated row the contract rejects: {exc}",
                                            "migrated"))
        columns = [c.target for c in source.columns]
        targets = self._targets(source.target, columns, "id", [e["id"] for _, _, e in expected])
        mismatches += self._id_map(source, expected)
        for ord_, doc, exp in expected:
            row = targets.get(exp["id"])
            if row is None:
                mismatches.append(_mismatch(source, ord_, doc, "id", exp["id"], "no target row"))
                continue
            for column, value in exp.items():
                if not _same(value, row[column]):
                    mismatches.append(_mismatch(source, ord_, doc, column, value, row[column]))
        return mismatches

    def _id_map(self, source: mapping.Source, expected) -> list[dict]:
        """Every non-UUID id of a migrated row is in migration.id_map with its new UUID."""
        id_col = source.id_column
        wanted = {}
        for ord_, doc, exp in expected:
            old = fidelity.scalar_text(doc.get(id_col.source))
            if old and not fidelity.UUID_TEXT.fullmatch(old):
                wanted[old] = (ord_, doc, exp["id"])
        if not wanted:
            return []
        mapped = dict(self.conn.execute("select old_id, new_id from migration.id_map where table_name = %s"
                                        " and old_id = any(%s)", [source.name, list(wanted)]).fetchall())
        return [_mismatch(source, ord_, doc, "id_map", new_id, mapped.get(old))
                for old, (ord_, doc, new_id) in wanted.items() if mapped.get(old) != new_id]

    def _compare_merge(self, source: mapping.Source, batch) -> list[dict]:
        """The progress merge (core-tables.md): compare what this row supplies to user_progress and
        user_wallet; values both sides hold only where this side wins (d1pg.merge_winner)."""
        wins = (source.name == "user_wallet") == (self.merge_winner == "wallet")
        rows = []
        mismatches = []
        for ord_, doc in batch:
            try:
                rows.append((ord_, doc, self._expected(source, doc, ord_, set())))
            except fidelity.Invalid as exc:
                mismatches.append(_mismatch(source, ord_, doc, "(row)", f"a migrated row the contract rejects: {exc}",
                                            "migrated"))
        users = [e["user_id"] for _, _, e in rows]
        progress = self._targets("user_progress", [c.target for c in mapping.table("user_progress").columns],
                                 "user_id", users)
        wallet = self._targets("user_wallet", [c.target for c in mapping.table("user_wallet").columns],
                               "user_id", users)
        backup = self.backup_created_at
        for ord_, doc, exp in rows:
            p, w = progress.get(exp["user_id"]), wallet.get(exp["user_id"])
            if p is None or w is None:
                mismatches.append(_mismatch(source, ord_, doc, "user_id", exp["user_id"], "no target row"))
                continue
            want: list[tuple[str, dict, object]] = []
            if source.name == "user_wallet":
                want += [("id", p, exp["id"]), ("id", w, exp["id"]),
                         ("xp_to_next_level", p, _or(exp["xp_to_next_level"], 100)),
                         ("total_skill_stars", p, _or(exp["total_skill_stars"], 0)),
                         ("updated_at", p, _or(exp["updated_at"], backup)),
                         ("updated_at", w, _or(exp["updated_at"], backup))]
                shared = [("total_xp", p, exp["xp"]), ("current_level", p, exp["level"]), ("coins", w, exp["coins"])]
            else:
                alone = p["id"] == exp["id"]
                created = _or(exp["created_at"], backup)
                want += [("created_at", p, created), ("created_at", w, created)]
                if alone:
                    want += [("id", w, fidelity.name_uuid(f"user_wallet:{exp['user_id']}")),
                             ("updated_at", p, _or(exp["updated_at"], backup)),
                             ("xp_to_next_level", p, 100), ("total_skill_stars", p, 0)]
                shared = [("total_xp", p, exp["total_xp"]), ("current_level", p, exp["current_level"]),
                          ("coins", w, exp["coins"])]
                if alone:
                    want += [(c, t, _or(v, {"total_xp": 0, "current_level": 1, "coins": 0}[c])) for c, t, v in shared]
                    shared = []
            want += [(c, t, v) for c, t, v in shared if wins and v is not None]
            for column, target, value in want:
                if not _same(value, target[column]):
                    mismatches.append(_mismatch(source, ord_, doc, column, value, target[column]))
        return mismatches


def _or(value, default):
    return default if value is None else value


def _same(expected, actual) -> bool:
    """Equal as PostgreSQL compares them: instants for timestamps, numbers by value; a boolean is
    never equal to a number."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) != isinstance(actual, bool):
        return False
    if isinstance(expected, datetime) and isinstance(actual, datetime):
        # Instants, in UTC: Python calls aware datetimes of two zones unequal when one falls in a
        # repeated or skipped hour (PEP 495), and compares two of one zone by their wall clocks.
        return expected.astimezone(UTC) == actual.astimezone(UTC)
    return expected == actual


def _mismatch(source: mapping.Source, ord_: int, doc: dict, column: str, expected, actual) -> dict:
    source_id = doc.get(source.id_column.source)
    return {"table": source.name, "ord": ord_, "source_id": None if source_id is None else str(source_id),
            "column": column, "expected": None if expected is None else str(expected),
            "actual": None if actual is None else str(actual)}
