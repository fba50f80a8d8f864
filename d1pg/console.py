"""Console output: progress bars, tables, one-line errors, and the masking of secrets (contract §9).

The one home of what a person sees on the terminal; the report files are in :mod:`d1pg.report`."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
from collections.abc import Iterator

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

console = Console(stderr=False, highlight=False)
if not console.is_terminal:
    console = Console(stderr=False, highlight=False, width=160)
err_console = Console(stderr=True, highlight=False)


@contextlib.contextmanager
def byte_progress(description: str, total: int | None, enabled: bool | None = None) -> Iterator:
    """A bytes progress bar on a terminal (``update(done, description)``); a no-op elsewhere."""
    enabled = err_console.is_terminal if enabled is None else enabled
    if not enabled:
        yield lambda done, text=None: None
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    with progress:
        task = progress.add_task(description, total=total)

        def update(done: int, text: str | None = None) -> None:
            if text is None:
                progress.update(task, completed=done)
            else:
                progress.update(task, completed=done, description=text)

        yield update


def table(title: str, columns: list[str], rows: list[list], *, right: set[int] | None = None) -> Table:
    right = right if right is not None else set(range(1, len(columns)))
    t = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        t.add_column(name, justify="right" if i in right else "left")
    for row in rows:
        t.add_row(*[escape(cell(v)) for v in row])  # data is never rich markup
    return t


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


SECRET_NAME = re.compile(r"token$|secret|password|session_?state", re.IGNORECASE)
"""Column and key names whose values are masked wherever a person sees them (contract §9):
mapping.SECRET_KEYS and anything else that looks like a credential."""

SECRET_HINT = re.compile(r"token|secret|password|session_?state", re.IGNORECASE)
"""Text that may hold a secret key somewhere inside."""

MASK = "[masked]"


def is_secret(name: str | None) -> bool:
    from d1pg.mapping import SECRET_KEYS

    return bool(name) and (name in SECRET_KEYS or bool(SECRET_NAME.search(name)))


def mask_value(column: str | None, value):
    """A value as a person may see it: masked when its column is a secret, and secret keys masked
    inside JSON text (a whole-row raw value, a merge conflict's detail)."""
    if value is None:
        return None
    if is_secret(column):
        return MASK
    if not isinstance(value, str):
        return value
    stripped = value.lstrip()
    if stripped[:1] in ("{", "[") and SECRET_HINT.search(value):
        return mask_json_text(value)
    return value


def mask_json_text(text: str) -> str:
    """JSON text with the value of every secret key replaced by the mask, at any depth. Text that
    does not parse is masked after every secret-looking key, as far as the line goes."""
    try:
        doc = json.loads(text)
    except ValueError:
        return re.sub(r'"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\]]*)',
                      lambda m: m.group(0) if not is_secret(m.group(1))
                      else f'"{m.group(1)}"{m.group(2)}{json.dumps(MASK)}', text)
    return json.dumps(_mask_doc(doc), ensure_ascii=False)


def _mask_doc(doc):
    if isinstance(doc, dict):
        return {k: (MASK if is_secret(k) and v is not None else _mask_doc(v)) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_mask_doc(v) for v in doc]
    if isinstance(doc, str):
        return mask_value(None, doc)  # JSON text inside a string (a *_json column of a whole row)
    return doc


def say(message: str) -> None:
    console.print(message, markup=False, soft_wrap=True)


def show(renderable) -> None:
    console.print(renderable)


# psycopg logs, as a warning, a second failure met while ending a COPY that an error already ended
# ("error ignored terminating <psycopg.Copy ...>"); without a handler Python prints it beside the one
# line below. The first error is the one reported.
logging.getLogger("psycopg").addHandler(logging.NullHandler())


def fail(message: str) -> None:
    """The one line a failing task prints: to stderr, no traceback."""
    print(f"d1pg: error: {message}", file=sys.stderr)


def run_guarded(function, *args, **kwargs):
    """Call one step for a task: a :class:`D1pgError` becomes one line on stderr and its exit code;
    Ctrl-C exits 130. Never a traceback for a problem the user can act on."""
    from d1pg.errors import D1pgError

    try:
        return function(*args, **kwargs)
    except D1pgError as exc:
        fail(str(exc))
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        fail("interrupted; the running transaction was rolled back")
        raise SystemExit(130) from None
