"""The installed command (README: Install as a command): a wheel of this checkout, installed
non-editable into a folder of its own, runs from another directory with the SQL it carries."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

import d1pg
from d1pg.cli import namespace
from tests.conftest import ROOT, SAMPLE

# What `pip install .` of a working checkout does not read: local state, caches, earlier builds.
NOT_SOURCE = shutil.ignore_patterns(".git", ".d1pg", ".venv", "build", "dist", "reports", "rendered", "*.egg-info",
                                    "__pycache__", ".hypothesis", ".pytest_cache", ".ruff_cache")


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text)[:3])


def _local_setuptools_builds() -> bool:
    """Whether this Python's setuptools meets the build requirement of pyproject.toml."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    minimum = next(_numbers(r) for r in requires if r.startswith("setuptools"))
    try:
        return _numbers(version("setuptools")) >= minimum
    except Exception:  # not installed
        return False


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=180, **kwargs)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A wheel of the checkout (built from a copy, so the checkout gets no build/ or egg-info),
    installed with pip, non-editable, into its own folder."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    # What an earlier build of the checkout left behind, for a step deleted since: it must not ship.
    stale = source / "build" / "lib" / "d1pg" / "sql" / "transform" / "99_deleted_since.sql"
    stale.parent.mkdir(parents=True)
    stale.write_text("select 1;\n")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-w", str(tmp / "wheel"), str(source)]
    if _local_setuptools_builds():
        build.insert(4, "--no-build-isolation")
    built = _run(build)
    assert built.returncode == 0, built.stdout + built.stderr
    wheels = list((tmp / "wheel").glob("d1pg-*.whl"))
    assert len(wheels) == 1, wheels
    installed = _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--target",
                      str(tmp / "site"), str(wheels[0])])
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return tmp / "site"


def _files(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_the_wheel_carries_every_module_sql_file_template_and_declaration(site):
    def under(folder: Path, pattern: str, prefix: str) -> set[str]:
        return {prefix + p.relative_to(folder).as_posix() for p in folder.glob(pattern) if "__pycache__" not in p.parts}

    expected = (under(ROOT / "d1pg", "**/*.py", "") | under(ROOT / "d1pg", "tables/*.toml", "")
                | under(ROOT / "sql", "**/*.sql", "sql/") | under(ROOT / "templates", "*.sql", "templates/"))
    assert {"sql/transform/10_prologue.sql", "templates/convert.sql", "cli.py"} <= expected
    assert under(site / "d1pg", "**/*.*", "") == expected


def test_installed_command_runs_from_any_directory(site, tmp_path, pg_url, query):
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DATABASE_URL")}
    env |= {"PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [str(site / "bin" / "d1pg")]
    before = _files(site)

    def run(*argv: str) -> subprocess.CompletedProcess:
        return _run([*argv], cwd=work, env=env)

    # The package, its SQL and templates all come from the installed folder, not the checkout.
    where = run(sys.executable, "-c", "import d1pg, d1pg.render as r; print(d1pg.__file__, r.SQL_DIR, r.TEMPLATES_DIR)")
    assert where.returncode == 0, where.stderr
    assert where.stdout.split() == [str(site / "d1pg" / "__init__.py"), str(site / "d1pg" / "sql"),
                                    str(site / "d1pg" / "templates")]

    listed = run(*command, "--list")
    assert listed.returncode == 0, listed.stderr
    assert set(re.findall(r"^  (\S+)", listed.stdout, re.M)) == set(namespace.task_names)

    for argv in (("--help", "migrate"), ("migrate", "--help")):
        shown = run(*command, *argv)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.startswith("Usage: d1pg [--core-opts] migrate"), shown.stdout
        for option in ("--database-url", "--replace", "--skip-table", "--merge-winner", "--[no-]progress"):
            assert option in shown.stdout, option

    for argv in (command, [sys.executable, "-m", "d1pg"]):
        told = run(*argv, "--version")
        assert told.returncode == 0 and told.stdout.strip() == f"d1pg {d1pg.__version__}", told

    refused = run(*command, "lint")
    assert refused.returncode == 2 and refused.stderr.startswith("d1pg: error: lint works only in a d1pg checkout")

    shutil.copy(SAMPLE, work / "backup.json")
    migrated = run(*command, "migrate", "backup.json", "--database-url", pg_url, "--no-progress")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert query("select count(*) from users")[0][0] > 0
    (run_id,) = query("select run_id::text from migration.runs where step = 'transform' and status = 'succeeded'")[0]
    assert sorted(p.name for p in (work / "reports" / run_id).iterdir()) == ["data_migration_impact.md",
                                                                             "report.json"]
    assert _files(site) == before, "the installed package was written to"
