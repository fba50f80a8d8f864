"""The three inputs (contract additions §1): the admin backup JSON, a `wrangler d1 export` SQL dump
and a SQLite database file give the same staging and the same target rows."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from d1pg.errors import InputError
from d1pg.forms import write_admin_json, write_dump
from d1pg.generate import generate_backup
from d1pg.inputs import detect_format, open_input
from d1pg.inputs.sql_dump import CHUNK
from d1pg.inputs.sqlite_rows import js_number
from d1pg.mapping import target_tables
from d1pg.migrate import migrate
from d1pg.schema import create_schema
from d1pg.stage import stage
from d1pg.transform import Options, transform

D1_SCHEMA = Path(__file__).parent / "data" / "d1" / "core_schema.sql"
CORE = ("users accounts sessions skill_definitions achievement_definitions user_skills user_achievements"
        " user_wallet user_progress points_ledger user_streaks activity_events habits habit_logs goals"
        " goal_milestones").split()
CREATED_AT = "2026-01-06T21:14:03.512Z"
OPTIONS = Options(replace=True, accept_missing=True)
HOSTILE_TEXT = "O'Brien \"Bob\"\nsecond line\r\nthird \\n not a newline, ü — 🚀, tab\t, \u2028 end"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_d1(path: Path, work: Path, *, users: int = 12, seed: int = 5) -> Path:
    """One D1 database: the app's D1 schema of the core tables holding realistic rows (gen-backup's,
    clean) and the values that are hard to carry: newlines, quotes, unicode, NULLs, floats, integers
    up to 2^53."""
    generate_backup(work / "generated.json", users=users, seed=seed, dirty=0)
    doc = json.loads((work / "generated.json").read_text(encoding="utf-8"))
    conn = sqlite3.connect(path)
    conn.executescript(D1_SCHEMA.read_text(encoding="utf-8"))
    for table in CORE:
        rows = doc["tables"][table]
        columns = [r[1] for r in conn.execute(f'pragma table_info("{table}")')]
        names = [c for c in rows[0] if c in columns]
        insert = f'insert into "{table}" ({", ".join(names)}) values ({", ".join("?" * len(names))})'  # noqa: S608
        conn.executemany(insert, [[row.get(c) for c in names] for row in rows])
    first_user = conn.execute("select id from users order by rowid limit 1").fetchone()[0]
    conn.execute("update users set name = ?, image = null where id = ?", [HOSTILE_TEXT, first_user])
    conn.execute("update habit_logs set notes = ? where rowid = (select min(rowid) from habit_logs)",
                 ["first\nsecond\r\nthird 'quoted' \"double\" \\ back ☕"])
    conn.execute("update activity_events set metadata_json = ? where rowid = (select min(rowid) from activity_events)",
                 ['{"note": "a\\nb", "ratio": 0.30000000000000004, "big": 9007199254740991}'])
    conn.execute("update goals set progress = 42.5 where rowid = (select min(rowid) from goals)")
    conn.execute("update goals set progress = 0.30000000000000004 where rowid = (select max(rowid) from goals)")
    conn.execute("update accounts set expires_at = 9007199254740991 where rowid = (select min(rowid) from accounts)")
    conn.execute("update points_ledger set reason = null, event_id = null"
                 " where rowid = (select min(rowid) from points_ledger)")
    conn.commit()
    conn.close()
    return path


@pytest.fixture(scope="module")
def forms(tmp_path_factory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("forms")
    database = build_d1(work / "d1.sqlite", work)
    return {"admin-json": write_admin_json(database, work / "backup.json", created_at=CREATED_AT),
            "sql-dump": write_dump(database, work / "dump.sql"),
            "sqlite": database}


def test_the_form_is_detected_from_the_first_bytes_gzip_unwrapped_first(forms, tmp_path):
    for kind, path in forms.items():
        assert detect_format(path) == kind
        packed = tmp_path / f"{kind}.bin"
        packed.write_bytes(gzip.compress(path.read_bytes()))
        assert detect_format(packed) == kind
    commented = tmp_path / "commented.sql"
    commented.write_text("-- exported\n/* by wrangler */\n" + forms["sql-dump"].read_text(encoding="utf-8"))
    assert detect_format(commented) == "sql-dump"
    assert detect_format(Path(__file__).parent / "data" / "bad" / "not_json.txt") == "admin-json"


def test_numbers_are_printed_as_javascript_prints_them():
    # Outputs of JSON.stringify in node for the same doubles.
    cases = {0.1 + 0.2: "0.30000000000000004", 3.0: "3", 1e21: "1e+21", 1e20: "100000000000000000000",
             123456789012345678901.0: "123456789012345680000", 1e-7: "1e-7", 1e-6: "0.000001",
             -1.5e-10: "-1.5e-10", 5e-324: "5e-324", -0.0: "0", 42.5: "42.5", float("inf"): "null",
             1.7976931348623157e308: "1.7976931348623157e+308", 2**53 + 2.0: "9007199254740994"}
    assert {k: js_number(k) for k in cases} == cases


def _keep(url: str, kind: str, tables: list[str]) -> None:
    """Keep a copy of each staging table (the next stage replaces them)."""
    with psycopg.connect(url) as conn:
        for t in tables:
            conn.execute(sql.SQL("create table {} as select ord, doc, raw_text from {}").format(
                sql.Identifier(f"keep_{kind}_{t}"), sql.Identifier("staging", t)))


def test_the_three_forms_stage_equal_documents_and_migrate_to_identical_rows(forms, pg_settings, query, tmp_path):
    settings = dataclasses.replace(pg_settings, home=tmp_path / "work")
    targets = {}
    rejects = {}
    for kind, path in forms.items():
        before = sha256(path)
        run = migrate(settings, path, OPTIONS, progress=False,
                      backup_time=None if kind == "admin-json" else CREATED_AT)
        assert sha256(path) == before
        staged = query("select table_name, staged_rows from migration.staged_tables order by position")
        assert sorted(t for t, _ in staged) == sorted(CORE), kind
        assert all(n > 0 for _, n in staged)
        _keep(settings.database_url, kind.replace("-", "_"), CORE)
        targets[kind] = {t: query(sql.SQL("select * from {} order by 1").format(sql.Identifier("public", t)))
                         for t in target_tables()}
        rejects[kind] = query("select source_table, source_ord, column_name, reason from migration.rejects"
                              " where run_id = %s order by 1, 2, 3", [run])
        assert query("select backup_created_at from migration.runs where step = 'stage' order by started_at desc"
                     " limit 1") == [(CREATED_AT,)]
        impact = (settings.reports_dir / run / "data_migration_impact.md").read_text(encoding="utf-8")
        source = "" if kind == "admin-json" else " from the --backup-time"
        assert f"({kind}, sha256 `{sha256(path)}`, created {CREATED_AT}{source})." in impact
    assert not list((tmp_path / "work").glob("dump-*")), "the dump's temporary database is left behind"
    for t in CORE:
        for other in ("sql_dump", "sqlite"):
            differ = query(sql.SQL(
                "select a.ord, a.doc, b.doc from {} as a full join {} as b using (ord)"
                " where a.doc is distinct from b.doc or a.raw_text is distinct from b.raw_text").format(
                sql.Identifier(f"keep_admin_json_{t}"), sql.Identifier(f"keep_{other}_{t}")))
            assert differ == [], (t, other)
    assert query("select doc ->> 'name' from keep_sqlite_users order by ord limit 1") == [(HOSTILE_TEXT,)]
    assert query("select doc -> 'progress' from keep_sql_dump_goals order by ord limit 1") == [(42.5,)]
    assert targets["sql-dump"] == targets["admin-json"] == targets["sqlite"]
    assert sum(len(rows) for rows in targets["sqlite"].values()) > 100
    assert rejects["sql-dump"] == rejects["admin-json"] == rejects["sqlite"]


def test_a_sqlite_file_keeps_integers_beyond_2_53_exact_where_the_json_and_dump_have_them_rounded(
        tmp_path, pg_settings, query):
    database = tmp_path / "d1.sqlite"
    conn = sqlite3.connect(database)
    conn.executescript("create table big (id text primary key, n integer, r real, t text);"
                       "insert into big values ('a', 1767225600123456789, 0.5, '1767225600123456789');")
    conn.commit()
    conn.close()
    expected = {"admin-json": 1767225600123456800, "sql-dump": 1767225600123456800, "sqlite": 1767225600123456789}
    paths = {"admin-json": write_admin_json(database, tmp_path / "b.json", created_at=CREATED_AT),
             "sql-dump": write_dump(database, tmp_path / "d.sql"), "sqlite": database}
    assert "VALUES('a',1767225600123456800,0.5,'1767225600123456789');" in paths["sql-dump"].read_text()
    for kind, path in paths.items():
        stage(pg_settings, path, quiet=True, backup_time=None if kind == "admin-json" else CREATED_AT)
        assert query("select (doc ->> 'n')::numeric, doc ->> 't' from staging.big") == [
            (expected[kind], "1767225600123456789")], kind
        assert query("select long_integers from migration.staged_tables") == [({"n": 1},)], kind


def test_a_blob_is_an_unstorable_reject_naming_its_column(tmp_path, pg_settings, query):
    database = tmp_path / "d1.sqlite"
    conn = sqlite3.connect(database)
    conn.executescript("create table files (id text primary key, body blob, name text);"
                       "insert into files values ('a', x'00ff', 'one'), ('b', null, 'two'), ('c', 'text', 'three');")
    conn.commit()
    conn.close()
    for path in (database, write_dump(database, tmp_path / "d.sql")):
        stage(pg_settings, path, quiet=True)
        rows = query("select ord, doc, load_reason, load_reject, raw_text from staging.files order by ord")
        assert rows[0][:3] == (0, None, "unstorable_text")
        assert "BLOB" in rows[0][3] and "'body'" in rows[0][3]
        assert json.loads(rows[0][4]) == {"id": "a", "body": {}, "name": "one"}
        assert [r[1] for r in rows[1:]] == [{"id": "b", "body": None, "name": "two"},
                                           {"id": "c", "body": "text", "name": "three"}]
        assert query("select staged_rows, unstorable_rows from migration.staged_tables") == [(3, 1)]


def test_d1_bookkeeping_tables_are_counted_as_skipped_not_staged(tmp_path, pg_settings, query):
    """contract-additions §6: d1_migrations, sqlite_sequence and any _cf_* table are D1's own, not app
    data: listed with their rows, skipped as d1_bookkeeping, never an unmapped table."""
    database = tmp_path / "d1.sqlite"
    conn = sqlite3.connect(database)
    conn.executescript(
        "create table d1_migrations (id integer primary key autoincrement, name text, applied_at text);"
        "insert into d1_migrations (name, applied_at) values ('0100_master_reset.sql', '2026-01-07 10:00:00');"
        "create table _cf_KV (key text primary key, value blob) without rowid;"
        "insert into _cf_KV values ('a', x'00ff'), ('b', x'01');"
        "create table t (x integer primary key); create index t_x on t (x); insert into t values (1); analyze;"
        "delete from t; drop index t_x;")
    conn.commit()
    conn.close()
    stage(pg_settings, database, quiet=True)
    staged = query("select table_name, staged_rows, loaded_rows, skipped_reason from migration.staged_tables"
                   " where table_name <> 't'")  # sqlite_stat1 (SQLite's own, from analyze) is not listed
    assert sorted(staged) == [("_cf_KV", 2, 0, "d1_bookkeeping"), ("d1_migrations", 1, 0, "d1_bookkeeping"),
                              ("sqlite_sequence", 1, 0, "d1_bookkeeping")]
    assert query("select tablename from pg_tables where schemaname = 'staging'") == [("t",)]
    create_schema(pg_settings, quiet=True)
    run_id = transform(pg_settings, Options(accept_missing=True, accept_unmapped=True), quiet=True)
    assert sorted(query("select source_table, staged, skipped, skip_reason from migration.table_outcomes"
                        " where run_id = %s", [run_id])) == [
        ("_cf_KV", 2, 2, "d1_bookkeeping"), ("d1_migrations", 1, 1, "d1_bookkeeping"),
        ("sqlite_sequence", 1, 1, "d1_bookkeeping"), ("t", 0, 0, "unmapped_accepted")]


def test_rows_follow_rowid_order_and_keys_follow_column_order(tmp_path, pg_settings, query):
    database = tmp_path / "d1.sqlite"
    conn = sqlite3.connect(database)
    conn.executescript("create table t (z text, a integer, m real);"
                       "insert into t (rowid, z, a, m) values (3, 'third', 3, 1e21), (1, 'first', 1, 1e-7),"
                       " (2, 'second', 2, 100.0);")
    conn.commit()
    conn.close()
    stage(pg_settings, database, quiet=True)
    assert query("select ord, doc::text from staging.t order by ord") == [
        (0, '{"a": 1, "m": 0.0000001, "z": "first"}'), (1, '{"a": 2, "m": 100, "z": "second"}'),
        (2, '{"a": 3, "m": 1000000000000000000000, "z": "third"}')]
    assert query("select columns from migration.staged_tables") == [(["z", "a", "m"],)]


def test_the_instant_is_backup_time_else_the_file_modification_time(forms, pg_settings, query, tmp_path):
    copy = tmp_path / "d1.sqlite"
    shutil.copyfile(forms["sqlite"], copy)
    os.utime(copy, (1767225600.25, 1767225600.25))
    stage(pg_settings, copy, quiet=True)
    stage(pg_settings, copy, quiet=True, backup_time="2026-01-02T03:04:05+02:00")
    rows = query("select backup_created_at, options ->> 'format', options ->> 'instant' from migration.runs"
                 " where step = 'stage' order by started_at")
    assert rows == [("2026-01-01T00:00:00.250Z", "sqlite", "file modification time"),
                    ("2026-01-02T01:04:05.000Z", "sqlite", "--backup-time")]
    with pytest.raises(InputError, match="offset"):
        open_input(copy, backup_time="2026-01-02T03:04:05")
    with pytest.raises(InputError, match="createdAt"):
        open_input(forms["admin-json"], backup_time="2026-01-02T03:04:05Z")


def test_a_sqlite_file_is_never_changed_and_a_gzipped_one_is_read_too(forms, pg_settings, query, tmp_path):
    copy = tmp_path / "d1.sqlite"
    shutil.copyfile(forms["sqlite"], copy)
    before, stamp = sha256(copy), copy.stat().st_mtime_ns
    result = stage(pg_settings, copy, quiet=True, backup_time=CREATED_AT)
    assert (sha256(copy), copy.stat().st_mtime_ns) == (before, stamp)
    assert result.sha256 == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d1.sqlite"]  # no journal or WAL beside it
    packed = tmp_path / "d1.sqlite.gz"
    packed.write_bytes(gzip.compress(copy.read_bytes()))
    settings = dataclasses.replace(pg_settings, home=tmp_path / "work")
    again = stage(settings, packed, quiet=True, backup_time=CREATED_AT)
    assert again.sha256 == sha256(packed)
    assert [(t.name, t.rows) for t in again.tables] == [(t.name, t.rows) for t in result.tables]
    assert not list((tmp_path / "work").iterdir())


def test_format_forces_the_reader(forms, tmp_path):
    with pytest.raises(InputError, match="expected one of admin-json, sql-dump, sqlite"):
        open_input(forms["sqlite"], "csv")
    with open_input(forms["sql-dump"], "admin-json") as reader, pytest.raises(InputError, match="byte 0"):
        list(reader.tables())


def test_a_dump_is_read_statement_by_statement_whatever_its_layout(tmp_path, pg_settings, query):
    dump = tmp_path / "dump.sql"
    dump.write_bytes(
        b"-- exported by hand\r\nPRAGMA defer_foreign_keys=TRUE;\r\nBEGIN TRANSACTION;\r\n"
        b"CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT); /* two */ CREATE TABLE u (x);\r\n"
        b"INSERT INTO t VALUES(1,'semi; colon'); INSERT INTO t VALUES(2,'spans\r\nlines; and ''quotes''');\r\n"
        b"INSERT INTO \"t\" (\"id\",\"note\") VALUES(3,\r\n  replace('a\\nb','\\n',char(10)));\r\n"
        b"CREATE TRIGGER t_note AFTER INSERT ON t BEGIN\r\n  INSERT INTO u VALUES (new.id);\r\nEND;\r\n"
        b"COMMIT;\r\n")
    stage(pg_settings, dump, quiet=True, backup_time=CREATED_AT)
    assert query("select ord, doc from staging.t order by ord") == [
        (0, {"id": 1, "note": "semi; colon"}), (1, {"id": 2, "note": "spans\r\nlines; and 'quotes'"}),
        (2, {"id": 3, "note": "a\nb"})]
    assert query("select count(*) from staging.u") == [(0,)]
    assert query("select options ->> 'format' from migration.runs") == [("sql-dump",)]


def test_wide_tables_and_numbers_where_the_declared_type_says_text(tmp_path, pg_settings, query):
    database = tmp_path / "d1.sqlite"
    conn = sqlite3.connect(database)
    columns = [f"c{i}" for i in range(130)]
    conn.execute(f"create table wide ({', '.join(columns)})")
    insert = f"insert into wide values ({', '.join('?' * 130)})"  # noqa: S608 - placeholders only
    conn.execute(insert, [i + 0.5 if i % 2 else f"t{i}" for i in range(130)])
    conn.execute("create table odd (id text primary key, label text)")
    conn.executemany("insert into odd values (?, ?)", [(f"r{i}", f"label {i}") for i in range(2500)])
    conn.commit()
    conn.execute("pragma writable_schema = on")  # a hand-edited schema: 'label' now says INTEGER
    conn.execute("update sqlite_schema set sql = 'CREATE TABLE odd (id text primary key, label integer)'"
                 " where name = 'odd'")
    conn.commit()
    conn.close()
    conn = sqlite3.connect(database)
    conn.execute("insert into odd values ('r2500', 0.30000000000000004)")
    conn.commit()
    conn.execute("pragma writable_schema = on")
    conn.execute("update sqlite_schema set sql = 'CREATE TABLE odd (id text primary key, label text)'"
                 " where name = 'odd'")
    conn.commit()
    conn.close()
    stage(pg_settings, database, quiet=True)
    (doc,) = query("select doc from staging.wide")[0]
    assert doc == {c: (i + 0.5 if i % 2 else f"t{i}") for i, c in enumerate(columns)}
    assert query("select columns from migration.staged_tables where table_name = 'wide'") == [(columns,)]
    assert query("select count(*), max(doc ->> 'label') filter (where ord = 2500) from staging.odd") == [
        (2501, "0.30000000000000004")]


def test_a_dump_whose_rows_of_a_table_come_apart_is_refused_and_nothing_is_left_behind(
        tmp_path, pg_settings, query):
    settings = dataclasses.replace(pg_settings, home=tmp_path / "work")
    dump = tmp_path / "dump.sql"
    dump.write_text("CREATE TABLE a (x);\nCREATE TABLE b (y);\nINSERT INTO a VALUES(1);\nINSERT INTO b VALUES(2);\n"
                    "INSERT INTO a VALUES(3);\n")
    with pytest.raises(InputError, match=r"dump.sql: line 5: refused: rows for 'a' after rows of 'b'"):
        stage(settings, dump, quiet=True)
    assert not list((tmp_path / "work").iterdir())
    named = tmp_path / "named.sql"
    named.write_text('CREATE TABLE "Odd Name" (x);\n' + "".join(f'INSERT INTO "Odd Name" VALUES({i});\n'
                                                               for i in range(5000)) + "CREATE TABLE c (z);\n")
    with pytest.raises(InputError, match="is not a plain identifier"):
        stage(settings, named, quiet=True)
    assert not list((tmp_path / "work").iterdir())
    assert query("select status from migration.runs order by started_at") == [("failed",), ("failed",)]


def test_a_damaged_database_is_one_line_naming_the_file(tmp_path, pg_settings, query):
    database = tmp_path / "d1.sqlite"
    conn = sqlite3.connect(database)
    conn.execute("create table t (id text primary key, body text)")
    conn.executemany("insert into t values (?, ?)", [(f"r{i}", "x" * 300) for i in range(2000)])
    conn.commit()
    conn.close()
    data = bytearray(database.read_bytes())
    data[4096 * 3: 4096 * 6] = b"\xa5" * (4096 * 3)  # pages of the table's b-tree overwritten
    database.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"d1\.sqlite: .*(malformed|not a readable SQLite database)"):
        stage(pg_settings, database, quiet=True)
    assert query("select status from migration.runs") == [("failed",)]


def test_joining_a_dump_s_rows_into_one_insert_changes_nothing_staged_and_errors_keep_their_line(
        tmp_path, pg_settings, query):
    """Runs of one-row INSERTs with the same table and column list run as one INSERT: staged exactly as
    SQLite itself runs the dump statement by statement, and a refused row still names its own line."""
    head = 'INSERT INTO "t" ("id","a","b") VALUES('
    lines = ["CREATE TABLE t (id INTEGER, a TEXT, b DEFAULT 'dflt');"]
    lines += [f"{head}{i},'row {i}; '' -- /* ',{-i});" for i in range(1500)]  # more than one run
    lines += ['INSERT INTO "t" ("b","a","id") VALUES(-1,\'other order\',2000);'] * 3
    lines += ['INSERT INTO "t" ("id","a") VALUES(3000,\'no b\');', "INSERT INTO t VALUES(3001,'bare',1);"]
    lines += [f"{head}4000,'x);", f"{head}4001,''y'',''z'');", "','w');"]  # lines inside a string
    lines += [f"{head}4002,replace('a\\nb','\\n',char(10)),0);", f"{head}4003,'two',0); {head}4004,'on a line',0);"]
    lines += [f"{head}{i},'tail',{i});" for i in range(5000, 5003)]
    text = "\n".join(lines) + "\n"
    dump = tmp_path / "dump.sql"
    dump.write_text(text, encoding="utf-8")
    reference = tmp_path / "reference.sqlite"
    with sqlite3.connect(reference) as conn:
        conn.executescript(text)  # SQLite, one statement at a time
    conn.close()
    staged = {}
    for path in (reference, dump):
        stage(pg_settings, path, quiet=True, backup_time=CREATED_AT)
        staged[path.suffix] = query("select ord, doc from staging.t order by ord")
    assert staged[".sql"] == staged[".sqlite"]
    assert len(staged[".sql"]) == 1500 + 3 + 2 + 1 + 1 + 2 + 3
    assert staged[".sql"][1502][1] == {"id": 2000, "a": "other order", "b": -1}
    assert staged[".sql"][1503][1] == {"id": 3000, "a": "no b", "b": "dflt"}
    assert staged[".sql"][1505][1]["a"] == f"x);\n{head}4001,'y','z');\n"

    for bad, refusal in ((f"{head}700,'x',(SELECT 1));", "SELECT"),
                         (f"{head}700,'x',1),(701,'y',2);", "SELECT"),
                         (f"{head}700,random(),1);", "the function random()")):
        rows = [f"{head}{i},'r',{i});" for i in range(1400)]
        rows[700] = bad
        dump.write_text("CREATE TABLE t (id, a, b);\n" + "\n".join(rows) + "\n", encoding="utf-8")
        with pytest.raises(InputError, match=rf"dump.sql: line 702: refused: {re.escape(refusal)}"):
            stage(pg_settings, dump, quiet=True, backup_time=CREATED_AT)


def test_a_refusal_past_the_dump_s_first_blocks_names_its_own_line(tmp_path, pg_settings):
    """Lines are counted per block of the dump read at once (runs of rows, a statement spanning lines):
    a refused statement megabytes in still names its line."""
    head = 'INSERT INTO "t" ("id","a") VALUES('
    lines = ["CREATE TABLE t (id INTEGER, a TEXT);"]
    lines += [f"{head}{i},'{'x' * 90}');" for i in range(30_000)]  # about 3.5 MB: several blocks
    lines += ["INSERT INTO t VALUES(-1,", "  'a statement over two lines');"]
    lines += [f"{head}{i},'after');" for i in range(30_000, 30_100)]
    lines += ["INSERT INTO t VALUES(random(), 'refused');"]
    dump = tmp_path / "dump.sql"
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert dump.stat().st_size > 3 * CHUNK
    with pytest.raises(InputError, match=rf"dump.sql: line {len(lines)}: refused: the function random\(\)"):
        stage(pg_settings, dump, quiet=True, backup_time=CREATED_AT)
