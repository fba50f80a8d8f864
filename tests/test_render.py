"""invoke render: the review bundle is reproducible, described by manifest.json, and transform.sql
runs in psql as one transaction."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
from importlib import metadata
from pathlib import Path

import psycopg
import pytest

from d1pg import mapping
from d1pg.bundle import write_review_bundle
from d1pg.config import Settings
from d1pg.mapping import TABLES_DIR as TABLES
from d1pg.schema import create_schema
from d1pg.stage import stage
from d1pg.transform import steps as transform_steps
from tests.conftest import SAMPLE
from tests.reliability import run_task
from tests.test_transform import _psql

TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")


def staged_sample(settings: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "sample.json"
    shutil.copy(SAMPLE, copy)
    create_schema(settings, quiet=True)
    stage(settings, copy, quiet=True)


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_two_renders_of_one_staging_are_byte_identical(tmp_path, pg_url, pg_settings, capsys, monkeypatch):
    staged_sample(pg_settings, tmp_path)
    write_review_bundle(pg_settings, tmp_path / "first")
    said = capsys.readouterr().out
    assert TIME.search(said), said  # the time of a render is in what the command prints...
    # ...not in the files: a second render, by the command, in another process with another string
    # hash seed (set iteration order), writes the same bytes
    monkeypatch.setenv("PYTHONHASHSEED", "4242")
    time.sleep(1.01 - time.time() % 1)  # and in a later second of the clock
    done = run_task("render", "--out", str(tmp_path / "second"), "--database-url", pg_url)
    assert done.returncode == 0, done.stderr
    assert TIME.search(done.stdout), done.stdout
    first, second = files_of(tmp_path / "first"), files_of(tmp_path / "second")
    assert len(first) > 60 and "manifest.json" in first and "transform.sql" in first
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_every_file_names_what_it_is_the_d1pg_version_the_server_and_its_template(tmp_path, pg_settings):
    staged_sample(pg_settings, tmp_path)
    write_review_bundle(pg_settings, tmp_path / "out", quiet=True)
    with psycopg.connect(pg_settings.database_url) as conn:
        server = conn.execute("show server_version").fetchone()[0]
    version = metadata.version("d1pg")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    for bundle in ("transform", "validate"):
        for step in manifest[bundle]["steps"]:
            header = (tmp_path / "out" / step["file"]).read_text().split("\n\n", 1)[0].splitlines()
            assert header == [f"-- d1pg {bundle} step {step['number']}: {step['label']}",
                              f"-- Rendered by d1pg {version} for PostgreSQL {server}.",
                              f"-- Rendered from: {step['template']}"]
        whole = (tmp_path / "out" / f"{bundle}.sql").read_text().split("\n\n", 1)[0].splitlines()
        assert whole[0].startswith(f"-- d1pg {bundle}: ") and f"-f {bundle}.sql" in whole[0]
        templates = sorted({s["template"] for s in manifest[bundle]["steps"]})
        assert whole[1:] == [f"-- Rendered by d1pg {version} for PostgreSQL {server}.",
                             "-- Rendered from: " + ", ".join(templates)]
    assert "--single-transaction" not in (tmp_path / "out" / "transform.sql").read_text().splitlines()[0]


def test_the_manifest_describes_the_plan_and_its_hashes_match_the_files(tmp_path, pg_settings):
    staged_sample(pg_settings, tmp_path)
    out = tmp_path / "out"
    write_review_bundle(pg_settings, out, quiet=True)
    text = (out / "manifest.json").read_text()
    manifest = json.loads(text)
    assert text == json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"  # sorted, one newline
    with psycopg.connect(pg_settings.database_url) as conn:
        num = conn.info.server_version
        server = conn.execute("show server_version").fetchone()[0]
        staged = sorted(r[0] for r in conn.execute(
            "select table_name from migration.staged_tables where skipped_reason is null"))
    assert manifest["d1pg_version"] == metadata.version("d1pg")
    assert manifest["server_version"] == {"num": num, "text": server}
    assert manifest["target_schema"] == "public"
    assert manifest["staged_tables"] == staged and "users" in staged
    assert manifest["sources"] == [
        {"source_table": s.name, "target_tables": [s.target] if s.target else ["user_progress", "user_wallet"],
         "declaration": f"{s.name}.toml", "declaration_sha256": sha256((TABLES / f"{s.name}.toml").read_bytes())}
        for s in mapping.plan()]
    runner = transform_steps(pg_settings, num, set(staged))  # the text the runner executes
    assert [s["sha256"] for s in manifest["transform"]["steps"]] == [sha256(s.sql.encode()) for s in runner]
    assert [(s["label"], s["template"]) for s in manifest["transform"]["steps"]] == [(s.label, s.template)
                                                                                     for s in runner]
    for bundle in ("transform", "validate"):
        entry = manifest[bundle]
        assert entry["file"] == f"{bundle}.sql" and entry["file_sha256"] == sha256((out / entry["file"]).read_bytes())
        assert [s["number"] for s in entry["steps"]] == list(range(1, len(entry["steps"]) + 1))
        on_disk = sorted(f"{bundle}/{p.name}" for p in (out / bundle).iterdir())
        assert sorted(s["file"] for s in entry["steps"]) == on_disk
        for step in entry["steps"]:
            data = (out / step["file"]).read_bytes()
            assert step["file_sha256"] == sha256(data), step["file"]
            assert step["sha256"] == sha256(data.split(b"\n\n", 1)[1]), step["file"]  # the SQL under the header


def test_the_manifest_names_each_declaration_file_and_its_hash(tmp_path):
    """A changed declaration file changes the manifest: its sha256 is the file's."""
    write_review_bundle(Settings(), tmp_path / "out", offline_version=180000, quiet=True)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {s["declaration"]: s["declaration_sha256"] for s in manifest["sources"]} == {
        p.name: sha256(p.read_bytes()) for p in TABLES.glob("*.toml") if p.name != "skipped-tables.toml"}


def test_transform_sql_is_one_begin_commit_and_the_step_files_hold_no_transaction_control(tmp_path):
    write_review_bundle(Settings(), tmp_path / "out", offline_version=180000, quiet=True)
    statements = [line for line in (tmp_path / "out" / "transform.sql").read_text().splitlines()
                  if line.strip() and not line.startswith("--")]
    assert statements[0] == "begin;" and statements[-1] == "commit;"
    control = re.compile(r"^\s*(begin|commit|rollback|start\s+transaction|abort)\s*;", re.IGNORECASE | re.MULTILINE)
    assert len(control.findall((tmp_path / "out" / "transform.sql").read_text())) == 2
    for path in sorted((tmp_path / "out").glob("*/*.sql")):
        assert control.findall(path.read_text()) == [], path.name  # the runner owns the transaction


@pytest.mark.parametrize("flags", [[], ["--single-transaction"]], ids=["alone", "single-transaction"])
def test_a_failure_in_the_last_step_of_transform_sql_in_psql_leaves_the_target_empty(tmp_path, pg_url, pg_settings,
                                                                                      query, flags):
    psql = _psql()
    assert psql, "no psql binary found"
    staged_sample(pg_settings, tmp_path)
    write_review_bundle(pg_settings, tmp_path / "out", quiet=True)
    script = (tmp_path / "out" / "transform.sql").read_text()
    assert script.endswith("\ncommit;\n")
    failing = tmp_path / "failing.sql"
    failing.write_text(script.removesuffix("commit;\n") + "select 1 / 0 as injected_failure;\n\ncommit;\n")
    proc = subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", *flags, "-f", str(failing), pg_url],
                          capture_output=True, text=True)
    assert proc.returncode == 3 and "division by zero" in proc.stderr, proc.stderr  # every step before it ran
    counts = {t: query(f"select count(*) from {t}")[0][0] for t in mapping.target_tables()}  # noqa: S608
    assert counts == dict.fromkeys(mapping.target_tables(), 0)
    assert query("select count(*) from migration.table_outcomes") == [(0,)]
    assert query("select count(*) from migration.id_map") == [(0,)]
