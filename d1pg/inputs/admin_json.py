"""The admin backup JSON (contract §1): the app's ``/api/admin/backup`` envelope with its ``tables``.

A thin wrapper around the streaming reader of :mod:`d1pg.backup`, which keeps its fast path
(:mod:`d1pg.runs`), every check and every message. Its instant is the envelope's ``createdAt``.
"""

from __future__ import annotations

from pathlib import Path

from d1pg.backup import BackupReader

FORMAT = "admin-json"


class AdminJsonInput(BackupReader):
    """An admin backup behind the input interface (see :mod:`d1pg.inputs`)."""

    format = FORMAT
    instant_source = "createdAt"

    def __init__(self, path: Path | str, *, fast: bool = True):
        super().__init__(path, fast=fast)
