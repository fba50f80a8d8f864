"""The declarations (d1pg/tables/*.toml): loaded and checked once, one clear line for a bad file,
one registry of value kinds, and the insert order derived from the declared references."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from d1pg import fidelity, mapping
from d1pg.kinds import KINDS
from d1pg.mapping import TABLES_DIR, DeclarationError, declarations, insert_order
from d1pg.render import TEMPLATES_DIR


def test_every_value_kind_has_its_sql_conversion_and_its_independent_python_one():
    convert = (TEMPLATES_DIR / "convert.sql").read_text()
    in_sql = set(re.findall(r"column\.kind == '(\w+)'", convert))
    assert set(KINDS) == in_sql == set(fidelity.CONVERTERS)


def test_every_declared_reference_points_at_a_table_inserted_before_it():
    seen: set[str] = set()
    for source in mapping.plan():
        for column in (*source.columns, *source.table.columns):
            if column.ref_table and column.ref_table != source.table.name:
                assert column.ref_table in seen, f"{source.name}.{column.target} before {column.ref_table}"
        seen.add(source.table.name)
        if source.merge:
            seen |= set(mapping.merge_targets())


def test_adding_a_table_is_adding_its_file(tmp_path):
    folder = tmp_path / "tables"
    shutil.copytree(TABLES_DIR, folder)
    (folder / "habit_notes.toml").write_text('''
target = "habit_notes"
columns = [
    { name = "id", kind = "id" },
    { name = "habit_id", kind = "ref", not_null = true, references = { table = "habits", on_delete = "cascade" } },
    { name = "body", kind = "text", not_null = true },
]
''')
    decl = declarations(folder)
    order = [s.name for s in insert_order(decl.sources)]
    assert "habit_notes" in order and order.index("habits") < order.index("habit_notes")


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


GOOD = '''target = "notes"
columns = [
    { name = "id", kind = "id" },
    { name = "body", kind = "text" },
]
'''


@pytest.mark.parametrize(("text", "message"), [
    (GOOD.replace('"text"', '"txt"'), r"notes\.toml: columns\[1\] \(body\)\.kind: unknown kind 'txt'"),
    (GOOD.replace("kind = \"text\"", "kind = \"text\", colour = \"red\""), r"columns\[1\]\.colour: unknown key"),
    (GOOD.replace('target = "notes"', 'target = "Notes"'),
     r"notes\.toml: target: 'Notes' is not a plain identifier"),
    (GOOD.replace('{ name = "body", kind = "text" }', '{ name = "body", kind = "ref", references = { table = "x" } }'),
     r"columns\[1\] \(body\)\.references\.on_delete: a foreign key states its on_delete"),
    (GOOD.replace('{ name = "body", kind = "text" }',
                  '{ name = "body", kind = "ref", references = { table = "ghosts", on_delete = "cascade" } }'),
     r"notes\.toml: columns \(body\)\.references\.table: no declared target table 'ghosts'"),
    (GOOD.replace('{ name = "body", kind = "text" }', '{ name = "id", kind = "text" }'),
     r"columns: column 'id' is declared twice"),
    (GOOD.replace('kind = "text" }', 'kind = "text", not_null = true, source = false }'),
     r"columns \(body\): a NOT NULL column needs a source, a derive rule or a default"),
    (GOOD.replace('{ name = "body", kind = "text" }', '{ name = "raw_body", kind = "text" }'),
     r"raw_body\)\.name: the name is used by the transform's work tables"),
    (GOOD + "unique = [{ columns = [\"title\"] }]\n", r"notes\.toml: unique\[0\]\.columns: no column 'title'"),
    ("target = [", r"notes\.toml: not valid TOML"),
])
def test_a_bad_declaration_is_one_line_naming_the_file_and_the_key(tmp_path, text, message):
    folder = write(tmp_path / "tables", "notes.toml", text)
    with pytest.raises(DeclarationError, match=message) as err:
        declarations(folder)
    assert "\n" not in str(err.value) and err.value.exit_code == 2


def test_references_that_form_a_cycle_are_refused(tmp_path):
    folder = write(tmp_path / "tables", "a.toml", '''target = "a"
columns = [
    { name = "id", kind = "id" },
    { name = "b_id", kind = "ref", references = { table = "b", on_delete = "cascade" } },
]
''')
    write(folder, "b.toml", '''target = "b"
columns = [
    { name = "id", kind = "id" },
    { name = "a_id", kind = "ref", references = { table = "a", on_delete = "cascade" } },
]
''')
    with pytest.raises(DeclarationError, match="the references form a cycle"):
        declarations(folder)


def test_orphan_rule_follows_nullability_and_on_delete():
    assert mapping.source("habit_logs").column("habit_id").on_missing == "skip"  # NOT NULL
    assert mapping.source("points_ledger").column("skill_key").on_missing == "null"  # nullable, SET NULL
