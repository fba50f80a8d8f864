"""invoke bench: a smoke run at the smallest size (no time is asserted; speed lives in the benchmark), the
restore-order floor's keys and indexes, and pgloader's options."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from d1pg import mapping
from d1pg.bench import (
    DATABASES,
    PGLOADER_PREFETCH,
    _db_url,
    _typed_floor,
    bench,
    pgloader_options,
    restore_keys,
    set_aside_keys,
)
from d1pg.config import Settings
from d1pg.schema import create_schema


@pytest.mark.bench
def test_bench_smoke_run_times_every_phase_checks_accounting_and_writes_the_page(tmp_path, pg_url):
    out = tmp_path / "benchmarks.md"
    prefix = f"d1pg_bench_{uuid.uuid4().hex[:8]}"
    try:
        (result,) = bench(Settings(), (600,), server=pg_url, pgloader=False, work=tmp_path / "work", out=out,
                          quiet=True, prefix=prefix)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            for name in DATABASES:
                database = sql.Identifier(f"{prefix}_{name}")
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(database))
    assert result.rows > 500
    for phase in ("stage", "transform", "staging floor", "typed floor", "typed floor (restore order)",
                  "stage (SQL dump)", "stage (SQLite file)"):
        assert result.phases[phase].seconds > 0 and result.phases[phase].rows > 0, phase
    assert result.phases["staging floor"].rows == result.rows
    assert result.phases["stage (SQL dump)"].rows == result.phases["stage (SQLite file)"].rows == result.rows
    assert not [n for n in result.notices if "staged" in n]
    assert 0 < result.phases["typed floor"].rows < result.rows  # the migrated rows only
    assert result.phases["typed floor (restore order)"].rows == result.phases["typed floor"].rows
    stage = result.phases["stage"]
    assert stage.rss_mb > 10 and stage.process_seconds >= stage.seconds
    assert ("validate" in result.phases) != any("validate skipped" in n for n in result.notices)
    assert "pgloader" not in result.phases
    page = out.read_text()
    for part in ("# Benchmarks", "## Machine", "cores", "PostgreSQL", "## Goals", "stage <= 1.5x staging floor",
                 "stage (SQL dump) <= 1.5x stage (JSON)", "stage (SQLite file) <= 1.5x stage (JSON)",
                 "typed floor (restore order)", f"## {result.rows:,} rows"):
        assert part in page, part


@pytest.mark.parametrize("validate_seconds, verdict", [(2.0, "met"), (2.6, "NOT met")])
def test_the_validate_goal_is_a_quarter_of_the_transform_s_time(validate_seconds, verdict):
    from d1pg.bench import Phase, SizeResult, goals

    result = SizeResult(1000, 9, rows=1000, phases={"transform": Phase(10.0, 1000, 1.0),
                                                    "validate": Phase(validate_seconds, 1000, 1.0)})
    [line] = [g for g in goals([result]) if g[1].startswith("validate")]
    assert line[1:] == ["validate <= 25% of the transform's time",
                        f"{validate_seconds * 10:.0f}% ({validate_seconds:.1f} s vs 10.0 s)", verdict]


def _keys_and_indexes(url: str) -> dict[str, list[tuple]]:
    """Every constraint and index of the target schema, by its definition."""
    with psycopg.connect(url) as conn:
        return {
            "constraints": conn.execute(
                "select c.relname::text, k.conname::text, k.contype::text, pg_get_constraintdef(k.oid)"
                " from pg_constraint as k join pg_class as c on k.conrelid = c.oid"
                " where c.relnamespace = 'public'::regnamespace order by 1, 2").fetchall(),
            "indexes": conn.execute("select tablename::text, indexname::text, indexdef from pg_indexes"
                                    " where schemaname = 'public' order by 1, 2").fetchall()}


def test_restore_order_sets_aside_keys_and_indexes_but_not_checks_and_puts_back_the_same(pg_url):
    create_schema(Settings(database_url=pg_url), quiet=True)
    before = _keys_and_indexes(pg_url)
    kinds = {k[2] for k in before["constraints"]}
    assert {"p", "u", "f", "c"} <= kinds and before["indexes"], kinds
    with psycopg.connect(pg_url) as conn:
        aside = set_aside_keys(conn, "public", mapping.target_tables())
        conn.commit()
        during = _keys_and_indexes(pg_url)
        assert during["indexes"] == []
        assert during["constraints"] == [k for k in before["constraints"] if k[2] not in ("p", "u", "f")]
        restore_keys(conn, aside)
        conn.commit()
    assert _keys_and_indexes(pg_url) == before


def test_restore_order_floor_leaves_the_constraints_and_indexes_create_schema_makes(tmp_path, pg_url):
    create_schema(Settings(database_url=pg_url), quiet=True)
    tables = mapping.target_tables()
    for t in tables:
        (tmp_path / f"{t}.csv").write_bytes(b"")
    dbname = f"d1pg_bench_{uuid.uuid4().hex[:8]}_restore"
    try:
        phase = _typed_floor(pg_url, dbname, tmp_path, tables, restore_order=True)
        restored = _keys_and_indexes(_db_url(pg_url, dbname))
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))
    assert phase.seconds > 0 and phase.rows == 0
    assert restored == _keys_and_indexes(pg_url)


def test_pgloader_queue_holds_the_largest_table_so_a_table_given_up_cannot_stall_its_reader():
    # after a row fails to format, pgloader stops reading that table's queue: a reader with more
    # rows left than the queue holds waits for ever (the stall at 4M rows)
    assert pgloader_options(574_246)[-1] == "prefetch rows = 575246"
    assert pgloader_options(10)[-1] == f"prefetch rows = {PGLOADER_PREFETCH}"
    options = pgloader_options(1)
    assert int(options[options.index("--dynamic-space-size") + 1]) > 1024  # this build's default heap
