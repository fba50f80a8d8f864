"""Every staged row's fate, decided again from the staged rows and the declarations alone (contract
§3-§6, contract-additions 5.1-5.2; validation, §8).

This is the model ``validate`` holds the transform to. It reads nothing the transform wrote (no
rejects, orphans, id map or outcome counts) and shares no SQL with it: the values are converted by
:mod:`d1pg.fidelity`, and the decisions are made here, in the contract's order:

1. a row the stage could not store (its ``doc`` is NULL) is a load-time reject;
2. the first failing column, in target column order: its conversion, a derive rule's own key, then
   NOT NULL and CHECK on the final value;
3. a duplicate id: the first row in backup order that passed its columns keeps it;
4. an orphan: the first NOT NULL (or ON DELETE CASCADE) reference, in column order, whose parent
   is not migrated; a nullable reference to a parent that is not migrated is nulled. Parents are
   the rows this model migrated, so orphans cascade; a reference to the table's own rows is kept
   only when its chain of parents reaches a row without one (a fixed point);
5. a duplicate unique key: the first row in the key's declared order, then backup order, keeps it;
6. the progress merge: a D1 ``user_progress`` row whose user has a migrated wallet row is merged.

Tables come in insert order (:func:`d1pg.mapping.plan`): a table's parents are decided before it.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from d1pg import fidelity, mapping

STRUCTURED = (bool, dict, list)


@dataclass(slots=True)
class Fate:
    """What the contract makes of one staged row."""

    ord: int
    bucket: str  # migrated, merged, orphaned, rejected
    reason: str | None = None  # a reject's reason; None for a load-time reject (the stage logs its own)
    column: str | None = None  # the first failing column, the orphaned reference, or the key's columns
    source_id: str | None = None
    id: object = None  # the target id of a row that passed its columns
    nulled: tuple[str, ...] = ()  # references set to NULL because their parent is not migrated
    refs: tuple = ()  # each reference's final value (before nulling), in the order of source.refs
    held: tuple = ()  # the values of key columns other tables reference (Model.key_columns)
    user_id: object = None  # the merge's user, for the progress merge
    keys: list | None = None  # while deciding: per unique key, its value tuple (None when a column is NULL)
    order: dict | None = None  # while deciding: the values of the unique keys' survivor order


class _Plan:
    """How one source's rows are evaluated, worked out once: each column's keys and converter, the
    columns filled, the late ones, and the ones with a NOT NULL or CHECK to check."""

    def __init__(self, source: mapping.Source, model: Model):
        late = [c for c in source.columns if c.kind == "verified"
                or c.derive and c.derive.rule not in ("id_of_key", "alias_when")]
        ctx = SimpleNamespace(source_name=source.name, ref_sources=model.ref_sources, created_at=None)
        self.early = [(c, _converter(c, ctx, model)) for c in source.columns if c.source and c not in late]
        self.filled = [c for c in source.columns if c not in late and (not c.source or c.not_null)]
        self.late = late
        self.id_column = source.id_column  # looked up once: Source.id_column searches the columns
        self.checked = [c for c in source.columns
                        if c.source or c.not_null or c.allowed or c.between or c.at_least is not None or c in late]


def _converter(col: mapping.Column, ctx, model: Model):
    """One column's conversion, as a function of the source value."""
    if col.kind == "id":
        return functools.partial(model.to_id, prefix=ctx.source_name)
    if col.kind == "ref" and not col.is_key_ref:
        return functools.partial(model.to_id, prefix=ctx.ref_sources[col.ref_table])
    if col.is_key_ref:
        return functools.partial(model._key_ref, col)
    return functools.partial(fidelity.CONVERTERS[col.kind], column=col, ctx=ctx)


class Model:
    """Decides the fates of each source table in turn; remembers the migrated rows' ids and keys
    that later tables reference. :meth:`table` also hands back the final values of a sample of the
    migrated rows (or of all of them), for value fidelity."""

    def __init__(self, backup_created_at=None):
        self.backup_created_at = backup_created_at
        self.ref_sources = mapping.ref_sources()
        self._wanted = {(c.ref_table, c.ref_column) for s in mapping.plan() for c in s.refs}
        self._parents: dict[tuple[str, str], set] = {}  # (target table, column) -> migrated values
        self._id_to_key: dict[tuple[str, str], dict] = {}  # (target table, key column) -> {id: key}
        self._plans: dict[str, _Plan] = {}
        self._ids: dict[tuple[str, str], object] = {}  # (prefix, old id) -> its UUID: references repeat ids

    def to_id(self, value, prefix: str):
        """fidelity.to_id, remembered: the same parent id recurs in many rows."""
        if not isinstance(value, str):
            return fidelity.to_id(value, prefix)
        key = (prefix, value)
        found = self._ids.get(key)
        if found is None:
            if len(self._ids) > 100_000:
                self._ids.clear()
            found = self._ids[key] = fidelity.to_id(value, prefix)
        return found

    # -- one row -------------------------------------------------------------------------------

    def _plan(self, source: mapping.Source) -> _Plan:
        plan = self._plans.get(source.name)
        if plan is None:
            plan = self._plans[source.name] = _Plan(source, self)
        return plan

    def evaluate(self, source: mapping.Source, doc: dict) -> tuple[dict, tuple[str, str] | None]:
        """A row's final target values and its first failing (column, reason), or None."""
        plan = self._plan(source)
        errors: dict[str, str] = {}
        out: dict[str, object] = {}
        for c, convert in plan.early:
            value = fidelity.source_value(doc, c)
            try:
                out[c.target] = convert(value)
            except fidelity.Invalid as exc:
                reason = _reason(c, value, str(exc))
                if reason:
                    errors[c.target] = reason
                out[c.target] = None
        for c in plan.filled:
            out[c.target] = self._filled(c, out.get(c.target), out)
        if plan.late:
            self._late(plan, source, doc, out, errors)
        for c in plan.checked:
            reason = errors.get(c.target) or _constraint_error(c, out[c.target])
            if reason:
                return out, (c.target, reason)
        return out, None

    def _late(self, plan: _Plan, source: mapping.Source, doc: dict, out: dict, errors: dict) -> None:
        """The columns read from the others' final values: derived values and users.emailVerified."""
        ctx = SimpleNamespace(source_name=source.name, ref_sources=self.ref_sources, created_at=out.get("created_at"))
        for col in plan.late:
            value = fidelity.source_value(doc, col) if col.source else fidelity.ABSENT
            own = None
            if col.source:
                try:
                    own = fidelity.CONVERTERS[col.kind](value, col, ctx)
                except fidelity.Invalid as exc:
                    errors[col.target] = _reason(col, value, str(exc))
            if col.derive:
                if col.derive.rule == "quest_status" and col.target not in errors:
                    flag = doc.get(col.derive.keys[0], fidelity.ABSENT)
                    try:
                        fidelity.to_boolean(flag)
                    except fidelity.Invalid:
                        errors[col.target] = "invalid_boolean"
                        own = None
                final = {**out, "__source_id__": _source_id(doc, plan.id_column)}
                try:
                    out[col.target] = fidelity.derived(col, doc, own, final)
                except fidelity.Invalid:
                    out[col.target] = None
            else:
                out[col.target] = own

    def _key_ref(self, col: mapping.Column, value):
        """A reference by key: its text; one that holds a migrated parent's id becomes that parent's
        key (contract-additions 5.2)."""
        converted = fidelity.to_key(value)
        if converted is None:
            return converted
        name = (col.ref_table, col.ref_column)
        if converted in self._parents.get(name, ()):
            return converted
        try:
            parent_id = fidelity.to_id(value, self.ref_sources[col.ref_table])
        except fidelity.Invalid:
            return converted
        return self._id_to_key.get(name, {}).get(parent_id, converted)

    def _filled(self, col: mapping.Column, value, converted: dict):
        """contract-additions 4.1: a missing value of a NOT NULL column (or a column without a source)
        takes its constant default, else the §4 clock fill (created_at: the row's own converted
        updated_at first); otherwise it stays NULL."""
        if value is not None or (col.source and not col.not_null):
            return value
        if col.default is not None:
            return col.default
        if col.clock_fill:
            return (converted.get("updated_at") if col.target == "created_at" else None) or self.backup_created_at
        return None

    # -- one table -----------------------------------------------------------------------------

    def table(self, source: mapping.Source, rows: Iterable[tuple[int, dict | None]],
              sample: int | None) -> tuple[dict[int, Fate], dict[int, dict]]:
        """Every row's fate, by ord, and the final values of up to ``sample`` migrated rows spread
        over the table (value fidelity's sample; ``None``: every migrated row)."""
        decided: dict[int, Fate] = {}
        held = self.key_columns(source)
        plan = self._plan(source)
        id_target = plan.id_column.target
        refs = [c.target for c in source.refs]
        ordering = [c for key in source.unique for c, _ in key.ordering]
        first_of_id: dict[object, int] = {}
        spread: list[tuple[int, int]] = []  # a max-heap (negated) of the rows whose values are kept
        kept: dict[int, dict] = {}
        for ord_, doc in rows:
            if doc is None:
                decided[ord_] = Fate(ord_, "rejected")
                continue
            try:
                source_id = _source_id(doc, plan.id_column)
            except fidelity.Invalid:
                source_id = None
            values, failure = self.evaluate(source, doc)
            fate = decided[ord_] = Fate(ord_, "migrated", source_id=source_id)
            if failure:
                fate.bucket, (fate.column, fate.reason) = "rejected", failure
                continue
            fate.id = values[id_target]
            if first_of_id.setdefault(fate.id, ord_) != ord_:
                fate.bucket, fate.reason, fate.column = "rejected", "duplicate_id", id_target
                continue
            fate.refs = tuple(values[c] for c in refs)
            if held:
                fate.held = tuple(values[c] for c in held)
            if source.merge:
                fate.user_id = values.get("user_id")
            if source.unique:
                fate.keys = [_key_of(key, values) for key in source.unique]
                if ordering:
                    fate.order = {c: values[c] for c in ordering}
            if sample is None:
                kept[ord_] = values
            else:
                item = (-_spread(ord_), ord_)
                if len(spread) < 2 * sample:
                    heapq.heappush(spread, item)
                    kept[ord_] = values
                elif item > spread[0]:
                    dropped = heapq.heappushpop(spread, item)[1]
                    kept.pop(dropped, None)
                    kept[ord_] = values
        del first_of_id
        self._orphans(source, decided)
        self._unique_keys(source, decided)
        self._remember(source, decided)
        kept = {o: v for o, v in kept.items() if decided[o].bucket == "migrated"}
        if sample is not None:
            chosen = sorted(kept, key=_spread)[:sample]
            kept = {o: kept[o] for o in chosen}
        for o, values in kept.items():
            for col in decided[o].nulled:
                values[col] = None
        return decided, kept

    def _orphans(self, source: mapping.Source, decided: dict[int, Fate]) -> None:
        names = [c.target for c in source.refs]
        others = [(names.index(c.target), c) for c in source.refs if c not in source.self_refs]
        for fate in decided.values():
            if fate.bucket != "migrated":
                continue
            nulled = []
            for i, col in others:
                value = fate.refs[i]
                if value is None or value in self._parents.get((col.ref_table, col.ref_column), ()):
                    continue
                if col.on_missing == "skip":
                    fate.bucket, fate.column = "orphaned", col.target
                    break
                nulled.append(col.target)
            if fate.bucket == "migrated" and nulled:
                fate.nulled = tuple(nulled)
        for col in source.self_refs:
            i = names.index(col.target)
            alive = {f.id: f for f in decided.values() if f.bucket == "migrated"}
            children: dict[object, list[Fate]] = {}
            roots = []
            for fate in alive.values():
                parent = fate.refs[i]
                (roots if parent is None else children.setdefault(parent, [])).append(fate)
            reached: set = set()
            todo = list(roots)
            while todo:
                fate = todo.pop()
                if fate.id in reached:
                    continue
                reached.add(fate.id)
                todo += children.get(fate.id, [])
            for fate in alive.values():
                if fate.id not in reached:
                    fate.bucket, fate.column, fate.nulled = "orphaned", col.target, ()

    def _unique_keys(self, source: mapping.Source, decided: dict[int, Fate]) -> None:
        if not source.unique:
            return
        eligible = [f for f in decided.values() if f.bucket == "migrated"]
        losers: dict[int, str] = {}
        for i, key in enumerate(source.unique):
            groups: dict[tuple, list[Fate]] = {}
            for f in eligible:
                if f.keys[i] is not None:
                    groups.setdefault(f.keys[i], []).append(f)
            order = functools.cmp_to_key(functools.partial(_compare, key.ordering))
            for group in groups.values():
                if len(group) > 1:
                    group.sort(key=order)
                    for f in group[1:]:
                        losers.setdefault(f.ord, ", ".join(key.columns))
        for f in decided.values():
            if f.ord in losers:
                f.bucket, f.reason, f.column, f.nulled = "rejected", "duplicate_key", losers[f.ord], ()
            f.keys = f.order = None

    def _remember(self, source: mapping.Source, fates: dict[int, Fate]) -> None:
        """Keep what later tables read: the migrated rows' ids and the key columns referenced."""
        if not source.target:
            return
        migrated = [f for f in fates.values() if f.bucket == "migrated"]
        if (source.target, "id") in self._wanted:  # only what a later table references
            self._parents[(source.target, "id")] = {f.id for f in migrated}
        for i, column in enumerate(self.key_columns(source)):
            id_to_key = {f.id: f.held[i] for f in migrated if f.held[i] is not None}
            self._id_to_key[(source.target, column)] = id_to_key
            self._parents[(source.target, column)] = set(id_to_key.values())

    @staticmethod
    def merge(fates: dict[str, dict[int, Fate]]) -> None:
        """The progress merge (core-tables.md): a migrated D1 user_progress row whose user has a
        migrated user_wallet row is merged into it; call it once both tables are decided."""
        wallet_users = {f.user_id for f in fates.get("user_wallet", {}).values() if f.bucket == "migrated"}
        for f in fates.get("user_progress", {}).values():
            if f.bucket == "migrated" and f.user_id in wallet_users:
                f.bucket = "merged"

    def key_columns(self, source: mapping.Source) -> list[str]:
        """The key columns (not ids) of ``source``'s target that later tables reference."""
        return sorted(c for t, c in self._wanted if t == source.target and c != "id")


def _source_id(doc: dict, id_column: mapping.Column) -> str | None:
    """The row's id as the source holds it, as text (what the books name the row by)."""
    return fidelity.scalar_text(fidelity.source_value(doc, id_column))


def _reason(col: mapping.Column, value, reason: str) -> str | None:
    """The transform's reason for a value fidelity could not convert (the kinds' failure names)."""
    structured = isinstance(value, STRUCTURED)
    if col.kind == "id":
        return "invalid_id" if structured else "missing_id"
    if col.kind == "name_uuid" or col.kind == "ref" and not col.is_key_ref:
        return "invalid_id" if structured else None
    return reason


def _constraint_error(col: mapping.Column, value) -> str | None:
    if col.kind == "id" and value is None:
        return "missing_id"
    if value is None:
        return "null_not_allowed" if col.not_null else None
    if col.allowed and value not in col.allowed:
        return "check_violation"
    if col.between and not col.between[0] <= value <= col.between[1]:
        return "check_violation"
    if col.at_least is not None and value < col.at_least:
        return "check_violation"
    return None


def _key_of(key: mapping.Unique, values: dict) -> tuple | None:
    out = tuple(values[c] for c in key.columns)
    return None if any(v is None for v in out) else tuple(_comparable(v) for v in out)


def _comparable(value):
    """Equal keys as PostgreSQL finds them equal: instants, not wall clocks."""
    return value.timestamp() if type(value) is datetime else value


def _compare(ordering: list[tuple[str, bool]], a: Fate, b: Fate) -> int:
    """The survivor order of a unique key: its declared columns (descending ones NULLS LAST), then
    backup order."""
    for column, descending in ordering:
        x, y = a.order[column], b.order[column]
        if x == y or x is None and y is None:
            continue
        if x is None or y is None:  # NULLS LAST both ways (PostgreSQL's default for ASC too)
            return 1 if x is None else -1
        x, y = _comparable(x), _comparable(y)
        if x != y:
            return (-1 if x > y else 1) if descending else (-1 if x < y else 1)
    return (a.ord > b.ord) - (a.ord < b.ord)


def _spread(ord_: int) -> int:
    """A fixed pseudo-random order of a table's rows, for the sample (Knuth's multiplicative hash)."""
    return (ord_ * 2654435761) % 2**32
