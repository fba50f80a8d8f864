"""invoke scaffold: a declaration drafted from the staged keys and the target's catalog. Drafting the
tables that are already declared gives back their declared columns; what is a guess, what does not
fit and what nothing feeds is marked for review; an existing file is never replaced without --force."""

from __future__ import annotations

import tomllib

import psycopg
import pytest

from d1pg import mapping
from d1pg.errors import InputError
from d1pg.scaffold import HEADER, scaffold
from d1pg.schema import create_schema
from d1pg.stage import stage
from tests.conftest import SAMPLE, apply_app_schema, write_backup
from tests.reliability import one_error_line, run_task

NOT_FROM_THE_CATALOG = {("users", "email_verified"), ("habit_logs", "completed_date")}
"""Declared columns a draft cannot give back: users.email_verified has the kind ``verified`` (1 means
the row's created_at: a rule, not a type; the draft says timestamp and marks the 0/1 values), and
habit_logs.completed_date is derived (``derive``, no staged key). Facts no catalog holds are not
compared for any column either: value_map, aliases and derive; unique keys' order_by and
warn_case_insensitive."""

FACTS = ("target", "kind", "source", "not_null", "default", "default_sql", "allowed", "between", "ref_table",
         "ref_column", "on_delete", "name_prefix", "secret", "primary_key")


def facts(column: mapping.Column) -> dict:
    return {f: getattr(column, f) for f in FACTS}


def line_of(text: str, column: str) -> str:
    [line] = [x for x in text.splitlines() if f'{{ name = "{column}",' in x]
    return line


@pytest.fixture
def staged_sample(pg_url, pg_settings):
    """The sample backup staged into a database built from the app's own migration files."""
    apply_app_schema(pg_url)
    create_schema(pg_settings, quiet=True)  # the proposed tables, which the app's files lack
    stage(pg_settings, SAMPLE, quiet=True)
    return pg_settings


def plain(source: mapping.Source, column: mapping.Column, staged: set[str]) -> bool:
    """A column a draft can give back whole: no rule the catalog does not hold (derive, aliases, a value
    map, a CHECK written "IS NULL OR", a reference without a foreign key, a key renamed beyond camelCase,
    an older shape's key the staged rows do not hold)."""
    camel = "".join(w if i == 0 else w.title() for i, w in enumerate(column.target.split("_")))
    return ((source.name, column.target) not in NOT_FROM_THE_CATALOG and column.derive is None
            and (column.source is None or column.source in staged)
            and not column.aliases and column.value_map is None and not column.check_null
            and column.at_least is None and column.foreign_key and column.source in (None, column.target, camel)
            and (column.source is not None or column.default is not None or column.default_sql is not None
                 or column.kind == "ref" or not column.not_null))


def test_scaffolding_declared_tables_gives_their_declared_columns_and_kinds(staged_sample, tmp_path):
    declared = [s for s in mapping.sources() if s.target]  # the progress merge's sources have none
    drafts = scaffold(staged_sample, tables=tuple(s.name for s in declared), out=tmp_path, quiet=True)
    assert [d.path for d in drafts] == [tmp_path / f"{s.name}.toml" for s in declared]
    with psycopg.connect(staged_sample.database_url) as conn:
        staged = dict(conn.execute("select table_name, columns from migration.staged_tables").fetchall())
    for want, d in zip(declared, drafts, strict=True):
        got = mapping._load_file(d.path)  # the reader of d1pg/tables loads every draft
        assert d.text.splitlines()[0] == HEADER.format(table=want.name, target=want.target)
        assert got.target == want.target
        assert [c.target for c in got.columns] == [c.target for c in want.columns], want.name
        keys = set(staged.get(want.name) or [])
        plain_columns = [(g, w) for g, w in zip(got.columns, want.columns, strict=True) if plain(want, w, keys)]
        assert [facts(g) for g, _ in plain_columns] == [facts(w) for _, w in plain_columns], want.name
        assert [u.columns for u in got.table.unique] == [u.columns for u in want.table.unique], want.name
        assert sorted(got.table.indexes, key=str) == sorted(want.table.indexes, key=str), want.name
    assert len(declared) >= 59


def test_what_a_draft_guesses_or_cannot_fit_is_marked_for_review(staged_sample, tmp_path):
    [users, events, logs] = scaffold(staged_sample, tables=("users", "activity_events", "habit_logs"), out=tmp_path,
                                     quiet=True)
    assert line_of(users.text, "email_verified").endswith(
        '# review: timestamp target, but staged emailVerified also holds number_0_1 x5 (e.g. "1")')
    assert "# review: guessed: staged key metadata_json feeds metadata" in line_of(events.text, "metadata")
    assert "# review: no staged key feeds this column" in line_of(logs.text, "completed_date")
    assert "text_timestamp_rejected x1" in line_of(logs.text, "completed_at")
    assert "# review" not in line_of(logs.text, "notes")
    assert logs.unmapped == ["migrated_from", "legacy_flag"]
    assert logs.text.endswith("\n# review: unmapped staged keys: migrated_from, legacy_flag\n")


def test_camel_case_keys_feed_their_snake_case_columns(staged_sample, tmp_path):
    [accounts] = scaffold(staged_sample, tables=("accounts",), out=tmp_path, quiet=True)
    columns = {c["name"]: c for c in tomllib.loads(accounts.text)["columns"]}
    assert columns["user_id"]["source"] == "userId"
    assert columns["provider_account_id"]["source"] == "providerAccountId"
    assert "source" not in columns["provider"]  # its own name
    assert columns["created_at"]["source"] is False  # the backup's accounts have no created_at
    assert accounts.unmapped == ["migrated_from"]


def test_an_existing_file_is_never_replaced_without_force(staged_sample, tmp_path, pg_url):
    kept = tmp_path / "habits.toml"
    kept.write_text("# mine\n", encoding="utf-8")
    with pytest.raises(InputError, match="habits.toml already exists: .* --force") as err:
        scaffold(staged_sample, tables=("goals", "habits"), out=tmp_path, quiet=True)
    assert err.value.exit_code == 2
    assert kept.read_text(encoding="utf-8") == "# mine\n" and not (tmp_path / "goals.toml").exists()

    done = run_task("scaffold", "--table", "habits", "--out", str(tmp_path), "--database-url", pg_url, cwd=tmp_path)
    assert done.returncode == 2
    assert one_error_line(done.stderr, done.stdout) == (f"d1pg: error: {kept} already exists: scaffold never "
                                                        "overwrites a declaration; --force to replace it")
    assert kept.read_text(encoding="utf-8") == "# mine\n"

    [habits] = scaffold(staged_sample, tables=("habits",), out=tmp_path, force=True, quiet=True)
    assert kept.read_text(encoding="utf-8") == habits.text and habits.text.startswith("# D1 habits -> habits:")


WIDGETS = """
    create table widgets (
        id uuid primary key default gen_random_uuid(),
        owner_id uuid references users (id) on delete set null,
        skill_key text references skill_definitions (key) on delete cascade,
        is_done boolean not null default false,
        score real,
        weight double precision default 0.5,
        tags text[],
        note text not null,
        level integer check (level > 0),
        created_at timestamptz not null default now()
    );
    create unique index widgets_lower_note on widgets (lower(note));
    create table gizmos (like widgets including all);
"""


def test_all_drafts_the_undeclared_staged_tables_and_marks_what_does_not_fit(pg_url, pg_settings, tmp_path):
    apply_app_schema(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(WIDGETS)
    rows = [{"id": "w1", "ownerId": "0b6f8a2e-4a4b-4b8e-9b1a-0d2f3c4e5f60", "skill_key": "skill_focus", "is_done": 2,
             "score": 1.5, "weight": 1, "tags": '["a"]', "level": 3, "extra": "x", "created_at": "2026-01-03"},
            {"id": "w2", "is_done": 0, "created_at": "2026-01-03 12:00:00", "extra": None}]
    backup = write_backup(tmp_path / "b.json", {"widgets": rows, "habits": [], "sessions": [{"id": "s1"}]})
    stage(pg_settings, backup, quiet=True)

    [widgets] = scaffold(pg_settings, all_tables=True, out=tmp_path, quiet=True)  # not habits, not sessions
    assert widgets.table == "widgets" and widgets.unmapped == ["extra"]
    text = widgets.text
    columns = {c["name"]: c for c in tomllib.loads(text)["columns"]}
    assert {n: c["kind"] for n, c in columns.items()} == {
        "id": "id", "owner_id": "ref", "skill_key": "ref", "is_done": "boolean", "score": "real", "weight": "double",
        "tags": "text_list", "note": "text", "level": "integer", "created_at": "timestamp"}
    assert columns["owner_id"]["source"] == "ownerId"
    assert columns["owner_id"]["references"] == {"table": "users", "on_delete": "set null"}
    assert columns["skill_key"]["references"] == {"table": "skill_definitions", "column": "key",
                                                  "on_delete": "cascade"}
    assert columns["weight"]["default"] == 0.5 and columns["is_done"]["default"] is False
    assert "source" not in columns["note"]  # read as its own name, so that the draft loads
    assert line_of(text, "note").endswith("# review: no staged key feeds this column; NOT NULL without a default, and"
                                          " no staged key of its name: name its source key, or give it a derive rule"
                                          " or a default")
    assert line_of(text, "is_done").endswith('# review: boolean target, but staged is_done also holds number_integer'
                                             ' x1 (e.g. "2")')
    for column in ("id", "score", "weight", "tags", "level", "created_at"):
        assert "review" not in line_of(text, column), column
    assert "# review: not declarable: CHECK ((level > 0))" in text.splitlines()
    assert "# review: not declarable: CREATE UNIQUE INDEX widgets_lower_note" in text
    assert "# review: unmapped staged keys: extra" in text.splitlines()
    assert scaffold(pg_settings, all_tables=True, out=tmp_path, force=True, quiet=True)[0].text == text

    [renamed] = scaffold(pg_settings, tables=("widgets",), target="gizmos", out=tmp_path / "g", quiet=True)
    assert renamed.text.startswith("# D1 widgets -> gizmos:") and 'target = "gizmos"' in renamed.text
    with pytest.raises(InputError, match="no target table public.gadgets"):
        scaffold(pg_settings, tables=("widgets",), target="gadgets", out=tmp_path / "h", quiet=True)
    with pytest.raises(InputError, match="exactly one --table"):
        scaffold(pg_settings, tables=("widgets", "habits"), target="gizmos", out=tmp_path / "h", quiet=True)
    with pytest.raises(InputError, match="not both"):
        scaffold(pg_settings, tables=("widgets",), all_tables=True, out=tmp_path / "h", quiet=True)
    assert not (tmp_path / "h").exists()

