"""The ``dirty`` defects: what can go wrong in a table's rows, read from its declaration, and the
spoiler that injects them from a random stream of its own (``f"{seed}:dirty:<table>"``).

A table without a declaration yet gets no defects (its rows stay clean); a declared one gets the
defects its columns allow, whatever the table: bad timestamps, dates, booleans, JSON text, REAL
numbers, lists and UUIDs in the columns of those kinds, dangling references, duplicate ids and
unique keys, values outside a CHECK, and unknown keys (schema drift)."""

from __future__ import annotations

import random
from functools import lru_cache

from d1pg import mapping
from d1pg.generate.core import DANGLING_SKILLS
from d1pg.generate.values import DAY, sqlite, uuid

BAD_TS = ("2026-02-30 10:00:00", "yesterday", "now", "Invalid Date", "2026-01-03 24:00:00",
          "2025-13-01T00:00:00.000Z", "2026-01-03T12:34:56.789+0100")
BAD_DATE = ("2026-02-30", "tomorrow", "2025-00-10", "2026/01/03")
BAD_BOOL = (2, "yes", "true", -1)
BAD_JSON = ('{"a":', "[object Object]", "undefined", "{'mode': 'pomodoro'}")
BAD_NUMBER = ("abc", "1,5", "NaN", "Infinity", "12kg", ".5", True)
OVERFLOW = {"real": 1e39, "double": "1e400"}
"""A number that is valid text but too large for the column's type (contract-additions 4.3)."""
BAD_LIST = ('["a",', "[1,2]", '{"a":1}', "[null]")
BAD_UUID = ("not-a-uuid", "{0e6bd2a4-4b5e-4c3e-9a3c-1b2c3d4e5f60}", "0e6bd2a44b5e4c3e9a3c1b2c3d4e5f60")
DRIFT = (("legacy_flag", 1), ("migrated_from", "v13"), ("deleted_at", None), ("legacy_flag", 0))


class Spec:
    __slots__ = ("has_id", "id_key", "ts", "dates", "bools", "json", "refs", "key_refs", "dup_key", "dup_day",
                 "check", "numbers", "lists", "uuids", "kinds")

    def __init__(self, *, has_id=True, id_key="id", ts=(), dates=(), bools=(), json=(), refs=(), key_refs=None,
                 dup_key=(), dup_day=None, check=(), numbers=(), lists=(), uuids=()):
        self.has_id, self.id_key, self.ts, self.dates, self.bools, self.json = has_id, id_key, ts, dates, bools, json
        self.refs, self.key_refs, self.dup_key, self.dup_day = refs, key_refs or {}, dup_key, dup_day
        self.check, self.numbers, self.lists, self.uuids = check, numbers, lists, uuids
        kinds = ["drift"]
        if has_id:
            kinds += ["missing_id", "dup_id"]
        if ts or dates:
            kinds.append("bad_ts")
        if bools:
            kinds.append("bad_bool")
        if json:
            kinds.append("bad_json")
        if refs:
            kinds.append("orphan")
        if dup_key:
            kinds.append("dup_key")
        if check:
            kinds.append("check")
        # Kinds the core tables do not have come last, so their defects stay what they were.
        if numbers:
            kinds.append("bad_number")
        if lists:
            kinds.append("bad_list")
        if uuids:
            kinds.append("bad_uuid")
        self.kinds = tuple(kinds)


def spec(source) -> Spec:
    """What can go wrong in a source table's rows, from its declaration: bad values in the columns
    of the kinds that have them, dangling references (a reference by key dangles as text), duplicates
    of its first unique key (a derived key column stands for the column it is derived from), and
    values outside a CHECK."""
    def keys(*kinds):
        return tuple(c.source for c in source.columns if c.kind in kinds and c.source)

    def key_of(name):
        col = source.column(name)
        if col.source:
            return col.source
        return source.column(col.derive.of).source if col.derive and col.derive.of else None

    check = []
    for c in source.columns:
        if c.source and c.allowed:
            check += [(c.source, "retired"), (c.source, str(c.allowed[0]).capitalize())]
        if c.source and c.between:
            check += [(c.source, c.between[1] + 50), (c.source, c.between[0] - 5)]
    dup_key: tuple = ()
    dup_day = None
    if source.unique:
        dup_key = tuple(key_of(c) for c in source.unique[0].columns)
        if None in dup_key:
            dup_key = ()
        for c in source.unique[0].columns:
            col = source.column(c)
            if col.derive and col.derive.rule == "utc_date":
                dup_day = key_of(c)
    id_col = source.id_column
    derived_id = id_col.derive is not None and id_col.derive.rule == "id_of_key"
    # A shape-C row without an id key (authenticators) is identified by the key the id derives from.
    return Spec(id_key=id_col.derive.keys[0] if derived_id else id_col.source or "id", ts=keys("timestamp"),
                dates=keys("date"), bools=keys("boolean"),
                json=keys("json"), refs=keys("ref"),
                key_refs={c.source: c.ref_table for c in source.columns if c.source and c.is_key_ref},
                dup_key=dup_key, dup_day=dup_day, check=tuple(check),
                numbers=tuple((c.source, c.kind) for c in source.columns if c.source and c.kind in OVERFLOW),
                lists=keys("text_list"), uuids=keys("uuid"))


SKIPPED_SPECS = {
    "sessions": Spec(ts=("expires",), refs=("userId",)),
    "verification_tokens": Spec(has_id=False, ts=("expires",)),
}
"""Defects of the skipped tables, whose columns no declaration states (their rows are counted, not read)."""


@lru_cache(maxsize=1)
def specs() -> dict[str, Spec]:
    """The defects gen-backup may give each table's rows (read from the declarations on first use, so
    a bad declaration is the task's one-line error, not an import failure)."""
    return {**{s.name: spec(s) for s in mapping.sources()}, **SKIPPED_SPECS}


class Spoiler:
    """Injects at most one defect per row, with probability ``dirty``, from its own random stream."""

    __slots__ = ("dirty", "r", "spec", "prev")

    def __init__(self, seed: int, table: str, dirty: float) -> None:
        self.dirty = dirty
        self.r = random.Random(f"{seed}:dirty:{table}")
        self.spec = specs().get(table)
        self.prev: dict | None = None  # the previous row of the table (one row: constant memory)

    def __call__(self, row: dict) -> dict:
        if self.spec is not None and self.r.random() < self.dirty:
            self._spoil(row)
        self.prev = row
        return row

    def _spoil(self, row: dict) -> None:
        r, spec, prev = self.r, self.spec, self.prev
        kind = spec.kinds[int(r.random() * len(spec.kinds))]
        if kind == "bad_ts":
            cols = [c for c in spec.ts if row.get(c) is not None]
            dates = [c for c in spec.dates if row.get(c) is not None]
            if dates and (not cols or r.random() < 0.5):
                row[dates[int(r.random() * len(dates))]] = BAD_DATE[int(r.random() * len(BAD_DATE))]
            elif cols:
                row[cols[int(r.random() * len(cols))]] = BAD_TS[int(r.random() * len(BAD_TS))]
            else:
                kind = "drift"
        elif kind == "bad_bool":
            row[spec.bools[int(r.random() * len(spec.bools))]] = BAD_BOOL[int(r.random() * len(BAD_BOOL))]
        elif kind == "bad_json":
            row[spec.json[0]] = BAD_JSON[int(r.random() * len(BAD_JSON))]
        elif kind == "missing_id":
            how = int(r.random() * 3)
            if spec.id_key not in row:
                kind = "drift"
            elif how == 0:
                del row[spec.id_key]
            else:
                row[spec.id_key] = None if how == 1 else ""
        elif kind == "dup_id":
            pid = prev.get(spec.id_key) if prev else None
            if pid and isinstance(pid, str):
                row[spec.id_key] = pid.upper() if r.random() < 0.25 else pid
            else:
                kind = "drift"
        elif kind == "orphan":
            col = spec.refs[int(r.random() * len(spec.refs))]
            parent = spec.key_refs.get(col)
            if parent == "skill_definitions":
                row[col] = DANGLING_SKILLS[int(r.random() * len(DANGLING_SKILLS))]
            elif parent == "achievement_definitions":
                row[col] = "retired_achievement"
            elif parent is not None:
                row[col] = f"retired_{col}"
            else:
                row[col] = uuid(r.getrandbits(128))
        elif kind == "dup_key":
            if prev is None or any(prev.get(c) is None for c in spec.dup_key):
                kind = "drift"
            elif spec.dup_key == ("email",):
                email = prev["email"]
                row["email"] = email if r.random() < 0.5 else email[:1].upper() + email[1:]
            elif spec.dup_day is not None:
                # The same parent, the same UTC day as the previous row, another time of that day.
                for c in (*spec.dup_key, *spec.refs):
                    if c != spec.dup_day and c in prev:
                        row[c] = prev[c]
                d = parse_day(prev[spec.dup_day])
                if d is None:
                    kind = "drift"
                else:
                    row[spec.dup_day] = sqlite(d * DAY + int(r.random() * DAY))
            else:
                for c in spec.dup_key:
                    row[c] = prev[c]
        elif kind == "check":
            col, value = spec.check[int(r.random() * len(spec.check))]
            row[col] = value
        elif kind == "bad_number":
            col, col_kind = spec.numbers[int(r.random() * len(spec.numbers))]
            k = int(r.random() * (len(BAD_NUMBER) + 1))
            row[col] = OVERFLOW[col_kind] if k == len(BAD_NUMBER) else BAD_NUMBER[k]
        elif kind == "bad_list":
            row[spec.lists[int(r.random() * len(spec.lists))]] = BAD_LIST[int(r.random() * len(BAD_LIST))]
        elif kind == "bad_uuid":
            row[spec.uuids[int(r.random() * len(spec.uuids))]] = BAD_UUID[int(r.random() * len(BAD_UUID))]
        if kind == "drift":
            key, value = DRIFT[int(r.random() * len(DRIFT))]
            row[key] = value


def parse_day(value: object) -> int | None:
    """UTC day number of a timestamp this package wrote (any of its shapes); None if it is not one."""
    try:
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return int(value) // 1000 // DAY
        if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
            y, m, d = int(value[:4]), int(value[5:7]), int(value[8:10])
            if 1 <= m <= 12 and 1 <= d <= 28:
                return days_from_civil(y, m, d)
    except ValueError:
        pass
    return None


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (no time zone involved)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468
