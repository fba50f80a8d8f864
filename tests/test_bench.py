"""invoke bench: a smoke run at the smallest size (no time is asserted; speed lives in the benchmark)."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from d1pg.bench import bench
from d1pg.config import Settings


@pytest.mark.bench
def test_bench_smoke_run_times_every_phase_checks_accounting_and_writes_the_page(tmp_path, pg_url):
    out = tmp_path / "benchmarks.md"
    prefix = f"d1pg_bench_{uuid.uuid4().hex[:8]}"
    try:
        (result,) = bench(Settings(), (600,), server=pg_url, pgloader=False, work=tmp_path / "work", out=out,
                          quiet=True, prefix=prefix)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            for name in ("d1pg", "floor", "typed", "pgloader", "forms"):
                database = sql.Identifier(f"{prefix}_{name}")
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(database))
    assert result.rows > 500
    for phase in ("stage", "transform", "staging floor", "typed floor", "stage (SQL dump)", "stage (SQLite file)"):
        assert result.phases[phase].seconds > 0 and result.phases[phase].rows > 0, phase
    assert result.phases["staging floor"].rows == result.rows
    assert result.phases["stage (SQL dump)"].rows == result.phases["stage (SQLite file)"].rows == result.rows
    assert not [n for n in result.notices if "staged" in n]
    assert 0 < result.phases["typed floor"].rows < result.rows  # the migrated rows only
    stage = result.phases["stage"]
    assert stage.rss_mb > 10 and stage.process_seconds >= stage.seconds
    assert ("validate" in result.phases) != any("validate skipped" in n for n in result.notices)
    assert "pgloader" not in result.phases
    page = out.read_text()
    for part in ("# Benchmarks", "## Machine", "cores", "PostgreSQL", "## Goals", "stage <= 1.5x staging floor",
                 "stage (SQL dump) <= 1.5x stage (JSON)", "stage (SQLite file) <= 1.5x stage (JSON)",
                 f"## {result.rows:,} rows"):
        assert part in page, part


@pytest.mark.parametrize("validate_seconds, verdict", [(2.0, "met"), (2.6, "NOT met")])
def test_the_validate_goal_is_a_quarter_of_the_transform_s_time(validate_seconds, verdict):
    from d1pg.bench import Phase, SizeResult, goals

    result = SizeResult(1000, 9, rows=1000, phases={"transform": Phase(10.0, 1000, 1.0),
                                                    "validate": Phase(validate_seconds, 1000, 1.0)})
    [line] = [g for g in goals([result]) if g[1].startswith("validate")]
    assert line[1:] == ["validate <= 25% of the transform's time",
                        f"{validate_seconds * 10:.0f}% ({validate_seconds:.1f} s vs 10.0 s)", verdict]
