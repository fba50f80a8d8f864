"""The report files of one migration (contract §9): ``reports/<run id>/report.json`` and the
``data_migration_impact.md`` for the business side, built from the database."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

from d1pg import mapping
from d1pg.console import cell, mask_value, say

# --- The report files of one migration (contract §9) -------------------------------------------

BUCKETS = ("staged", "migrated", "merged", "skipped", "orphaned", "rejected")


def write_report(settings, transform_run: str | None = None, *, quiet: bool = False) -> Path:
    """Write ``reports/<transform run id>/report.json`` and ``data_migration_impact.md`` from the
    database (the newest succeeded transform unless ``transform_run``); return the folder."""
    from d1pg.db import connect, database_url
    from d1pg.errors import InputError

    with connect(database_url(settings)) as conn:
        exists = conn.execute("select to_regclass('migration.table_outcomes') is not null").fetchone()[0]
        if not exists:
            raise InputError("nothing to report: no migration has run against this database")
        data = collect(conn, settings, transform_run)
    folder = settings.reports_dir / data["run"]["run_id"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    (folder / "data_migration_impact.md").write_text(impact_markdown(data))
    if not quiet:
        say(f"report: {folder / 'report.json'} and {folder / 'data_migration_impact.md'}")
    return folder


def _rows(conn, query: str, params=()) -> list[dict]:
    cur = conn.execute(query, params)
    names = [d.name for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def collect(conn, settings, transform_run: str | None = None) -> dict:
    """Everything the report says, read from the bookkeeping; values masked."""
    from d1pg.validate import last_transform

    chosen = last_transform(conn, transform_run)[0]
    run = _rows(conn, "select run_id::text, stage_run_id::text, started_at, finished_at, status, options,"
                " tool_version, server_version from migration.runs where run_id = %s", [chosen])[0]
    rid, sid = run["run_id"], run["stage_run_id"]
    backup = (_rows(conn, "select backup_path, backup_sha256, backup_size_bytes, backup_created_at,"
                    " backup_created_by, backup_version, backup_version_name, options ->> 'format' as backup_format,"
                    " options ->> 'instant' as backup_created_at_from from migration.runs"
                    " where run_id::text = %s", [sid]) or [{}])[0]
    tables = _rows(conn, "select source_table, target_table, staged, migrated, merged, skipped, orphaned, rejected,"
                   " skip_reason from migration.table_outcomes where run_id::text = %s order by source_table", [rid])
    rejects = _rows(conn, "select source_table, reason, column_name, count(*) as rows from migration.rejects"
                    " where run_id::text in (%s, %s) group by 1, 2, 3 order by 1, 2, 3", [rid, sid])
    orphans = _rows(conn, "select source_table, fk_column, parent_table, action, count(*) as rows"
                    " from migration.orphans where run_id::text = %s group by 1, 2, 3, 4 order by 1, 2, 4", [rid])
    conflicts = _rows(conn, "select target_table, detail ->> 'kept' as kept, count(*) as rows from migration.conflicts"
                      " where run_id::text = %s group by 1, 2 order by 1", [rid])
    value_changes = _rows(conn, "select source_table, column_name, old_value, new_value, rows_changed"
                          " from migration.value_changes where run_id::text = %s order by 1, 2, 3", [rid])
    unmapped_columns = _rows(conn, "select source_table, column_name, rows_with_value from migration.unmapped_columns"
                             " where run_id::text = %s order by 1, 2", [rid])
    derived_values = _rows(conn, "select source_table, column_name, rule, rows_changed from migration.derived_values"
                           " where run_id::text = %s order by 1, 2, 3", [rid]) if conn.execute(
        "select to_regclass('migration.derived_values') is not null").fetchone()[0] else []
    staged = {t["source_table"] for t in tables}
    absent = sorted(mapping.mapped_source_names() - staged)
    declared = {s.name: s for s in mapping.sources()}
    words = {(s.name, key): what for s in declared.values() for key, what in s.unmapped}
    for c in unmapped_columns:
        c["what"] = words.get((c["source_table"], c["column_name"]), "")
    from d1pg.validate import target_sources

    migrated = {t["source_table"]: t["migrated"] for t in tables}
    targets = [{"target_table": target, "rows": sum(migrated.get(s, 0) for s in sources)}
               for target, sources in target_sources().items()]
    validation = _validation(conn, rid)
    totals = {b: sum(t[b] for t in tables) for b in BUCKETS}
    return {
        "run": {**run, "target_schema": settings.target_schema},
        "backup": backup,
        "totals": totals,
        "accounting_identity_holds": all(
            t["staged"] == sum(t[b] for b in BUCKETS[1:]) for t in tables),
        "tables": tables,
        "targets": targets,
        "rejects_by_reason": rejects,
        "orphans_by_reason": orphans,
        "merge_conflicts": conflicts,
        "value_changes": value_changes,
        "derived_values": derived_values,
        "named_losses": [{"source_table": n, "loss": s.loss} for n, s in sorted(declared.items())
                         if s.loss and n in staged],
        "ids_inside_values": [{"table": s.table.name, "column": c.target} for s in declared.values()
                              for c in s.table.columns if c.holds_old_ids],
        "proposed_tables": [{"target_table": t["target_table"], "rows": t["rows"]} for t in targets
                            if mapping.source_of_table(t["target_table"]).proposed],
        "unmapped_tables": [t for t in tables if t["skip_reason"] == "unmapped_accepted"],
        "unmapped_columns": unmapped_columns,
        "absent_tables": absent,
        "validation": validation,
    }


def _validation(conn, transform_run: str) -> dict:
    """The newest validation of this transform run: its verdict and checks (examples masked)."""
    latest = conn.execute(
        "select c.run_id::text, r.started_at from migration.checks as c join migration.runs as r using (run_id)"
        " where c.transform_run_id::text = %s order by r.started_at desc limit 1", [transform_run]).fetchone()
    if latest is None:
        return {"verdict": "not validated", "checks": []}
    checks = _rows(conn, "select check_name, category, offending_rows, examples from migration.checks"
                   " where run_id::text = %s order by position", [latest[0]])
    for c in checks:
        c["examples"] = [{k: mask_value(k, v) for k, v in e.items()} for e in c["examples"]]
    failed = sum(c["offending_rows"] > 0 for c in checks)
    return {"run_id": latest[0], "validated_at": latest[1], "verdict": "failed" if failed else "passed",
            "checks_passed": len(checks) - failed, "checks_failed": failed, "checks": checks}


def _md_table(columns: list[str], rows: list[list]) -> str:
    if not rows:
        return "_none_\n"
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(v).replace("|", "\\|") for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def not_decided_losses(data: dict) -> list[str]:
    """The losses no decision of the contract made, one sentence each: accepted flags are not
    decisions (tables left behind with --accept-unmapped, tables absent with --accept-missing), and
    neither are rows that could not be moved or values no column reads."""
    totals = data["totals"]
    out = []
    unmapped = [t for t in data["unmapped_tables"] if t["staged"]]
    if unmapped:
        out.append(f"{len(unmapped)} table(s) holding {sum(t['staged'] for t in unmapped):,} rows were NOT migrated: "
                   "no mapping reads them and the run accepted that (--accept-unmapped): "
                   + ", ".join(f"{t['source_table']} ({t['staged']:,} rows)" for t in unmapped) + ".")
    if data["absent_tables"]:
        out.append(f"{len(data['absent_tables'])} table(s) the mapping reads were absent from the input and are NOT "
                   "migrated (accepted with --accept-missing; their row count is unknown): "
                   + ", ".join(data["absent_tables"]) + ".")
    lost = totals["orphaned"] + totals["rejected"]
    if lost:
        out.append(f"{lost:,} rows could not be moved ({totals['orphaned']:,} orphaned, {totals['rejected']:,} "
                   "rejected): see \"What did not move\".")
    unread = [c for c in data["unmapped_columns"] if not c.get("what")]
    if unread:
        out.append(f"{sum(c['rows_with_value'] for c in unread):,} values in {len(unread)} column(s) that no mapping "
                   "reads are not carried over: see \"Data no mapping reads\".")
    return out


def impact_markdown(data: dict) -> str:
    """The business-side document the seed asks for (docs/business/data_migration_impact.md). Its
    first lines put any loss that is not a decision before everything else."""
    run, totals, validation = data["run"], data["totals"], data["validation"]
    backup = data["backup"]
    losses = not_decided_losses(data)
    verdict = {"passed": "**passed**: every migrated row was checked and found right"
               + ("; this does NOT mean nothing was lost (see \"Not carried over\" above)" if losses else ""),
               "failed": f"**FAILED**: {validation.get('checks_failed')} check(s) found problems (see below)",
               "not validated": "**not validated yet**: run `invoke validate`"}[validation["verdict"]]
    decided = sum(t["skipped"] for t in data["tables"] if t["skip_reason"] != "unmapped_accepted")
    out = [
        "# Data migration impact",
        "",
        f"Migration run `{run['run_id']}` into PostgreSQL schema `{run['target_schema']}`, finished "
        f"{run['finished_at'].astimezone(UTC):%Y-%m-%d %H:%M} UTC. Backup: `{backup.get('backup_path')}` "
        f"({backup.get('backup_format') or 'admin-json'}, sha256 `{backup.get('backup_sha256')}`, created"
        f" {backup.get('backup_created_at')}"
        + (f" from the {backup['backup_created_at_from']}"
           if backup.get("backup_created_at_from") not in (None, "createdAt") else "") + ").",
        "",
        "## Not carried over (read this first)",
        "",
        *([f"- {line}" for line in losses] or ["- Nothing beyond the decisions listed below: every table of the "
                                               "input was migrated or left behind by a decision."]),
        "",
        "## In short",
        "",
        f"- {totals['staged']:,} rows were in the backup. {totals['migrated']:,} moved, {totals['merged']:,} were "
        f"merged into another row, {decided:,} were left behind by a decision"
        + (f", {totals['skipped'] - decided:,} were left behind by a flag" if totals["skipped"] != decided else "")
        + f", {totals['orphaned'] + totals['rejected']:,} could not be moved "
        f"({totals['orphaned']:,} orphaned, {totals['rejected']:,} rejected).",
        f"- Every row is accounted for: staged = migrated + merged + skipped + orphaned + rejected "
        f"{'holds for every table' if data['accounting_identity_holds'] else 'does NOT hold for some table'}.",
        f"- Validation: {verdict}.",
        "- **Everyone signs in again.** Sessions are not migrated (decision DEC-001=A): after the switch every "
        "user is signed out once and signs in with the same account as before. Nothing else changes for them.",
        *[f"- **{n['source_table']}**: {n['loss']}." for n in data["named_losses"]],
        "",
        "## What moved",
        "",
        _md_table(["target table", "rows"], [[t["target_table"], t["rows"]] for t in data["targets"]]),
        "## Per source table",
        "",
        _md_table(["source table", "staged", "migrated", "merged", "skipped", "orphaned", "rejected", "why skipped"],
                  [[t["source_table"], *(t[b] for b in BUCKETS), t["skip_reason"] or ""] for t in data["tables"]]),
        "## What did not move, and why",
        "",
        "### Left behind on purpose",
        "",
        _md_table(["table", "rows", "reason"],
                  [[t["source_table"], t["skipped"], _skip_reason(t["skip_reason"])]
                   for t in data["tables"] if t["skipped"]]),
        "### Rejected rows (a value the contract does not accept, a missing or duplicate id or key)",
        "",
        _md_table(["table", "reason", "first failing column", "rows"],
                  [[r["source_table"], r["reason"], r["column_name"] or "", r["rows"]]
                   for r in data["rejects_by_reason"]]),
        "### Orphans (the parent row is not in the migration)",
        "",
        "`skipped`: the row was not migrated. `nulled`: the row was migrated with this reference set to empty.",
        "",
        _md_table(["table", "reference", "parent", "action", "rows"],
                  [[o["source_table"], o["fk_column"], o["parent_table"], o["action"], o["rows"]]
                   for o in data["orphans_by_reason"]]),
        "### Values the migration changed on purpose",
        "",
        "The plan says data is preserved exactly as-is; where the migration contract changes data, it wins "
        "and this section says so.",
        "",
        _md_table(["table", "column", "old value", "new value", "rows"],
                  [[v["source_table"], v["column_name"], v["old_value"], v["new_value"], v["rows_changed"]]
                   for v in data["value_changes"]]),
        "Values made by a rule rather than copied (derived values, comma lists read as lists, numbers rounded "
        "to PostgreSQL `real`, keys found by a parent's id), per table, column and rule:",
        "",
        _md_table(["table", "column", "rule", "rows"],
                  [[v["source_table"], v["column_name"], v["rule"], v["rows_changed"]]
                   for v in data["derived_values"]]),
        "Wallet and progress rows of one user are merged into one `user_progress` and one `user_wallet` row. "
        "Where both held a different value, the kept side is named below; the other value is not migrated "
        "(each case is in `migration.conflicts`).",
        "",
        _md_table(["target table", "kept side", "users with differing values"],
                  [[c["target_table"], c["kept"], c["rows"]] for c in data["merge_conflicts"]]),
        "### Data no mapping reads (possible loss)",
        "",
        "Tables left behind because the run accepted unmapped tables (`--accept-unmapped`):",
        "",
        _md_table(["table", "rows"], [[t["source_table"], t["staged"]] for t in data["unmapped_tables"]]),
        "Columns present in the backup that no mapping uses (an older key counts where the current key was "
        "there too); \"known\" ones are losses the mapping states, with what they held:",
        "",
        _md_table(["table", "column", "rows with a value", "known loss"],
                  [[c["source_table"], c["column_name"], c["rows_with_value"], c.get("what", "")]
                   for c in data["unmapped_columns"]]),
        "Columns whose values embed ids of other rows, which are not rewritten: a canonical UUID stays valid, "
        "any other old id is found in `migration.id_map` (see the README, \"Old ids inside values\"):",
        "",
        _md_table(["table", "column"], [[c["table"], c["column"]] for c in data["ids_inside_values"]]),
        "Tables d1pg created because the app's PostgreSQL schema has none (proposed targets):",
        "",
        _md_table(["target table", "rows"], [[t["target_table"], t["rows"]] for t in data["proposed_tables"]]),
        "Tables the mapping reads that are absent from the backup (accepted with `--accept-missing`):",
        "",
        _md_table(["table"], [[t] for t in data["absent_tables"]]),
        "## Validation",
        "",
        _md_table(["check", "kind", "offending rows", "result"],
                  [[c["check_name"], c["category"], c["offending_rows"], "pass" if not c["offending_rows"] else "FAIL"]
                   for c in validation["checks"]]),
        "## How to roll back",
        "",
        "D1 stays the source of truth until the switch. To undo this migration in PostgreSQL:",
        "",
        "1. `invoke rollback --yes` empties the migrated target tables (children first); add `--drop` to drop "
        "the tables d1pg created.",
        "2. `invoke clean --yes` drops the staging copy and the migration bookkeeping.",
        "3. Fix the cause, then run `invoke migrate BACKUP` again: the same backup gives the same rows and ids.",
        "",
        "Without `--yes` both commands only print what they would do.",
        "",
    ]
    return "\n".join(out)


def _skip_reason(code: str | None) -> str:
    return f"{code}: {mapping.skip_reason(code)}" if code else ""
