"""The loader's fast path (d1pg.runs) hands out exactly what the exact reader does, and rows that
name a key twice are rejected at load time (contract §4: no silent loss; §6: they count as rejected)."""

from __future__ import annotations

import json
import struct

import pytest

from d1pg import backup as backup_module
from d1pg.backup import BackupReader, Unstorable
from d1pg.generate import generate_backup
from d1pg.runs import RowRun
from d1pg.schema import create_schema
from d1pg.stage import stage
from d1pg.transform import Options, transform
from tests.conftest import SAMPLE, write_backup


def _copy_rows(data: bytes, first: int) -> list[tuple[int, bytes]]:
    """Decode binary COPY data of (ord, doc jsonb) back into (ord, row text)."""
    rows, pos = [], 0
    while pos < len(data):
        fields, ord_len, ordinal, doc_len = struct.unpack_from(">hiqi", data, pos)
        assert (fields, ord_len) == (2, 8)
        pos += 18
        assert data[pos:pos + 1] == b"\x01"  # jsonb binary format version
        rows.append((ordinal, data[pos + 1:pos + doc_len]))
        pos += doc_len
    assert [o for o, _ in rows] == list(range(first, first + len(rows)))
    return rows


def read_all(path, *, fast: bool) -> tuple[list, int]:
    """Every table's rows as (table, ord, row bytes or Unstorable), and how many came in runs."""
    out, in_runs = [], 0
    with BackupReader(path, fast=fast) as reader:
        for name, rows in reader.tables():
            ordinal = 0
            for item in rows:
                if type(item) is RowRun:
                    out += [(name, o, row) for o, row in _copy_rows(item.data, ordinal)]
                    ordinal += item.rows
                    in_runs += item.rows
                else:
                    out.append((name, ordinal, item))
                    ordinal += 1
        tail = (reader.envelope, sorted(reader.long_number_tables), reader.sha256)
    return out + [tail], in_runs


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_path_hands_out_exactly_the_rows_of_the_exact_reader(tmp_path, seed):
    path = tmp_path / "b.json"
    generate_backup(path, users=40, seed=seed, dirty=0.2)
    fast, in_runs = read_all(path, fast=True)
    exact, _ = read_all(path, fast=False)
    assert fast == exact
    assert in_runs > len(fast) * 0.6  # most rows took the fast path


def test_fast_path_on_the_sample_backup_with_every_special_case(tmp_path):
    fast, in_runs = read_all(SAMPLE, fast=True)
    assert fast == read_all(SAMPLE, fast=False)[0] and in_runs > 0


HOSTILE_ROWS = [
    {"id": "a", "s": "x},\n      {y", "n": 1},  # a row boundary written inside a string (escaped)
    {"id": "b", "s": "\\\"quoted\\\"", "n": -0.5},
    {"id": "c", "s": "nul \u0000 inside", "n": 2},  # unstorable: \u0000
    {"id": "d", "s": "lone \ud800", "n": 3},  # unstorable: lone surrogate (written as an escape)
    {"id": "e", "s": "ctl \u0007", "n": 6},  # an escape the fast path leaves to the exact reader
    {"id": "j", "s": "x", "n": 12345678901234567},  # an integer beyond 2^53
    {"id": "f", "s": {"nested": [1, {"deep": True}]}, "n": 4},
    {"id": "g", "s": "é ü 🙂", "n": 1e300},
    {"id": "h", "s": "", "n": 0, "extra": None},
    {"id": "i", "s": "after", "n": 5},
]


@pytest.mark.parametrize("chunk", [64, 1000, 1 << 22])
def test_fast_path_agrees_on_hostile_rows_and_any_buffer_size(tmp_path, monkeypatch, chunk):
    rows = [{"id": f"r{i}", "s": f"plain {i}", "n": i} for i in range(30)]
    rows[10:10] = HOSTILE_ROWS
    rows[25:25] = HOSTILE_ROWS
    path = tmp_path / "b.json"
    # JSON.stringify escapes a lone surrogate; json.dumps(ensure_ascii=False) would write it raw.
    text = json.dumps({"tables": {"t": rows, "u": rows[:3]}}, indent=2, ensure_ascii=False)
    path.write_bytes(text.encode("utf-8", "surrogatepass").replace(b"\xed\xa0\x80", b"\\ud800"))
    monkeypatch.setattr(backup_module, "CHUNK", chunk)
    fast, in_runs = read_all(path, fast=True)
    assert fast == read_all(path, fast=False)[0]
    assert in_runs > 0
    unstorable = [(t, o, r.reason) for t, o, r in fast[:-1] if isinstance(r, Unstorable)]
    assert unstorable == [("t", 12, "unstorable_text"), ("t", 13, "unstorable_text"),
                          ("t", 27, "unstorable_text"), ("t", 28, "unstorable_text")]
    assert fast[-1][1] == ["t"]  # the integer beyond 2^53 was noticed


def test_compact_backup_takes_the_exact_path_and_loads_the_same(tmp_path):
    rows = [{"id": f"r{i}", "n": i} for i in range(50)]
    compact, pretty = tmp_path / "c.json", tmp_path / "p.json"
    compact.write_text(json.dumps({"tables": {"t": rows}}, separators=(",", ":")))
    pretty.write_text(json.dumps({"tables": {"t": rows}}, indent=2))
    fast, in_runs = read_all(compact, fast=True)
    assert in_runs == 0
    assert [json.loads(r) for _, _, r in fast[:-1]] == rows
    assert [json.loads(r) for _, _, r in read_all(pretty, fast=True)[0][:-1]] == rows


def _with_duplicate_keys(path, table: str, rows: list[dict], at: dict[int, bytes]) -> None:
    """Write a backup whose rows ``at`` (position -> replacement) are given as raw JSON text."""
    placeholder = {i: f"@@row{i}@@" for i in at}
    text = json.dumps({"tables": {table: [placeholder.get(i, r) for i, r in enumerate(rows)]}}, indent=2)
    data = text.encode()
    for i, raw in at.items():
        data = data.replace(json.dumps(placeholder[i]).encode(), raw)
    path.write_bytes(data)


def test_row_naming_a_key_twice_is_rejected_at_load_as_duplicate_key_in_row(tmp_path, pg_settings, query):
    rows = [{"id": f"r{i}", "name": f"n{i}"} for i in range(20)]
    path = tmp_path / "b.json"
    _with_duplicate_keys(path, "notes", rows, {
        12: b'{\n        "id": "r12",\n        "name": "first",\n        "name": "second"\n      }',
        15: b'{"id": "r15", "name": "n15", "meta": {"k": 1, "k": 2}}',
    })
    result = stage(pg_settings, path, quiet=True)
    assert result.tables[0].rows == 20 and result.tables[0].unstorable == 2
    assert query("select staged_rows, loaded_rows, unstorable_rows from migration.staged_tables") == [(20, 18, 2)]
    rejects = query("select source_ord, reason, detail, raw_value from migration.rejects order by source_ord")
    assert [(r[0], r[1]) for r in rejects] == [(12, "duplicate_key_in_row"), (15, "duplicate_key_in_row")]
    assert "'name'" in rejects[0][2] and '"second"' in rejects[0][3]
    assert "'k'" in rejects[1][2]
    assert query("select ord, doc is null from staging.notes where ord in (11, 12, 13) order by ord") == [
        (11, False), (12, True), (13, False)]
    assert query("select count(*), min(ord), max(ord) from staging.notes") == [(20, 0, 19)]


def test_duplicate_key_row_counts_as_rejected_in_the_accounting_identity(tmp_path, pg_settings, query):
    users = json.loads(SAMPLE.read_text())["tables"]["users"]
    path = tmp_path / "b.json"
    doc = json.loads(SAMPLE.read_text())
    doc["tables"]["users"][1] = "@@dup@@"
    twice = json.dumps(users[1], indent=2)[:-2] + ',\n  "email": "other@example.com"\n}'
    path.write_bytes(json.dumps(doc, indent=2).encode().replace(b'"@@dup@@"', twice.encode()))
    create_schema(pg_settings, quiet=True)
    stage(pg_settings, path, quiet=True)
    run_id = transform(pg_settings, Options(accept_unmapped=True), quiet=True)
    staged, migrated, merged, skipped, orphaned, rejected = query(
        "select staged, migrated, merged, skipped, orphaned, rejected from migration.table_outcomes"
        " where run_id = %s and source_table = 'users'", [run_id])[0]
    assert staged == len(users) == migrated + merged + skipped + orphaned + rejected
    assert query("select count(*) from migration.rejects where source_table = 'users'"
                 " and reason = 'duplicate_key_in_row' and source_ord = 1") == [(1,)]
    assert query("select count(*) from users where email = 'other@example.com'") == [(0,)]


def test_load_rejects_are_inserted_in_batches_between_copies(tmp_path, pg_settings, query, monkeypatch):
    import d1pg.stage as stage_module

    monkeypatch.setattr(stage_module, "REJECT_BATCH_BYTES", 1)  # a new COPY after every reject
    rows = [{"id": f"r{i}", "t": "nul \u0000" if i % 3 == 0 else "ok"} for i in range(10)]
    stage(pg_settings, write_backup(tmp_path / "b.json", {"t": rows}), quiet=True)
    assert query("select ord, doc is null from staging.t order by ord") == [(i, i % 3 == 0) for i in range(10)]
    assert query("select count(*) from migration.rejects where reason = 'unstorable_text'") == [(4,)]


def test_skipped_table_counts_every_row_also_when_they_come_in_runs(tmp_path, pg_settings, query):
    name = 'Bad"; drop table x; --'
    rows = [{"id": f"r{i}", "n": i} for i in range(300)]
    stage(pg_settings, write_backup(tmp_path / "b.json", {"t": rows, name: rows}), skip_tables=(name,), quiet=True)
    assert query("select table_name, staged_rows, loaded_rows, skipped_reason from migration.staged_tables"
                 " order by position") == [("t", 300, 300, None), (name, 300, 0, "skipped_by_name")]
