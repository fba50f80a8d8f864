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
from typing import NamedTuple

import psycopg
from psycopg import sql

from d1pg import console, fates, fidelity, mapping
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
            proof = _Proof(conn, settings, transform_run, stage_run, options.get("d1pg.merge_winner", "wallet"),
                           [s.name for s in sources if s.merge])
            for j, source in enumerate(sources):
                update(len(rendered) + j, f"validate: row fates and value fidelity {source.name}")
                results += proof.check(source, sample)
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


class _Proof:
    """Row fates and value fidelity for one transform run (§8). :class:`d1pg.fates.Model` decides
    each staged row's fate from staging and the declarations alone; every row's fate is then held
    against the bookkeeping (rejects, orphans, id map, outcome counts) and the target, and the
    converted values of a sample (or of every row, ``--full``) against their target rows."""

    def __init__(self, conn, settings: Settings, transform_run: str, stage_run, merge_winner: str,
                 merge_staged: list[str]):
        self.conn = conn
        self.schema = settings.target_schema
        self.merge_staged = merge_staged
        self.transform_run = transform_run
        self.stage_run = stage_run
        self.merge_winner = merge_winner
        created = conn.execute("select backup_created_at from migration.runs where run_id = %s",
                               [stage_run]).fetchone()
        try:
            self.backup_created_at = fidelity.to_timestamp(created[0] if created else None)
        except fidelity.Invalid:
            self.backup_created_at = None
        self.model = fates.Model(self.backup_created_at)
        self._merge: dict[str, tuple[dict, dict]] = {}  # merge sources decided, waiting for the other

    def check(self, source: mapping.Source, sample: int | None) -> list[Result]:
        """The results of one source table: its row fates, then its value fidelity (the merge
        sources: both once the second of them is decided)."""
        decided, kept = self.model.table(source, self._staged_rows(source), sample)
        if not source.merge:
            return [self._fates(source, decided), self._fidelity(source, kept, sample, self._compare)]
        self._merge[source.name] = (decided, kept)
        if set(self._merge) != set(self.merge_staged):
            return []
        fates.Model.merge({name: d for name, (d, _) in self._merge.items()})
        out = [self._merge_fates()]
        for merged in mapping.merge_sources():
            if merged.name in self._merge:
                out.append(self._fidelity(merged, self._merge[merged.name][1], sample, self._compare_merge))
        return out

    def _staged_rows(self, source: mapping.Source):
        """The staged rows in backup order, by COPY: the server renders the next rows while the
        model works on these."""
        query = sql.SQL("copy (select s.ord, s.doc::text from staging.{} as s order by s.ord) to stdout").format(
            sql.Identifier(source.name))
        parse = fidelity.parse_row
        with self.conn.cursor().copy(query) as copy:
            copy.set_types(["int8", "text"])
            for ord_, text in copy.rows():
                yield ord_, None if text is None else parse(text)

    # -- row fates -----------------------------------------------------------------------------

    def _logged(self, name: str) -> tuple[dict, dict, dict]:
        """What the bookkeeping says of a table's rows: rejects (a load-time one as "stage"),
        skipped orphans, nulled references."""
        rejects = {o: "stage" if run == self.stage_run else f"{reason} at {column}" for o, reason, column, run in
                   self.conn.execute("select source_ord, reason, column_name, run_id from migration.rejects"
                                     " where source_table = %s and run_id in (%s, %s)",
                                     [name, self.transform_run, self.stage_run]).fetchall()}
        skipped: dict[int, str] = {}
        nulled: dict[int, set] = {}
        for o, column, action in self.conn.execute(
                "select source_ord, fk_column, action from migration.orphans where source_table = %s"
                " and run_id = %s", [name, self.transform_run]).fetchall():
            if action == "skipped":
                skipped[o] = column
            else:
                nulled.setdefault(o, set()).add(column)
        return rejects, skipped, nulled

    def _id_map(self, name: str) -> dict:
        return dict(self.conn.execute("select old_id, new_id from migration.id_map where table_name = %s",
                                      [name]).fetchall())

    def _fates(self, source: mapping.Source, decided: dict[int, fates.Fate]) -> Result:
        """Each row's fate against the bookkeeping and the target: a migrated row's target row, its
        references (nulled ones NULL) and id map entry; no target row for a row not migrated."""
        logged = self._logged(source.name)
        refs = [c.target for c in source.refs]
        target = {row[0]: row[1:] for row in self.conn.execute(sql.SQL("select {} from {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in ["id", *refs]), qualified(self.schema, source.target)))}
        id_map = self._id_map(source.name)
        migrated = {f.id for f in decided.values() if f.bucket == "migrated"}
        out: list[dict] = []
        for fate in decided.values():
            want, found = _fate_text(fate), _logged_text(fate.ord, *logged)
            if fate.bucket == "migrated":
                row = target.get(fate.id)
                want_refs = tuple(None if c in fate.nulled else v for c, v in zip(refs, fate.refs, strict=True))
                if row is None:
                    found += "; no target row"
                elif tuple(row) != want_refs:
                    want += "; references " + _pairs(refs, want_refs)
                    found += "; references " + _pairs(refs, row)
                want, found = _with_id_map(fate, id_map, want, found)
            elif fate.id is not None and fate.id in target and fate.id not in migrated:
                found += f"; target row {fate.id}"
            if want != found:
                out.append(_disagreement(source.name, fate, want, found))
        out += [_disagreement(source.name, None, "no target row", f"target row {i}")
                for i in target if i not in migrated]
        out += self._unexplained(source.name, decided, logged)
        return _fate_result(source.name, decided, out)

    def _unexplained(self, name: str, decided: dict[int, fates.Fate], logged: tuple) -> list[dict]:
        """Logged rows no staged row explains, and outcome counts that differ from the fates."""
        ords = set().union(*(set(d) for d in logged)) - set(decided)
        out = [_disagreement(name, None, "no staged row", f"a logged row at ord {o}") for o in sorted(ords)]
        row = self.conn.execute(
            "select migrated, merged, orphaned, rejected from migration.table_outcomes where run_id = %s"
            " and source_table = %s", [self.transform_run, name]).fetchone() or (None,) * 4
        for bucket, count in zip(("migrated", "merged", "orphaned", "rejected"), row, strict=True):
            want = sum(f.bucket == bucket for f in decided.values())
            if want != count:
                out.append(_disagreement(name, None, f"{want} {bucket}", f"{count} {bucket} in table_outcomes"))
        return out

    def _merge_fates(self) -> Result:
        """The merge sources' fates against the bookkeeping; user_progress and user_wallet hold one row
        per user with a migrated wallet or progress row: user_progress with the wallet's id, else the
        progress row's; user_wallet with the wallet's id, else the one derived from the user."""
        out: list[dict] = []
        ids: dict = {}  # user -> the id its user_progress row takes
        decided_all: dict = {}
        for source in mapping.merge_sources():
            if source.name not in self._merge:
                continue
            decided = self._merge[source.name][0]
            decided_all.update({(source.name, o): f for o, f in decided.items()})
            logged = self._logged(source.name)
            id_map = self._id_map(source.name)
            for fate in decided.values():
                want, found = _fate_text(fate), _logged_text(fate.ord, *logged)
                if fate.bucket == "merged" and found == "migrated":
                    found = "merged"
                if fate.bucket == "migrated":
                    ids[fate.user_id] = fate.id
                    want, found = _with_id_map(fate, id_map, want, found)
                if want != found:
                    out.append(_disagreement(source.name, fate, want, found))
            out += self._unexplained(source.name, decided, logged)
        wallets = {f.user_id: f.id for f in self._merge.get("user_wallet", ({}, {}))[0].values()
                   if f.bucket == "migrated"}
        expected = {"user_progress": ids,  # a user without a wallet row gets the derived wallet id (§3)
                    "user_wallet": {u: wallets.get(u) or fidelity.name_uuid(f"user_wallet:{u}") for u in ids}}
        for table, want in expected.items():
            target = dict(self.conn.execute(sql.SQL("select user_id, id from {}").format(
                qualified(self.schema, table))).fetchall())
            for user in set(want) | set(target):
                if want.get(user) != target.get(user):
                    out.append(_disagreement(table, None, f"user {user}: row {want.get(user)}",
                                             f"row {target.get(user)}"))
        name = ", ".join(s.name for s in mapping.merge_sources())
        return _fate_result(name, decided_all, out)

    # -- value fidelity ------------------------------------------------------------------------

    def _fidelity(self, source: mapping.Source, kept: dict[int, dict], sample: int | None, compare) -> Result:
        name = f"value fidelity {source.name}" + (f" (sample of {sample})" if sample else " (every row)")
        mismatches: list[dict] = []
        items = sorted(kept.items())
        for i in range(0, len(items), 2000):
            mismatches += compare(source, items[i:i + 2000])
        return Result(name, "value_fidelity", len(mismatches),
                      [{k: console.mask_value(m["column"], v) if k in ("expected", "actual") else v
                        for k, v in m.items()} for m in mismatches[:EXAMPLES]], len(items))

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

    def _compare(self, source: mapping.Source, batch) -> list[dict]:
        columns = [c.target for c in source.columns]
        targets = self._targets(source.target, columns, "id", [e["id"] for _, e in batch])
        mismatches = []
        for ord_, exp in batch:
            row = targets.get(exp["id"])
            if row is None:
                mismatches.append(_mismatch(source, ord_, exp, "id", exp["id"], "no target row"))
                continue
            for column, value in exp.items():
                if not _same(value, row[column]):
                    mismatches.append(_mismatch(source, ord_, exp, column, value, row[column]))
        return mismatches

    def _compare_merge(self, source: mapping.Source, rows) -> list[dict]:
        """The progress merge (core-tables.md): compare what this row supplies to user_progress and
        user_wallet; values both sides hold only where this side wins (d1pg.merge_winner)."""
        wins = (source.name == "user_wallet") == (self.merge_winner == "wallet")
        mismatches = []
        users = [e["user_id"] for _, e in rows]
        progress = self._targets("user_progress", [c.target for c in mapping.table("user_progress").columns],
                                 "user_id", users)
        wallet = self._targets("user_wallet", [c.target for c in mapping.table("user_wallet").columns],
                               "user_id", users)
        backup = self.backup_created_at
        for ord_, exp in rows:
            p, w = progress.get(exp["user_id"]), wallet.get(exp["user_id"])
            if p is None or w is None:
                mismatches.append(_mismatch(source, ord_, exp, "user_id", exp["user_id"], "no target row"))
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
                    mismatches.append(_mismatch(source, ord_, exp, column, value, target[column]))
        return mismatches


def _fate_text(fate: fates.Fate) -> str:
    """A fate as the disagreement lists show it."""
    if fate.bucket == "rejected":
        return "rejected stage" if fate.reason is None else f"rejected {fate.reason} at {fate.column}"
    if fate.bucket == "orphaned":
        return f"orphaned at {fate.column}"
    return fate.bucket + _nulled_text(fate.nulled)


def _logged_text(ord_: int, rejects: dict, skipped: dict, nulled: dict) -> str:
    """What the bookkeeping logged of one row, in :func:`_fate_text`'s words."""
    parts = []
    if ord_ in rejects:
        parts.append(f"rejected {rejects[ord_]}")
    if ord_ in skipped:
        parts.append(f"orphaned at {skipped[ord_]}")
    return (" and ".join(parts) or "migrated") + _nulled_text(nulled.get(ord_, ()))


def _nulled_text(columns) -> str:
    return f", nulled {', '.join(sorted(columns))}" if columns else ""


def _with_id_map(fate: fates.Fate, id_map: dict, want: str, found: str) -> tuple[str, str]:
    """A migrated row whose id is not a UUID is in migration.id_map with its new id (§3); when it is
    not, both texts say which entry."""
    if not fate.source_id or fidelity.UUID_TEXT.fullmatch(fate.source_id) or id_map.get(fate.source_id) == fate.id:
        return want, found
    return (f"{want}; id map {fate.source_id} -> {fate.id}",
            f"{found}; id map {fate.source_id} -> {id_map.get(fate.source_id)}")


def _pairs(names: list[str], values) -> str:
    return ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


def _disagreement(table: str, fate: fates.Fate | None, expected: str, found: str) -> dict:
    return {"table": table, "ord": None if fate is None else fate.ord,
            "source_id": None if fate is None else fate.source_id, "expected": expected, "found": found}


def _fate_result(name: str, decided: dict, out: list[dict]) -> Result:
    return Result(f"row fates {name} (every row)", "fates", len(out), out[:EXAMPLES], len(decided))


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


def _mismatch(source: mapping.Source, ord_: int, values: dict, column: str, expected, actual) -> dict:
    return {"table": source.name, "ord": ord_, "id": str(values.get(source.id_column.target)),
            "column": column, "expected": None if expected is None else str(expected),
            "actual": None if actual is None else str(actual)}
