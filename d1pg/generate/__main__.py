"""``python -m d1pg.generate``: write a backup (see :mod:`d1pg.generate`)."""

from d1pg.generate import main

main()
