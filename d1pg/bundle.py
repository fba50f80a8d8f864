"""``invoke render``: the review bundle. The exact SQL transform and validate execute, one file per
step, both bundles whole (``transform.sql`` as one transaction), and ``manifest.json``; and the
offline render ``invoke lint`` checks. A top-layer module: it asks the steps for their SQL.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from d1pg import console, mapping, transform, validate
from d1pg.config import settings as default_settings
from d1pg.db import connect, database_url, server_version
from d1pg.schema import ddl


def d1pg_version() -> str:
    """The installed d1pg's version, from its package metadata (the source tree's when not installed)."""
    try:
        return metadata.version("d1pg")
    except metadata.PackageNotFoundError:
        from d1pg import __version__

        return __version__


def bundle_header(what: str, sources: list[str], server_version: str) -> str:
    """The header a rendered bundle file carries: what it is, what produced it, for which server, from
    which templates. No time: a render of the same input is byte-identical (the time is in the
    line ``invoke render`` prints)."""
    lines = [
        f"-- {what}",
        f"-- Rendered by d1pg {d1pg_version()} for PostgreSQL {server_version}.",
        "-- Rendered from: " + ", ".join(sources),
    ]
    return "\n".join(lines) + "\n"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def write_steps(folder: Path, script: Path, title: str, steps: list, server_version: str, *,
                transaction: bool = False) -> list[dict]:
    """Write rendered steps (each with ``label``, ``template``, ``sql``) as one numbered file per
    step under ``folder`` and all of them, in order, as ``script``; with ``transaction`` the script
    runs as one transaction (``begin;`` ... ``commit;``; the step files never hold them: the runner
    owns the transaction). Return each step's manifest entry, ``path`` included."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.sql"):
        old.unlink()
    entries = []
    whole = [bundle_header(title, sorted({s.template for s in steps}), server_version)]
    if transaction:
        whole.append("\nbegin;\n")
    for i, step in enumerate(steps, 1):
        name = f"{i:03d}_{re.sub(r'[^a-z0-9]+', '_', step.label.lower()).strip('_')}.sql"
        text = bundle_header(f"{title.split(':')[0]} step {i}: {step.label}", [step.template], server_version)
        (folder / name).write_bytes((text + "\n" + step.sql).encode())
        entries.append({"number": i, "label": step.label, "template": step.template, "file": f"{folder.name}/{name}",
                        "sha256": sha256(step.sql), "file_sha256": sha256(text + "\n" + step.sql),
                        "path": folder / name})
        whole.append(f"\n-- step {i}: {step.label} ({step.template})\n" + step.sql)
    if transaction:
        whole.append("\ncommit;\n")
    script.write_bytes("".join(whole).encode())
    return entries


def write_review_bundle(settings, out: Path, *, offline_version: int | None = None,
                        quiet: bool = False) -> list[Path]:
    """``invoke render``: the exact SQL transform and validate execute, for this server and staging,
    one file per step (``out/transform/``, ``out/validate/``), all of them in ``out/transform.sql``
    (one transaction: ``begin;`` ... ``commit;``) and ``out/validate.sql``, and ``out/manifest.json``
    describing the plan. Run the first with ``psql -v ON_ERROR_STOP=1 -f transform.sql``, then
    ``psql -f validate.sql`` (each check prints its offending rows; none when it passes). The same
    server and staging give byte-identical files; return the step files.

    With ``offline_version`` (a server_version_num) no database is asked: every mapped source
    counts as staged. That is how ``invoke lint`` checks the SQL as it will run."""

    if offline_version is None:
        with connect(database_url(settings)) as conn:
            num, version = server_version(conn)
            staged = transform.staged_tables(conn)
    else:
        num, staged = offline_version, mapping.mapped_source_names()
        version = f"{num // 10000} (rendered offline)"
    transform_steps = transform.steps(settings, num, staged)
    validate_steps = validate.steps(settings)
    transform_entries = write_steps(
        out / "transform", out / "transform.sql",
        "d1pg transform: every step in order, as one transaction (it holds its own begin and commit); "
        "run with psql -v ON_ERROR_STOP=1 -f transform.sql", transform_steps, version, transaction=True)
    validate_entries = write_steps(
        out / "validate", out / "validate.sql",
        "d1pg validate: every check in order; each returns its offending rows (none = pass); "
        "run with psql -v ON_ERROR_STOP=1 -f validate.sql", validate_steps, version)
    manifest = {
        "d1pg_version": d1pg_version(),
        "server_version": {"num": num, "text": version},
        "target_schema": settings.target_schema,
        "staged_tables": sorted(staged),
        "sources": [{"source_table": s.name,
                     "target_tables": [s.target] if s.target else mapping.merge_targets(),
                     "declaration": s.path.name,
                     "declaration_sha256": s.sha256} for s in mapping.plan()],
        "transform": _bundle_entry(out / "transform.sql", transform_entries),
        "validate": _bundle_entry(out / "validate.sql", validate_entries),
    }
    (out / "manifest.json").write_bytes((json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
                                         + "\n").encode())
    if not quiet:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        console.say(f"rendered at {now} for PostgreSQL {version}: {len(transform_steps)} transform steps to "
                   f"{out / 'transform'}/ and {len(validate_steps)} validate steps to {out / 'validate'}/, all of "
                   f"them to {out / 'transform.sql'} and {out / 'validate.sql'}, the plan to {out / 'manifest.json'}")
    return [e["path"] for e in transform_entries + validate_entries]


def _bundle_entry(script: Path, entries: list[dict]) -> dict:
    return {"file": script.name, "file_sha256": hashlib.sha256(script.read_bytes()).hexdigest(),
            "steps": [{k: v for k, v in e.items() if k != "path"} for e in entries]}


def render_for_lint(out: Path) -> list[Path]:
    """Render transform and validate offline for PostgreSQL 18 and 15 under ``out``, and the DDL of
    every declared table; return what to lint: every step for 18, for 15 the steps whose text
    differs, and the DDL."""
    shutil.rmtree(out, ignore_errors=True)
    newest = write_review_bundle(default_settings(), out / "pg18", offline_version=180000, quiet=True)
    oldest = write_review_bundle(default_settings(), out / "pg15", offline_version=150000, quiet=True)
    (out / "schema").mkdir(parents=True, exist_ok=True)
    schema = []
    for i, text in enumerate(ddl(default_settings().target_schema), 1):
        schema.append(out / "schema" / f"{i:03d}_create_table.sql")
        schema[-1].write_text(text)
    return newest + [old for new, old in zip(newest, oldest, strict=True)
                     if _body(new.read_text()) != _body(old.read_text())] + schema


def _body(text: str) -> str:
    """A rendered step without its header (which names the server version)."""
    return text.split("\n\n", 1)[1]
