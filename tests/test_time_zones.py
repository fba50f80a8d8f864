"""Results and validation do not depend on the session's TimeZone (contract §4), on a real server.

One backup, built from the mapping: every mapped table has one row per test value, and each row
carries that value in every date and timestamp column (kinds ``timestamp``, ``date``, ``verified``;
``habit_logs.completed_date`` is derived). The values are the instants around each zone's clock
changes (the repeated hour, the skipped hour, their wall-clock times read as UTC) and the ends of
the accepted years, each in every accepted form of §4. The session zone reaches libpq through
``PGTZ``. The assertions read ``extract(epoch from ...)`` and dates, which no zone changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import sql

from d1pg import mapping
from d1pg.config import Settings
from d1pg.migrate import migrate
from d1pg.review import status
from d1pg.stage import stage
from d1pg.transform import Options
from d1pg.validate import DEFAULT_SAMPLE, _same
from tests.conftest import write_backup
from tests.every_table import EPOCH, TIME_KINDS, VALID_TIMES, backup_tables, row_id
from tests.reliability import scratch_database

ZONES = ("America/New_York", "Europe/Berlin", "America/St_Johns", "Australia/Lord_Howe", "Pacific/Kiritimati")
"""Whole-hour DST on both sides of UTC, half-hour offsets, half-hour DST, and +14 (a skipped day)."""

BACKUP_CREATED_AT = "2025-10-26T00:17:18.512Z"  # the backup's createdAt: Berlin's first 02:17:18.512
BACKUP_CREATED = datetime(2025, 10, 26, 0, 17, 18, 512000, tzinfo=UTC)
LOWEST = datetime(1, 1, 1, tzinfo=UTC)
HIGHEST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def clock_changes(zone: str) -> list[tuple[datetime, timedelta, timedelta]]:
    """(instant, offset before, offset after) of each change of the zone's UTC offset in 2025 and
    around 1995-01-01 (Kiritimati's skipped day), to the minute."""
    tz = ZoneInfo(zone)
    out = []
    for start, hours in ((datetime(2025, 1, 1, tzinfo=UTC), 365 * 24), (datetime(1994, 12, 15, tzinfo=UTC), 31 * 24)):
        for h in range(hours):
            lo, hi = start + timedelta(hours=h), start + timedelta(hours=h + 1)
            before = lo.astimezone(tz).utcoffset()
            if hi.astimezone(tz).utcoffset() == before:
                continue
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if mid.astimezone(tz).utcoffset() == before else (lo, mid)
            out.append((hi, before, hi.astimezone(tz).utcoffset()))
    return out


def instants() -> list[tuple[datetime, str]]:
    """(instant, zone whose offset its offset form uses): around every clock change of every zone."""
    out = [(LOWEST, "Etc/GMT-14"), (HIGHEST, "Etc/GMT+10")]  # 0001-01-01T14:00+14:00, 9999-12-31T13:59-10:00
    for zone in ZONES:
        changes = clock_changes(zone)
        assert changes, zone
        for at, before, after in changes:
            width = abs(after - before)
            wall = (at + min(before, after) + width / 2).replace(tzinfo=UTC)  # a repeated or skipped wall time
            moments = [at - timedelta(seconds=1), at, wall + timedelta(seconds=18, milliseconds=123)]
            if after < before:  # one wall time of the repeated hour, on its first and its second pass
                inner = width / 4 + timedelta(seconds=18)
                moments += [at - width + inner, at + inner]
            out += [(m, zone) for m in moments]
    return out


def forms(moment: datetime, zone: str) -> list[tuple[object, datetime]]:
    """Every accepted form of §4 for one instant: (source value, the instant the target must hold)."""
    frac = f".{moment.microsecond:06d}".rstrip("0") if moment.microsecond else ""
    utc = moment.replace(tzinfo=None).isoformat(timespec="seconds")  # isoformat keeps four-digit years
    local = moment.astimezone(ZoneInfo(zone))
    minutes = local.utcoffset() // timedelta(minutes=1)
    offset = f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    micros = (moment - EPOCH) // timedelta(microseconds=1)
    seconds, ms = Decimal(micros) / 10**6, Decimal(micros) / 10**3
    assert abs(ms) >= Decimal("1e11")  # else it would read as seconds
    out = [(f"{utc.replace('T', ' ')}{frac}", moment),  # SQLite form, UTC
           (f"{utc}{frac}Z", moment),
           (f"{utc.replace('T', 't')}{frac}z", moment),
           (f"{local.replace(tzinfo=None).isoformat(timespec='seconds')}{frac}{offset}", moment),
           (f"{utc}{frac}", moment),  # no zone: UTC
           (moment.date().isoformat(), datetime.combine(moment.date(), datetime.min.time(), UTC)),
           (str(ms), moment)]  # epoch milliseconds as text
    if abs(seconds) < Decimal("1e11"):
        out.append((str(seconds), moment))  # epoch seconds as text
        if micros % 1000 == 0:  # a JSON number, exact as JSON text
            out.append((int(seconds) if micros % 10**6 == 0 else float(seconds), moment))
    if micros % 1000 == 0:
        out.append((int(ms), moment))
    return out


VALUES = [v for moment, zone in instants() for v in forms(moment, zone)]


def expected_columns() -> list[tuple[str, str, str, str, object]]:
    """(target table, key column, column, 'instant' or 'date', source of the value): every date and
    timestamp column of every target; the source is the row's value or the backup's createdAt."""
    out = []
    for s in mapping.sources():
        if not s.target:
            continue
        own_updated_at = any(c.target == "updated_at" and c.source for c in s.columns)
        for c in s.columns:
            if c.kind in TIME_KINDS and c.source:
                out.append((s.target, "id", c.target, "date" if c.kind == "date" else "instant", "row"))
            elif c.derive and c.derive.rule == "utc_date":  # of a column that holds the row's value
                out.append((s.target, "id", c.target, "date", "row"))
            elif c.clock_fill:  # no source: created_at takes the row's own updated_at, else createdAt
                origin = "row" if c.target == "created_at" and own_updated_at else "backup"
                out.append((s.target, "id", c.target, "instant", origin))
    for target in mapping.merge_targets():  # every source row of the merge holds value i in each timestamp
        out += [(target, "user_id", c.target, "instant", "row")
                for c in mapping.table(target).columns if c.kind == "timestamp"]
    return out


def epoch(moment: datetime) -> Decimal:
    return Decimal((moment - EPOCH) // timedelta(microseconds=1)) / 10**6


@pytest.mark.parametrize("zone", ZONES)
def test_migrate_and_validate_give_the_same_instants_in_every_session_time_zone(tmp_path, pg_settings, query,
                                                                                monkeypatch, zone):
    monkeypatch.setenv("PGTZ", zone)
    assert query("select current_setting('TimeZone')") == [(zone,)]
    backup = write_backup(tmp_path / "b.json", backup_tables([raw for raw, _ in VALUES]),
                          createdAt=BACKUP_CREATED_AT)

    run_id = migrate(pg_settings, backup, Options(), progress=False)  # raises CheckFailed when a check fails

    checks = query("select check_name, offending_rows from migration.checks where run_id = (select run_id"
                   " from migration.runs where step = 'validate' order by started_at desc limit 1)")
    assert len(checks) > 40 and [c for c in checks if c[1]] == []
    assert sum(name.startswith("value fidelity") for name, _ in checks) == len(mapping.sources())
    outcomes = query("select source_table, migrated + merged from migration.table_outcomes where run_id = %s",
                     [run_id])
    assert dict(outcomes) == {s.name: len(VALUES) for s in mapping.sources()}
    assert len(VALUES) <= DEFAULT_SAMPLE  # value fidelity compared every row

    sources = {s.target: s.name for s in mapping.sources() if s.target}  # the merge targets are keyed by user_id
    columns = expected_columns()
    assert {"completed_date", "email_verified", "target_date", "last_activity_date"} <= {c[2] for c in columns}
    for target, key, column, kind, origin in columns:
        read = sql.SQL("extract(epoch from {})" if kind == "instant" else "{}").format(sql.Identifier(column))
        got = dict(query(sql.SQL("select {}::text, {} from {}").format(sql.Identifier(key), read,
                                                                        sql.Identifier(target))))
        want = {}
        for i, (_, moment) in enumerate(VALUES):
            moment = moment if origin == "row" else BACKUP_CREATED
            want[row_id(sources.get(target, "users"), i)] = epoch(moment) if kind == "instant" else moment.date()
        assert got == want, f"{target}.{column} under {zone}"


SESSION_ZONES = {"UTC": "UTC", "+14": "Etc/GMT-14", "-12": "Etc/GMT+12"}
"""The session zones compared (the POSIX names count west positive): a date read in the session's
zone instead of UTC moves forward under +14 from 10:00 UTC on, back under -12 before 12:00 UTC."""


def time_values(url: str) -> dict[tuple[str, str], dict]:
    """{(table, column): {primary key: value}} of every date and timestamp column of every declared
    target table, as values no session zone changes (seconds since the epoch, dates)."""
    out = {}
    with psycopg.connect(url) as conn:
        for name in mapping.target_tables():
            table = mapping.table(name)
            for c in table.columns:
                if c.sql_type not in ("date", "timestamp with time zone"):
                    continue
                read = sql.SQL("{}" if c.sql_type == "date" else "extract(epoch from {})").format(
                    sql.Identifier(c.target))
                out[name, c.target] = dict(conn.execute(sql.SQL("select {}::text, {} from {}").format(
                    sql.Identifier(table.primary_key.target), read, sql.Identifier(name))).fetchall())
    return out


def checks(url: str) -> list[tuple[str, int]]:
    """(check, offending rows) of the last validate."""
    with psycopg.connect(url) as conn:
        return conn.execute("select check_name, offending_rows from migration.checks where run_id = (select run_id"
                            " from migration.runs where step = 'validate' order by started_at desc limit 1)"
                            " order by position").fetchall()


@pytest.mark.parametrize("zone", [z for z in SESSION_ZONES if z != "UTC"])
def test_every_date_and_timestamp_column_and_validate_are_the_same_in_a_session_at_utc_and_at(
        every_table, tmp_path, monkeypatch, zone):
    """tests/every_table.py's backup migrated (with validate) in a session of the zone holds in every
    date and timestamp column of every target (derived ones such as habit_logs.completed_date and the
    clock fills included) what its migration in a UTC session holds, and validate passes alike."""
    utc_url, _, backup = every_table
    utc = time_values(utc_url)
    every = {(t, c.target) for t in mapping.target_tables() for c in mapping.table(t).columns
             if c.sql_type in ("date", "timestamp with time zone")}
    filled = {(t, c) for t, _, c, _, _ in expected_columns()}
    assert set(utc) == every and ("habit_logs", "completed_date") in filled
    assert all(len(utc[f]) >= len(VALID_TIMES) and None not in utc[f].values() for f in filled)
    assert len(checks(utc_url)) > 40 and [c for c in checks(utc_url) if c[1]] == []
    with psycopg.connect(utc_url) as conn:  # value fidelity compared every row
        assert conn.execute("select max(staged) from migration.table_outcomes").fetchone()[0] <= DEFAULT_SAMPLE

    monkeypatch.setenv("PGTZ", SESSION_ZONES[zone])
    with scratch_database() as url:
        with psycopg.connect(url) as conn:
            assert conn.execute("select current_setting('TimeZone')").fetchone() == (SESSION_ZONES[zone],)
        migrate(Settings(database_url=url, reports_dir=tmp_path), backup, Options(), progress=False)
        assert checks(url) == checks(utc_url)
        got = time_values(url)
    assert {f: v for f, v in got.items() if v != utc[f]} == {}


def test_the_values_cover_each_zone_s_repeated_and_skipped_hours():
    """For each zone, the values hold one wall time of a repeated hour on both its passes, and the
    wall time of a skipped hour (as UTC text: that wall time does not exist in the zone)."""
    for zone in ZONES:
        tz = ZoneInfo(zone)
        moments = {m for m, z in instants() if z == zone}
        second = [m for m in moments if m.astimezone(tz).fold]
        assert [m for m in second if m.astimezone(tz).replace(fold=0).astimezone(UTC) in moments] or \
            zone == "Pacific/Kiritimati", zone  # no repeated hour there, only a skipped day (1994-12-31)
        walls = [m.replace(tzinfo=tz) for m in moments]
        assert [w for w in walls if w.astimezone(UTC).astimezone(tz).replace(fold=0) != w], zone
    raws = [raw for raw, _ in VALUES]
    assert {"0001-01-01", "9999-12-31"} <= set(raws)
    assert {type(r) for r in raws} == {str, int, float}
    assert any(isinstance(r, str) and r.endswith("-02:30") for r in raws)  # St. John's summer time
    assert any(isinstance(r, str) and r.endswith("+10:30") for r in raws)  # Lord Howe standard time


def test_value_fidelity_compares_instants_not_wall_clocks():
    """_same: a UTC value equals the same instant read in a zone's repeated hour (either pass); two
    values of one zone with the same wall clock on different passes are different instants."""
    berlin = ZoneInfo("Europe/Berlin")
    first = datetime(2025, 10, 26, 0, 17, 18, tzinfo=UTC)  # 02:17:18+02:00
    second = first + timedelta(hours=1)  # 02:17:18+01:00
    assert _same(first, first.astimezone(berlin)) and _same(second, second.astimezone(berlin))
    assert not _same(first.astimezone(berlin), second.astimezone(berlin))
    assert not _same(first, second.astimezone(berlin))
    assert _same(first.date(), second.astimezone(berlin).date())


def test_status_shows_the_seconds_of_a_run_across_a_clock_change(tmp_path, pg_settings, pg_url, monkeypatch, capsys):
    """A run from 02:59 summer time to 02:01 winter time in the session's zone took two minutes."""
    monkeypatch.setenv("PGTZ", "Europe/Berlin")
    stage(pg_settings, write_backup(tmp_path / "b.json", {"users": []}), quiet=True)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("insert into migration.runs (run_id, step, status, started_at, finished_at) values"
                     " (gen_random_uuid(), 'transform', 'failed', '2030-10-27 00:59:00+00', '2030-10-27 01:01:00+00')")
    capsys.readouterr()
    got = status(pg_settings)
    assert got.runs[0]["started_at"].astimezone(ZoneInfo("Europe/Berlin")).hour == 2
    line = next(x for x in capsys.readouterr().out.splitlines() if "2030-10-27" in x)
    assert "2030-10-27 00:59:00Z" in line and "2030-10-27 01:01:00Z" in line and " 120.0 " in line, line
