"""The value rules added for the other tables, in SQL and in value fidelity's independent Python:
G4 (list text -> text[], contract-additions 4.2), G5 (REAL -> real / double precision, 4.3) and
uuid columns that are no id. Each value of a corpus is converted by the transform's own SQL (the
functions and the `convert_base` / `conversion_error` macros a declared column renders to) and by
d1pg.fidelity; both must give the same value, or the same reject reason."""

from __future__ import annotations

import json
import struct
from decimal import Decimal, localcontext
from types import SimpleNamespace

import psycopg
import pytest

from d1pg import fates, fidelity
from d1pg.mapping import Column
from d1pg.render import environment, render

with localcontext() as exact:
    exact.prec = 800
    TIE_1075 = format(Decimal(2) ** -1075, ".751e")
"""2^-1075 written out exactly (752 significant digits): halfway between zero and the least double."""
FLOAT_TEXTS = [
    "-0", "0e0", "-0.0e-5", "0e99999999999999999999", "0.000e-400", "1e99999999999999999999",
    "1e-99999999999999999999", "-1e99999999999999999999", "1E+0", "1e-0", "000123.4500e-2", "1e309", "-1e309",
    "1e39", "1e-46", "1e-45", Decimal("-1e309"), Decimal("-0"), "1" * 400, "0." + "0" * 400 + "1", "1" * 300,
    "0." + "0" * 297 + "1", "NaN", "-Infinity", "inf", "0x10", "1e", "1e+", "1.e5", "--1", "1,5", "1_000", "1 ",
    "\uff11", "1e3 ", "١",
]
"""Number text at the edges of the grammar and of the float ranges, for real and for double."""

CORPUS = {
    "text_list": [
        None, "", "null", " null ", "[]", '["a","b"]', '  ["b", "a", "a"]', '[" x "]', "chest,triceps",
        "chest, triceps", " barbell ", "a,,b, ,", "none", "   ", "[1,2]", '["a",null]', '["a",', "{}",
        "[object Object]", '{"a":1}', "7", ["x", "y"], [1], {"a": 1}, 3, True, "é,ü", "[\"日本\"]",
    ],
    "real": [
        None, 0, 1, -1, "0.1", Decimal("0.1"), Decimal("62.5"), "1e-3", "1E+2", Decimal("3.4028235e38"),
        Decimal("3.4028236e38"), "1e39", Decimal("1e-46"), "1e-40", "1e-50", "-0", "16777217", 16777217,
        "abc", ".5", "5.", "+1", " 1", "NaN", "Infinity", True, {"a": 1}, [1], "", "1e400", Decimal("1e-400"),
        *FLOAT_TEXTS,
        # float4's limits, on the double the text reads as: 2^128 - 2^103 (and above) is infinite, the
        # double below it FLT_MAX; 2^-150 (and below) is zero, the double above it 2^-149
        "3.4028235677973366e38", "3.4028235677973362e38", Decimal("3.4028235677973366e38"), "-3.4028235677973366e38",
        "7.006492321624085e-46", "7.006492321624087e-46", "7.0064923216240846e-46", "-7.006492321624087e-46",
        "1.401298464324817e-45", Decimal("7.006492321624087e-46"),
    ],
    "double": [
        None, "0.1", Decimal("2.5"), "1e308", "1e309", Decimal("1e-320"), "1e-330", "abc", 12345678901234567890,
        False, "", *FLOAT_TEXTS,
        # double's limits: 2^1024 - 2^970 (and above) overflows, 2^-1075 (and below) becomes zero; the
        # exact values, the values one unit of their last digit away, and the largest and least doubles
        str(2**1024 - 2**970), str(2**1024 - 2**970 - 1), "-" + str(2**1024 - 2**970), Decimal(2**1024 - 2**970),
        Decimal(2**1024 - 2**970 - 1), "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
        TIE_1075, TIE_1075[:-5] + "1e-324", TIE_1075[:-6] + "4e-324", "-" + TIE_1075, Decimal(TIE_1075),
        "2.4703282292062328e-324", "2.4703282292062327e-324", "5e-324", "4.9e-324", "1e-324", "-5e-324",
        "2.2250738585072014e-308", "1" + "0" * 308, "9" * 309, "0." + "0" * 323 + "25", "0." + "0" * 323 + "24",
    ],
    "uuid": [
        None, "", "0B6F8A2E-4A4B-4B8E-9B1A-0D2F3C4E5F60", "0b6f8a2e-4a4b-4b8e-9b1a-0d2f3c4e5f60", "not-a-uuid",
        "{0b6f8a2e-4a4b-4b8e-9b1a-0d2f3c4e5f60}", 5, True,
    ],
    # The kinds of contract §3-§4, so that a change to any conversion in the SQL fails here.
    "id": [
        None, "", "0B6F8A2E-4A4B-4B8E-9B1A-0D2F3C4E5F60", "legacy_1", 42, Decimal("1.5"), True, {"a": 1}, [1],
    ],
    "boolean": [
        None, 0, 1, "0", "1", True, False, 2, -1, "yes", "true", "", Decimal("1.0"), Decimal("0.5"), {"a": 1}, [1],
    ],
    "integer": [
        None, 0, 5, -5, "5", "-5", "05", "5.0", Decimal("5.5"), Decimal("5.0"), 2147483647, 2147483648, -2147483648,
        -2147483649, "2147483648", "abc", "", " 5", "1e3", Decimal("1e3"), True, {"a": 1},
    ],
    "bigint": [
        None, -5, "-12", 9223372036854775807, 9223372036854775808, -9223372036854775808, -9223372036854775809,
        Decimal("1.5"), "x", 1767443696789,
    ],
    "timestamp": [
        None, "2024-02-29", "2026-02-29", "2100-02-29", "2000-02-29T23:59:59Z", "2024-02-29 12:00:00",
        "2024-02-29T12:00:00.123456+14:00", "2024-02-29T12:00:00-12:00", "2026-01-03T12:00:00.5Z", 1767443696789,
        1767443696, Decimal("1767443696.5"), "1767443696", "now", "", True, "2026-01-03T12:00:00+24:00",
        "2026-01-03 12:00:00Z", "0001-01-01", "9999-12-31T23:59:59.999999Z", "2026-13-01", -1, "2026-01-03T24:00:00",
    ],
    "date": [
        None, "2024-02-29", "2026-02-29", "2026-01-03T23:30:00-05:00", "2026-01-03T00:30:00+14:00", 1767443696789,
        "x", "",
    ],
    "json": [
        None, "", '{"a": 1}', '[1, 2.5, "x"]', "not json", {"a": 1}, [1], 5, "5", '"s"', True, "null", '{"a":',
    ],
    "text": [
        None, "", "x", " spaced ", 5, -0.0, Decimal("1.5"), Decimal("1e21"), Decimal("1e-7"), Decimal("1e400"), True,
        {"a": 1}, [1], "é 日本",
    ],
}

TEMPLATE = """select
    ({{ convert_base(column, 'v', 't', {}) }}){{ '::double precision' if column.kind == 'real' }}
    {{- '::text' if column.kind == 'json' }} as value,
    {% set error = conversion_error(column, 'v', convert_base(column, 'v', 't', {})) | trim %}
    {{ error if error else 'null::text' }} as reason
from (select %s::jsonb as v) as x"""


@pytest.fixture
def functions(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        num = conn.info.server_version
        conn.execute("create schema if not exists migration")
        for name in ("00_functions.sql", "01_json_function.sql", "02_number_list_functions.sql"):
            conn.execute(render(f"transform/{name}", server_version_num=num).encode())
    return pg_url


def _sql(conn, kind: str, value):
    text = environment().from_string(TEMPLATE).render(column=Column(target="v", kind=kind, source="v"))
    text = text.replace("%", "%%").replace("%%s::jsonb", "%s::jsonb")  # the rendered LIKE patterns hold a %
    return conn.execute(text, [_doc(value)]).fetchone()


def _doc(value) -> str | None:
    return None if value is None else json.dumps(value, default=str) if not isinstance(value, Decimal) else str(value)


def _as_staged(conn, value):
    """The value as validate reads it: through jsonb, as staging holds it (1e3 is then 1000)."""
    text = conn.execute("select %s::jsonb::text", [_doc(value)]).fetchone()[0]
    return None if text is None else fidelity.parse_row(text)


def _python(kind: str, value):
    """Value fidelity's conversion, with the reasons the transform gives (as validate's model names them)."""
    column = Column(target="v", kind=kind, source="v")
    try:
        converted = fidelity.CONVERTERS[kind](value, column, SimpleNamespace(source_name="t")), None
    except fidelity.Invalid as exc:
        return None, fates._reason(column, value, str(exc))
    if kind == "id" and converted[0] is None:
        return None, "missing_id"
    return converted


@pytest.mark.parametrize("kind", sorted(CORPUS))
def test_sql_and_python_agree_on_every_value_of_the_corpus(kind, functions):
    with psycopg.connect(functions) as conn:
        for value in CORPUS[kind]:
            expected = _python(kind, _as_staged(conn, value))
            got = tuple(_sql(conn, kind, value))
            if kind in ("real", "double") and got[0] is not None:
                got = (float(got[0]), got[1])
            if kind == "json" and got[0] is not None:
                got = (fidelity.parse_row(got[0]), got[1])
            assert got == expected, f"{kind} {value!r}: SQL {got} != Python {expected}"


def test_g4_json_arrays_and_comma_lists_become_text_arrays(functions):
    with psycopg.connect(functions) as conn:
        assert _sql(conn, "text_list", '["b", "a", "a"]') == (["b", "a", "a"], None)
        assert _sql(conn, "text_list", "chest, triceps") == (["chest", "triceps"], None)
        assert _sql(conn, "text_list", "barbell") == (["barbell"], None)
        assert _sql(conn, "text_list", "[]") == ([], None)
        assert _sql(conn, "text_list", "") == (None, None)
        assert _sql(conn, "text_list", "[1,2]") == (None, "check_violation")
        assert _sql(conn, "text_list", '["a",') == (None, "invalid_json")
    assert fidelity.to_text_list("chest,triceps") == (["chest", "triceps"], True)
    assert fidelity.to_text_list('["chest"]') == (["chest"], False)


def test_g5_real_is_the_float4_rounding_and_overflow_or_underflow_is_out_of_range(functions):
    float4 = struct.unpack("<f", struct.pack("<f", 0.1))[0]
    with psycopg.connect(functions) as conn:
        assert _sql(conn, "real", "0.1") == (float4, None)
        assert float4 != 0.1
        assert _sql(conn, "double", "0.1") == (0.1, None)
        assert _sql(conn, "real", "1e39") == (None, "out_of_range")
        assert _sql(conn, "real", "1e-50") == (None, "out_of_range")
        assert _sql(conn, "real", ".5") == (None, "invalid_number")
        assert _sql(conn, "real", True) == (None, "invalid_number")
