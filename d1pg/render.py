"""Render the SQL templates of ``sql/`` with the macros of ``templates/``.

Jinja only ever inserts identifiers (through the ``ident`` filter, which validates and
quotes) and static mapping metadata (through ``literal``). Runtime values reach SQL through
``set_config``/``current_setting`` or bind parameters, never through a template.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from d1pg.identifiers import ident, literal


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
