"""Hostile backups (tests/data/bad/cases.toml): each gets a clear one-line error naming where the problem
is, or the rejects the contract asks for (§4, §6); never a traceback; the target untouched."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import psycopg
import pytest
from invoke import Context

from d1pg import cli, mapping
from d1pg.config import Settings
from d1pg.migrate import migrate
from d1pg.transform import Options
from tests.conftest import SAMPLE
from tests.reliability import (
    one_error_line,
    run_task,
    runs,
    scratch_database,
    staging_fingerprint,
    target_fingerprint,
)

pytestmark = pytest.mark.reliability

BAD = Path(__file__).parent / "data" / "bad"
CASES = tomllib.loads((BAD / "cases.toml").read_text(encoding="utf-8"))
DEFAULT_OPTIONS = {"replace": True, "accept_missing": True}


def _generator():
    spec = importlib.util.spec_from_file_location("bad_inputs_generate", BAD / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def backup_of(name: str, tmp_path: Path) -> Path:
    case = CASES[name]
    if "file" in case:
        return BAD / case["file"]
    path = tmp_path / f"{case['generate']}.json"
    _generator().GENERATORS[case["generate"]](path)
    return path


@pytest.fixture(scope="module")
def loaded_url():
    """One database for all cases: target and staging hold the bundled sample to begin with."""
    with scratch_database() as url:
        migrate(Settings(database_url=url), SAMPLE, Options(replace=True, accept_missing=True), progress=False)
        yield url


def _ensure_target_holds_rows(url: str) -> None:
    with psycopg.connect(url) as conn:
        empty = conn.execute("select not exists (select 1 from users)").fetchone()[0]
    if empty:
        migrate(Settings(database_url=url), SAMPLE, Options(replace=True), progress=False)


def migrate_task(path: Path, url: str, options: dict) -> int:
    """`invoke migrate PATH ...` in this process, through the task of d1pg/cli.py and its one-line error handling."""
    try:
        cli.migrate(Context(), str(path), database_url=url, progress=False, **options)
    except SystemExit as exc:
        return exc.code
    return 0


def test_the_manifest_states_an_outcome_for_at_least_30_inputs_and_every_file_has_one():
    kinds = {name: case["expect"] for name, case in CASES.items()}
    assert len(kinds) >= 30 and set(kinds.values()) == {"error", "refused", "migrated"}
    listed = {case["file"] for case in CASES.values() if "file" in case}
    on_disk = {p.name for p in BAD.iterdir() if p.name not in ("cases.toml", "generate.py", "__pycache__")}
    assert listed == on_disk
    assert {c["generate"] for c in CASES.values() if "generate" in c} <= set(_generator().GENERATORS)


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=case["xfail"])) if "xfail" in case else name
    for name, case in CASES.items()])
def test_hostile_input_gets_its_stated_outcome(name, loaded_url, tmp_path, capfd):
    case = CASES[name]
    url = loaded_url
    path = backup_of(name, tmp_path)
    _ensure_target_holds_rows(url)
    target_before, staging_before, runs_before = target_fingerprint(url), staging_fingerprint(url), runs(url)
    capfd.readouterr()

    code = migrate_task(path, url, case.get("options", DEFAULT_OPTIONS))

    out, err = capfd.readouterr()
    new_runs = runs(url)[len(runs_before):]
    if case["expect"] == "migrated":
        assert code == 0, err
        assert "Traceback" not in out + err
        _check_migrated(url, case, new_runs)
        return
    assert code == 2, err
    line = one_error_line(err, out)
    assert line.startswith(f"d1pg: error: {path}: ") or case["expect"] == "refused", line
    for fragment in case["says"]:
        assert fragment in line
    assert target_fingerprint(url) == target_before, "the target changed"
    failure = line.removeprefix("d1pg: error: ")
    if case["expect"] == "error":
        assert staging_fingerprint(url) == staging_before, "staging or bookkeeping changed"
        assert [(r[1], r[2], r[3]) for r in new_runs] == [("stage", "failed", failure)]
    else:
        assert [(r[1], r[2]) for r in new_runs] == [("stage", "succeeded"), ("transform", "failed")]
        assert new_runs[1][3] == failure
        with psycopg.connect(url) as conn:
            staged = dict(conn.execute("select table_name, staged_rows from migration.staged_tables").fetchall())
        expected = case["staged"]
        if expected == "every mapped table, empty":
            expected = dict.fromkeys(mapping.mapped_source_names(), 0)
        assert staged == expected


def _check_migrated(url: str, case: dict, new_runs: list[tuple]) -> None:
    assert [(r[1], r[2]) for r in new_runs] == [("stage", "succeeded"), ("transform", "succeeded"),
                                                ("validate", "succeeded")]
    stage_run, run_id = new_runs[0][0], new_runs[1][0]
    with psycopg.connect(url) as conn:
        rejects = conn.execute(
            "select source_table, source_ord, coalesce(column_name, ''), reason from migration.rejects"
            " where run_id in (%s, %s) order by source_table, source_ord", [stage_run, run_id]).fetchall()
        outcome = {r[0]: r[1:] for r in conn.execute(
            "select source_table, staged, migrated, merged, skipped, orphaned, rejected"
            " from migration.table_outcomes where run_id = %s", [run_id]).fetchall()}
        checked = conn.execute(case["check"]["sql"], {"run_id": run_id}).fetchall() if "check" in case else None
    expected = case["rejects"]
    assert len(rejects) == len(expected), rejects
    assert [[t, o, "*" if e[2] == "*" else c, reason]
            for (t, o, c, reason), e in zip(rejects, expected, strict=True)] == expected
    assert {t: v[0] for t, v in outcome.items()} == case["staged"]
    for table, (staged, migrated, merged, skipped, orphaned, rejected) in outcome.items():
        assert staged == migrated + merged + skipped + orphaned + rejected, table
        assert rejected == sum(1 for r in rejects if r[0] == table), table
    if "check" in case:
        assert [list(r) for r in checked] == case["check"]["rows"]


@pytest.mark.parametrize("name", ["integer_5000_digits", "table_name_nul"])
def test_the_command_line_prints_one_line_or_the_summary_and_never_a_traceback(name, pg_url, tmp_path):
    """The same inputs through `python -m invoke migrate`, as a person runs it."""
    case = CASES[name]
    path = backup_of(name, tmp_path)
    done = run_task("migrate", str(path), "--database-url", pg_url, "--replace", "--accept-missing",
                    "--no-progress", cwd=tmp_path)
    assert "Traceback" not in done.stdout + done.stderr
    if case["expect"] == "migrated":
        assert done.returncode == 0, done.stderr
        assert "transform committed" in done.stdout
    else:
        assert done.returncode == 2
        line = one_error_line(done.stderr, done.stdout)
        assert all(fragment in line for fragment in case["says"])
