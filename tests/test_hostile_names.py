"""Property: table names and column keys drawn from hostile alphabets (quotes, semicolons, comment
dashes, backslashes, format and template syntax, unicode, NUL, lone surrogates, reserved words, d1pg's
own names, 63/64-byte names) are refused with a clear InputError or handled: never a SQL error of
d1pg's own making, and nothing created or dropped outside staging, staging_view, migration and the
target schema."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from d1pg.errors import InputError
from d1pg.identifiers import is_plain_identifier
from d1pg.schema import create_schema
from d1pg.stage import stage
from d1pg.transform import Options, transform
from tests.reliability import OWN_SCHEMAS, assert_every_row_accounted_for, objects_outside

pytestmark = pytest.mark.reliability

ALPHABET = list("\"';-\\%$ \t\n()*/{}[]#.,:=`") + ["é", "ß", "😀", "\u202e", "ü", "\u0000", "\ud800", "\udc00",
                                                  "A", "a", "z", "_", "0", "9"]
SPECIAL = ["users", "select", "user", "order", "table", "all", "pg_class", "pg_temp", "transform_context",
           "staged_tables", "runs", "rejects", "work_users", "staging", "migration", "public", "ord", "doc",
           "id", "", "_", "a" * 63, "a" * 64, "%s", "%(x)s", "{{ run_id }}", "{% raw %}", "$$", "$1",
           'users"; drop table users; --', "x'); drop schema public cascade; --"]
names = st.one_of(st.text(alphabet=st.sampled_from(ALPHABET), max_size=70), st.sampled_from(SPECIAL))
keys = st.one_of(st.text(alphabet=st.sampled_from(ALPHABET), max_size=210), st.sampled_from(SPECIAL))
values = st.sampled_from([None, 0, 1, "x", "2026-01-03 12:00:00", [1], {"a": 1}, "\u0000"])
rows = st.lists(st.dictionaries(keys, values, max_size=4), max_size=3)

USER = {"id": "00000000-0000-4000-8000-000000000001", "name": "Ada", "email": "ada@example.com",
        "created_at": "2026-01-03 12:00:00"}
ALLOWED = (*OWN_SCHEMAS, "public")


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(tables=st.dictionaries(names, rows, max_size=4), user_keys=st.dictionaries(keys, values, max_size=5))
def test_hostile_names_are_refused_or_handled_and_touch_nothing_outside_d1pgs_schemas(
        pg_settings, pg_url, tmp_path_factory, tables, user_keys):
    backup = {"users": [USER | user_keys, USER | {"id": "legacy-2", "email": "b@example.com"}], **tables}
    path = tmp_path_factory.mktemp("h") / "b.json"
    path.write_text(json.dumps({"createdAt": "2026-01-06T21:14:03.512Z", "tables": backup}, indent=2))
    create_schema(pg_settings, quiet=True)
    before = objects_outside(pg_url, ALLOWED)

    skip: tuple[str, ...] = ()
    try:
        stage(pg_settings, path, quiet=True)
    except InputError as refused:
        assert "not a plain identifier" in str(refused) or "cannot store" in str(refused), refused
        skip = tuple(name for name in backup if not is_plain_identifier(name))
        assert skip
        try:
            stage(pg_settings, path, skip_tables=skip, quiet=True)
        except InputError as still:  # a name PostgreSQL cannot store at all (NUL, lone surrogate)
            assert "cannot store" in str(still), still
            assert objects_outside(pg_url, ALLOWED) == before
            return
    run_id = transform(pg_settings, Options(replace=True, accept_unmapped=True, accept_missing=True), quiet=True)

    assert_every_row_accounted_for(pg_url, run_id, {name: len(r) for name, r in backup.items()})
    assert objects_outside(pg_url, ALLOWED) == before
