"""The mappings: how each D1 source table becomes a PostgreSQL target table.

One :class:`Source` per D1 table, its :class:`Column` list in the target's column order
(the order in which values are checked, core-tables.md). Adding a table is adding its
``Source`` here and its DDL in ``sql/schema/``; the insert order is derived from the
declared references.

Column kinds (contract §4):

``id``         the row's id: a canonical UUID is kept (lower-cased), any other non-empty id
               becomes the deterministic name-based UUID of ``"<source table>:<old id>"`` (§3)
``ref``        a reference to a parent's id (same rule against the parent's source table) or,
               with ``ref_column`` other than ``id``, to a parent's key (matched as text)
``text``       text unchanged; a JSON number becomes its JavaScript text
``boolean``    0, 1, "0", "1", true, false
``integer``/``bigint``  JSON integers and ``^-?[0-9]+$`` strings, in range
``timestamp``  the closed grammar of §4 (``migration.to_timestamptz``)
``date``       ``YYYY-MM-DD`` or any accepted timestamp (its UTC date)
``json``       text holding JSON (empty string is NULL)
``name_uuid``  a value kept as UUID when it is one, else the name-based UUID of
               ``"<name_prefix>:<value>"``, recorded in id_map under ``name_prefix``
``verified``   users.emailVerified: 1 means the row's ``created_at``, 0 or null NULL,
               an epoch or timestamp text that instant
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from d1pg.render import is_plain_identifier

NAMESPACE_UUID = "6a061f31-e1f2-448f-9265-d3177f1d5d19"
"""The namespace of every name-based UUID d1pg makes (contract §3, RFC 9562 Appendix B.2)."""

KINDS = {"id", "ref", "text", "boolean", "integer", "bigint", "timestamp", "date", "json", "name_uuid",
         "verified"}
SQL_TYPES = {"id": "uuid", "ref": "uuid", "text": "text", "boolean": "boolean", "integer": "integer",
             "bigint": "bigint", "timestamp": "timestamp with time zone", "date": "date", "json": "jsonb",
             "name_uuid": "uuid", "verified": "timestamp with time zone"}
SOURCE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

WORK_COLUMNS = {"ord", "source_id", "run_id", "bucket", "bucket_reason", "reject_column", "raw_value",
                "orphan_column", "first_failure", "checked_references", "checked_eligibility", "checked_keys"}
WORK_PREFIXES = ("raw_", "final_", "error_", "missing_", "nulled_", "key_eligible_", "duplicate_key_")
"""Column names of the transform's work tables; no target column may use them."""

SKIPPED_SOURCES = {
    "sessions": "DEC-001=A (everyone signs in again)",
    "verification_tokens": "DEC-001=A (sign-in tokens)",
    "db_metadata": "old D1 schema metadata",
}
"""Backup tables left behind on purpose (core-tables.md, "Not migrated"): their rows are ``skipped``."""

SECRET_KEYS = frozenset({"access_token", "refresh_token", "id_token", "session_state", "sessionToken", "token"})
"""Source keys whose values never appear in logs, reports or messages (contract §9)."""


@dataclass(frozen=True)
class Column:
    target: str
    kind: str
    source: str | None = None  # the D1 key; None: derived (see ``derive``)
    not_null: bool = False
    default: object = None  # a constant DEFAULT of the target column, used for null/absent values
    allowed: tuple | None = None  # CHECK ... IN (...)
    between: tuple[int, int] | None = None  # CHECK ... BETWEEN lo AND hi
    value_map: dict | None = None  # applied before the check
    ref_table: str | None = None  # parent target table
    ref_column: str = "id"
    on_missing: str = "skip"  # 'skip' (orphan, NOT NULL reference) or 'null' (ON DELETE SET NULL)
    derive: str | None = None  # 'utc_date:<column>' | 'copy:<column>' | 'now_default'
    name_prefix: str | None = None  # for kind name_uuid
    secret: bool = False

    @property
    def sql_type(self) -> str:
        return "text" if self.is_key_ref else SQL_TYPES[self.kind]

    @property
    def is_key_ref(self) -> bool:
        return self.kind == "ref" and self.ref_column != "id"


@dataclass(frozen=True)
class Unique:
    columns: tuple[str, ...]
    order_by: tuple[str, ...] = ()  # which duplicate is kept: these columns, then backup order
    warn_case_insensitive: bool = False


@dataclass(frozen=True)
class Source:
    """One D1 table. ``target`` is its PostgreSQL table; None for the sources of the progress merge."""

    name: str
    target: str | None
    columns: tuple[Column, ...]
    unique: tuple[Unique, ...] = ()
    merge: str | None = None

    def column(self, target: str) -> Column:
        return next(c for c in self.columns if c.target == target)

    @property
    def id_column(self) -> Column:
        return next(c for c in self.columns if c.kind == "id")

    @property
    def source_keys(self) -> list[str]:
        return [c.source for c in self.columns if c.source]

    @property
    def refs(self) -> list[Column]:
        return [c for c in self.columns if c.kind == "ref"]

    @property
    def parents(self) -> set[str]:
        return {c.ref_table for c in self.refs if c.ref_table != self.target}


def _c(target, kind, source=..., **kw) -> Column:
    return Column(target=target, kind=kind, source=target if source is ... else source, **kw)


def _user_ref(**kw) -> Column:
    return _c("user_id", "ref", not_null=True, ref_table="users", **kw)


def _created_at(source="created_at") -> Column:
    """created_at NOT NULL DEFAULT now(): no source value -> the row's updated_at, else the backup's createdAt."""
    return _c("created_at", "timestamp", source, not_null=True, derive="now_default")


def _updated_at(source="updated_at") -> Column:
    return _c("updated_at", "timestamp", source, not_null=True, derive="now_default")


SOURCES: tuple[Source, ...] = (
    Source("users", "users", (
        _c("id", "id", not_null=True),
        _c("name", "text", not_null=True, default="User"),
        _c("email", "text", not_null=True),
        _c("email_verified", "verified", "emailVerified"),
        _c("image", "text"),
        _c("role", "text", not_null=True, default="user", allowed=("user", "admin", "moderator")),
        _c("approved", "boolean", not_null=True, default=True),
        _c("age_verified", "boolean", not_null=True, default=True),
        _c("tos_accepted", "boolean", not_null=True, default=False),
        _c("tos_accepted_at", "timestamp"),
        _c("tos_version", "text"),
        _c("last_activity_at", "timestamp"),
        _created_at(),
        _updated_at(),
    ), unique=(Unique(("email",), warn_case_insensitive=True),)),
    Source("skill_definitions", "skill_definitions", (
        _c("id", "id", not_null=True),
        _c("key", "text", not_null=True),
        _c("name", "text", not_null=True),
        _c("description", "text"),
        _c("category", "text", not_null=True),
        _c("icon", "text"),
        _c("max_level", "integer", not_null=True, default=10),
        _c("stars_per_level", "integer", not_null=True, default=10),
        _c("sort_order", "integer", not_null=True, default=0),
        _created_at(),
    ), unique=(Unique(("key",)),)),
    Source("achievement_definitions", "achievement_definitions", (
        _c("id", "id", not_null=True),
        _c("key", "text", not_null=True),
        _c("name", "text", not_null=True),
        _c("description", "text"),
        _c("category", "text", not_null=True),
        _c("icon", "text"),
        _c("trigger_type", "text", not_null=True),
        _c("trigger_config", "json", "trigger_config_json"),
        _c("reward_coins", "integer", not_null=True, default=0),
        _c("reward_xp", "integer", not_null=True, default=0),
        _c("sort_order", "integer", not_null=True, default=0),
        _c("is_hidden", "boolean", not_null=True, default=False),
        _created_at(),
    ), unique=(Unique(("key",)),)),
    Source("accounts", "accounts", (
        _c("id", "id", not_null=True),
        _user_ref(source="userId"),
        _c("type", "text", not_null=True, default="oauth"),
        _c("provider", "text", not_null=True, allowed=("google", "azure-ad", "credentials"),
           value_map={"microsoft-entra-id": "azure-ad"}),
        _c("provider_account_id", "text", "providerAccountId", not_null=True),
        _c("refresh_token", "text", secret=True),
        _c("access_token", "text", secret=True),
        _c("expires_at", "bigint"),
        _c("token_type", "text"),
        _c("scope", "text"),
        _c("id_token", "text", secret=True),
        _c("session_state", "text", secret=True),
        _created_at(source=None),
        _updated_at(source=None),
    ), unique=(Unique(("provider", "provider_account_id")),)),
    Source("user_skills", "user_skills", (
        _c("id", "id", not_null=True),
        _user_ref(),
        _c("skill_key", "ref", not_null=True, ref_table="skill_definitions", ref_column="key"),
        _c("current_stars", "integer", not_null=True, default=0),
        _c("current_level", "integer", not_null=True, default=0),
        _c("updated_at", "timestamp"),
        _c("created_at", "timestamp", None, derive="copy:updated_at"),
    ), unique=(Unique(("user_id", "skill_key")),)),
    Source("user_achievements", "user_achievements", (
        _c("id", "id", not_null=True),
        _user_ref(),
        _c("achievement_key", "ref", not_null=True, ref_table="achievement_definitions", ref_column="key"),
        _c("earned_at", "timestamp", not_null=True),
        _c("notified", "boolean", not_null=True, default=False),
    ), unique=(Unique(("user_id", "achievement_key")),)),
    Source("user_wallet", None, (
        _c("id", "id", not_null=True),
        _user_ref(),
        _c("coins", "bigint"),
        _c("xp", "bigint"),
        _c("level", "integer"),
        _c("xp_to_next_level", "integer"),
        _c("total_skill_stars", "integer"),
        _c("updated_at", "timestamp"),
    ), unique=(Unique(("user_id",)),), merge="progress"),
    Source("user_progress", None, (
        _c("id", "id", not_null=True),
        _user_ref(),
        _c("total_xp", "bigint"),
        _c("current_level", "integer"),
        _c("coins", "bigint"),
        _c("created_at", "timestamp"),
        _c("updated_at", "timestamp"),
    ), unique=(Unique(("user_id",)),), merge="progress"),
    Source("points_ledger", "points_ledger", (
        _c("id", "id", not_null=True),
        _user_ref(),
        _c("event_type", "text", not_null=True),
        _c("event_id", "name_uuid", name_prefix="points_ledger.event_id"),
        _c("coins", "integer", not_null=True, default=0),
        _c("xp", "integer", not_null=True, default=0),
        _c("skill_stars", "integer", not_null=True, default=0),
        _c("skill_key", "ref", ref_table="skill_definitions", ref_column="key", on_missing="null"),
        _c("reason", "text"),
        _c("idempotency_key", "text"),
        _created_at(),
    ), unique=(Unique(("idempotency_key",)),)),
    Source("user_streaks", "user_streaks", (
        _c("id", "id", not_null=True),
        _user_ref(),
        _c("streak_type", "text", not_null=True),
        _c("current_streak", "integer", not_null=True, default=0),
        _c("longest_streak", "integer", not_null=True, default=0),
        _c("last_activity_date", "date"),
        _c("updated_at", "timestamp"),
        _c("created_at", "timestamp", None, derive="copy:updated_at"),
    ), unique=(Unique(("user_id", "streak_type")),)),
    Source("activity_events", "activity_events", (
        _c("id", "id", not_null=True),
        _user_ref(),
        _c("event_type", "text", not_null=True),
        _c("metadata", "json", "metadata_json"),
        _created_at(),
    )),
    Source("habits", "habits", (
        _c("id", "id", not_null=True),
        _user_ref(),
        _c("name", "text", not_null=True),
        _c("description", "text"),
        _c("icon", "text"),
        _c("color", "text"),
        _c("frequency", "text", not_null=True, default="daily", allowed=("daily", "weekly", "custom")),
        _c("target_count", "integer", not_null=True, default=1),
        _c("is_active", "boolean", not_null=True, default=True),
        _created_at(),
        _updated_at(),
    )),
    Source("goals", "goals", (
        _c("id", "id", not_null=True),
        _user_ref(),
        _c("title", "text", not_null=True),
        _c("description", "text"),
        _c("category", "text"),
        _c("target_date", "date"),
        _c("status", "text", not_null=True, default="active",
           allowed=("active", "completed", "abandoned", "paused")),
        _c("progress", "integer", not_null=True, default=0, between=(0, 100)),
        _created_at(),
        _updated_at(),
    )),
    Source("habit_logs", "habit_logs", (
        _c("id", "id", not_null=True),
        _c("habit_id", "ref", not_null=True, ref_table="habits"),
        _user_ref(),
        _c("completed_at", "timestamp", not_null=True),
        _c("completed_date", "date", None, not_null=True, derive="utc_date:completed_at"),
        _c("notes", "text"),
    ), unique=(Unique(("habit_id", "completed_date"), order_by=("completed_at",)),)),
    Source("goal_milestones", "goal_milestones", (
        _c("id", "id", not_null=True),
        _c("goal_id", "ref", not_null=True, ref_table="goals"),
        _c("title", "text", not_null=True),
        _c("is_completed", "boolean", not_null=True, default=False),
        _c("completed_at", "timestamp"),
        _c("sort_order", "integer", not_null=True, default=0),
    )),
)

MERGE_TARGETS = ("user_progress", "user_wallet")
"""Targets built by the progress merge (core-tables.md), in insert order."""

MERGE_TARGET_COLUMNS = {
    "user_progress": (("id", "uuid", True), ("user_id", "uuid", True), ("total_xp", "bigint", True),
                      ("current_level", "integer", True), ("xp_to_next_level", "integer", True),
                      ("total_skill_stars", "integer", True), ("created_at", "timestamp with time zone", True),
                      ("updated_at", "timestamp with time zone", True)),
    "user_wallet": (("id", "uuid", True), ("user_id", "uuid", True), ("coins", "bigint", True),
                    ("created_at", "timestamp with time zone", True), ("updated_at", "timestamp with time zone", True)),
}


def validate(sources: tuple[Source, ...] = SOURCES) -> None:
    """Refuse a mapping that would put an unchecked name into SQL or cannot be ordered."""
    targets = {s.target for s in sources if s.target} | set(MERGE_TARGETS)
    for s in sources:
        names = [s.name, *(c.target for c in s.columns)]
        if s.target:
            names.append(s.target)
        for name in names:
            if not is_plain_identifier(name):
                raise ValueError(f"mapping {s.name}: {name!r} is not a plain identifier")
        for c in s.columns:
            if c.target in WORK_COLUMNS or c.target.startswith(WORK_PREFIXES):
                raise ValueError(f"mapping {s.name}.{c.target}: the name is used by the transform's work tables")
            if c.kind not in KINDS:
                raise ValueError(f"mapping {s.name}.{c.target}: unknown kind {c.kind!r}")
            if c.source is not None and not SOURCE_KEY.match(c.source):
                raise ValueError(f"mapping {s.name}.{c.target}: source key {c.source!r} is not a plain key")
            if c.kind == "ref" and c.ref_table not in targets:
                raise ValueError(f"mapping {s.name}.{c.target}: references unknown table {c.ref_table!r}")
            if c.source is None and c.derive is None:
                raise ValueError(f"mapping {s.name}.{c.target}: no source key and nothing to derive it from")
        if sum(c.kind == "id" for c in s.columns) != 1 or s.columns[0].kind != "id":
            raise ValueError(f"mapping {s.name}: the first column must be its one id column")
    insert_order(sources)


def insert_order(sources: tuple[Source, ...] = SOURCES) -> list[Source]:
    """Sources in an order where every parent's target is filled before its children (from the references)."""
    by_target: dict[str, list[Source]] = {}
    for s in sources:
        by_target.setdefault(s.target or MERGE_TARGETS[0], []).append(s)
    graph = {target: set().union(*(s.parents for s in group)) - {target} for target, group in by_target.items()}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise ValueError(f"the mappings' references form a cycle: {exc.args[1]}") from None
    # static_order is deterministic for a given graph; keep declaration order among equals.
    position = {t: i for i, t in enumerate(order)}
    return sorted(sources, key=lambda s: (_depth(s.target or MERGE_TARGETS[0], graph), position[s.target or
                                                                                                  MERGE_TARGETS[0]],
                                          sources.index(s)))


def _depth(target: str, graph: dict[str, set[str]]) -> int:
    parents = graph.get(target, set())
    return 0 if not parents else 1 + max(_depth(p, graph) for p in parents)


def target_tables(sources: tuple[Source, ...] = SOURCES) -> list[str]:
    """The mapped target tables, in insert order."""
    out: list[str] = []
    for s in insert_order(sources):
        for t in ([s.target] if s.target else list(MERGE_TARGETS)):
            if t not in out:
                out.append(t)
    return out


def mapped_source_names(sources: tuple[Source, ...] = SOURCES) -> set[str]:
    return {s.name for s in sources}


def plan(sources: tuple[Source, ...] = SOURCES) -> list[Source]:
    validate(sources)
    return insert_order(sources)
