"""Render the SQL templates of ``sql/`` with the macros of ``templates/``.

Jinja only ever inserts identifiers (through the ``ident`` filter, which validates and
quotes) and static mapping metadata (through ``literal``). Runtime values reach SQL through
``set_config``/``current_setting`` or bind parameters, never through a template.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import jinja2


def shipped(name: str) -> Path:
    """The folder ``sql`` or ``templates``: inside the package when installed from a wheel
    (``d1pg/<name>``), else at the top of the checkout beside ``d1pg/`` (a checkout, an editable
    install). Only read, never written."""
    package = Path(__file__).resolve().parent
    for folder in (package / name, package.parent / name):
        if folder.is_dir():
            return folder
    return package / name


SQL_DIR = shipped("sql")
TEMPLATES_DIR = shipped("templates")

PLAIN_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def is_plain_identifier(name: str) -> bool:
    """A name that needs no quoting in PostgreSQL and cannot be truncated: ``^[a-z_][a-z0-9_]{0,62}$``."""
    return isinstance(name, str) and bool(PLAIN_IDENTIFIER.match(name))


def quote_ident(name: str) -> str:
    """Quote one identifier, PostgreSQL style. Refuses names PostgreSQL would truncate or cannot hold."""
    if not isinstance(name, str) or not name or "\x00" in name or len(name.encode()) > 63:
        raise ValueError(f"not a usable identifier: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def ident(name: str) -> str:
    """Jinja filter: a validated mapping name, quoted. ``users`` -> ``users``; anything else fails."""
    if not is_plain_identifier(name):
        raise ValueError(f"identifier from a mapping must match {PLAIN_IDENTIFIER.pattern}: {name!r}")
    return name if name not in _RESERVED else quote_ident(name)


def literal(value: str | int | bool | None) -> str:
    """Jinja filter: static mapping metadata (a column name, a type name) as a SQL literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError(f"not a literal: {value!r}")
    return "'" + value.replace("'", "''") + "'"


# Reserved words that a plain identifier may still collide with; quoted when used.
_RESERVED = frozenset(
    """all analyse analyze and any array as asc asymmetric both case cast check collate column
    constraint create current_catalog current_date current_role current_time current_timestamp
    current_user default deferrable desc distinct do else end except false fetch for foreign from
    grant group having in initially intersect into lateral leading limit localtime localtimestamp
    not null offset on only or order placing primary references returning select session_user
    some symmetric system_user table then to trailing true union unique user using variadic when
    where window with authorization binary collation concurrently cross current_schema freeze
    full ilike inner is isnull join left like natural notnull outer overlaps right similar tablesample
    verbose""".split()
)


def environment() -> jinja2.Environment:
    """The one Jinja environment: strict, whitespace-controlled, macros from ``templates/``."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(SQL_DIR), str(TEMPLATES_DIR)]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["ident"] = ident
    env.filters["literal"] = literal
    # Macros in templates/ are global, as sqlfluff's load_macros_from_path makes them when linting.
    for path in sorted(TEMPLATES_DIR.glob("*.sql")):
        module = env.get_template(path.name).module
        for name in dir(module):
            if not name.startswith("_"):
                env.globals[name] = getattr(module, name)
    return env


_ENV: jinja2.Environment | None = None


def render(template: str, **context) -> str:
    """Render ``sql/<template>`` (a path relative to ``sql/``) with ``context``."""
    global _ENV
    if _ENV is None:
        _ENV = environment()
    text = _ENV.get_template(template).render(**context)
    return _tidy(text)


def _tidy(text: str) -> str:
    """Collapse runs of blank lines left by template logic; end with one newline."""
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n") + "\n"


def templates_in(stage: str) -> list[str]:
    """The templates of one stage directory (``staging``, ``transform``, ``validate``, ``schema``), in file order."""
    return sorted(p.relative_to(SQL_DIR).as_posix() for p in (SQL_DIR / stage).glob("*.sql"))


def bundle_header(what: str, sources: list[str], server_version: str) -> str:
    """The header a rendered bundle file carries: what it is, what produced it, when."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    lines = [
        f"-- {what}",
        f"-- Generated by d1pg at {now} for PostgreSQL {server_version}.",
        "-- Rendered from: " + ", ".join(sources),
    ]
    return "\n".join(lines) + "\n"


def write_steps(folder: Path, script: Path, title: str, steps: list, server_version: str) -> list[Path]:
    """Write rendered steps (each with ``label``, ``template``, ``sql``) as one numbered file per
    step under ``folder`` and all of them, in order, as ``script``."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.sql"):
        old.unlink()
    paths = []
    whole = [bundle_header(title, sorted({s.template for s in steps}), server_version)]
    for i, step in enumerate(steps, 1):
        name = f"{i:03d}_{re.sub(r'[^a-z0-9]+', '_', step.label.lower()).strip('_')}.sql"
        text = bundle_header(f"{title.split(':')[0]} step {i}: {step.label}", [step.template], server_version)
        (folder / name).write_text(text + "\n" + step.sql)
        paths.append(folder / name)
        whole.append(f"\n-- step {i}: {step.label} ({step.template})\n" + step.sql)
    script.write_text("".join(whole))
    return paths


def write_review_bundle(settings, out: Path, *, offline_version: int | None = None,
                        quiet: bool = False) -> list[Path]:
    """``invoke render``: the exact SQL transform and validate execute, for this server and staging,
    one file per step (``out/transform/``, ``out/validate/``) plus ``out/transform.sql`` and
    ``out/validate.sql``. Run the first with
    ``psql -v ON_ERROR_STOP=1 --single-transaction -f transform.sql``, then ``psql -f validate.sql``
    (each check prints its offending rows; none when it passes).

    With ``offline_version`` (a server_version_num) no database is asked: every mapped source
    counts as staged. That is how ``invoke lint`` checks the SQL as it will run."""
    from d1pg import mapping, report, transform, validate
    from d1pg.db import connect, database_url, server_version

    if offline_version is None:
        with connect(database_url(settings)) as conn:
            num, version = server_version(conn)
            staged = transform.staged_tables(conn)
    else:
        num, staged = offline_version, mapping.mapped_source_names()
        version = f"{num // 10000} (rendered offline)"
    transform_steps = transform.steps(settings, num, staged)
    validate_steps = validate.steps(settings)
    paths = write_steps(out / "transform", out / "transform.sql",
                        "d1pg transform: every step in order; run with "
                        "psql -v ON_ERROR_STOP=1 --single-transaction -f transform.sql", transform_steps, version)
    paths += write_steps(out / "validate", out / "validate.sql",
                         "d1pg validate: every check in order; each returns its offending rows (none = pass); "
                         "run with psql -v ON_ERROR_STOP=1 -f validate.sql", validate_steps, version)
    if not quiet:
        report.say(f"wrote {len(transform_steps)} transform steps to {out / 'transform'}/ and "
                   f"{len(validate_steps)} validate steps to {out / 'validate'}/, and all of them to "
                   f"{out / 'transform.sql'} and {out / 'validate.sql'}")
    return paths


def render_for_lint(out: Path) -> list[Path]:
    """Render transform and validate offline for PostgreSQL 18 and 15 under ``out``; return what to
    lint: every step for 18, and for 15 the steps whose text differs."""
    from d1pg.config import settings

    shutil.rmtree(out, ignore_errors=True)
    newest = write_review_bundle(settings(), out / "pg18", offline_version=180000, quiet=True)
    oldest = write_review_bundle(settings(), out / "pg15", offline_version=150000, quiet=True)
    return newest + [old for new, old in zip(newest, oldest, strict=True)
                     if _body(new.read_text()) != _body(old.read_text())]


def _body(text: str) -> str:
    """A rendered step without its header (which names the version and the time)."""
    return text.split("\n\n", 1)[1]
