"""What people see: progress bars, summary tables, and the report files."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from rich.console import Console
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
        t.add_row(*[_cell(v) for v in row])
    return t


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def say(message: str) -> None:
    console.print(message, markup=False, soft_wrap=True)


def show(renderable) -> None:
    console.print(renderable)


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
