"""``python -m d1pg``: the same program as the ``d1pg`` command."""

from d1pg.cli import main

main()
