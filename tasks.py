"""The d1pg tasks for ``python3 -m invoke TASK`` in a checkout. They are defined once, in d1pg/cli.py,
which is also the installed ``d1pg`` command."""

from d1pg.cli import namespace

__all__ = ["namespace"]
