"""Write the hostile inputs too big to commit (a 50 MB string, nesting 100,000 deep, ...).

    python tests/data/bad/generate.py OUT_DIR      # writes every generated case into OUT_DIR

Each function writes one backup, streaming, and is named in ``cases.toml`` (``generate = "..."``)
beside the expected outcome. The tests call them into a temporary directory.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ENVELOPE = ('{\n  "version": 14,\n  "versionName": "0014_add_performance_indexes",\n'
            '  "createdAt": "2026-01-06T21:14:03.512Z",\n  "createdBy": "admin@example.com",\n')
DEPTH = 100_000
FIFTY_MB = 50 * 1024 * 1024
PIECE = 'ab\\"c\\\\ é\\u00e9 '  # JSON text of the 12 characters: ab"c\ éé + space
PIECE_CHARS = len(json.loads('"' + PIECE + '"'))


def user(i: int, **extra) -> str:
    row = {"id": f"00000000-0000-4000-8000-{i:012d}", "name": f"User {i}", "email": f"u{i}@example.com",
           "emailVerified": 0, "role": "user", "approved": 1, "age_verified": 1, "tos_accepted": 0,
           "created_at": "2026-01-03 12:00:00", "updated_at": "2026-01-04 12:00:00"}
    row.update(extra)
    return json.dumps(row, ensure_ascii=False)


def _backup(path: Path, users_text: list[str], *, extra_top: str = "") -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(ENVELOPE + extra_top + '  "tables": {\n    "users": [\n      ')
        for i, text in enumerate(users_text):
            if i:
                f.write(",\n      ")
            f.write(text)
        f.write("\n    ]\n  }\n}\n")


def string_50mb(path: Path) -> None:
    """users row 1: a name of 50 MiB of JSON text (quotes, backslashes, escapes and UTF-8 inside)."""
    repeat = FIFTY_MB // len(PIECE.encode())
    with open(path, "w", encoding="utf-8") as f:
        f.write(ENVELOPE + '  "tables": {\n    "users": [\n      ' + user(1) + ",\n      ")
        head = user(2, name="@@NAME@@")
        before, after = head.split('"@@NAME@@"')
        f.write(before + '"')
        block = PIECE * 4096
        for _ in range(repeat // 4096):
            f.write(block)
        f.write(PIECE * (repeat % 4096))
        f.write('"' + after + "\n    ]\n  }\n}\n")


def string_50mb_chars() -> int:
    """The length in characters of the generated 50 MB name (what PostgreSQL's length() returns)."""
    return FIFTY_MB // len(PIECE.encode()) * PIECE_CHARS


def nesting_100k_arrays_in_row(path: Path) -> None:
    """users row 1: a value nested 100,000 arrays deep."""
    _backup(path, [user(1), user(2).replace('"role"', '"prefs": ' + "[" * DEPTH + "]" * DEPTH + ', "role"'),
                   user(3)])


def nesting_100k_objects_in_row(path: Path) -> None:
    """users row 0: a value nested 100,000 objects deep."""
    _backup(path, [user(1).replace('"role"', '"prefs": ' + '{"a":' * DEPTH + "1" + "}" * DEPTH + ', "role"'),
                   user(2)])


def nesting_100k_in_envelope(path: Path) -> None:
    """A top-level key besides 'tables' nested 100,000 deep: not used, skipped over."""
    _backup(path, [user(1)], extra_top='  "meta": ' + "[" * DEPTH + "]" * DEPTH + ",\n")


def nesting_100k_unclosed(path: Path) -> None:
    """users row 0 opens 100,000 arrays and the file ends: truncated inside the row."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(ENVELOPE + '  "tables": {\n    "users": [\n      {"id": "a", "x": ' + "[" * DEPTH)


def integer_140000_digits(path: Path) -> None:
    """users row 1: an integer of 140,000 digits, more than PostgreSQL's numeric holds (131,072)."""
    _backup(path, [user(1), user(2, score="@@N@@").replace('"@@N@@"', "1" * 140_000)])


def no_rows(path: Path) -> None:
    """Every table a declaration maps, present and empty (the set follows the declarations)."""
    from d1pg.mapping import mapped_source_names

    tables = {name: [] for name in sorted(mapped_source_names())}
    with open(path, "w", encoding="utf-8") as f:
        f.write(ENVELOPE + '  "tables": ' + json.dumps(tables, indent=2).replace("\n", "\n  ") + "\n}\n")


GENERATORS = {f.__name__: f for f in (string_50mb, nesting_100k_arrays_in_row, nesting_100k_objects_in_row,
                                      nesting_100k_in_envelope, nesting_100k_unclosed, integer_140000_digits,
                                      no_rows)}


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    for name, generate in GENERATORS.items():
        generate(out / f"{name}.json")
        print(out / f"{name}.json")
