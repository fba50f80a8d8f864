"""``invoke mutants``: break one rule at a time in a copy of the checkout and run the tests that must
notice (the catalogue is ``tests/mutants.toml``).

Each mutant replaces one exact text (found exactly once) in one file of a temporary copy; the tests
named for it then run in that copy against one PostgreSQL server of its own (embedded, under
``.d1pg/mutants-pgdata``, or ``DATABASE_URL``). The mutant is *caught* when those tests fail, and
*missed* when they pass. First the same tests run once on the unchanged copy and must pass, so a
catch is the mutant's doing. Prints a table; a missed mutant raises :class:`CheckFailed` (exit 1).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from d1pg import console
from d1pg.config import external_database_url
from d1pg.db import embedded_url
from d1pg.errors import CheckFailed, InputError

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "tests" / "mutants.toml"


@dataclass(frozen=True)
class Mutant:
    name: str
    rule: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]


def catalogue(path: Path = CATALOGUE) -> list[Mutant]:
    """The mutants of the catalogue, each checked: its file exists and its text is found once."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, entry in enumerate(data.get("mutant", []), 1):
        try:
            mutant = Mutant(entry["name"], entry["rule"], entry["file"], entry["old"], entry["new"],
                            tuple(entry["tests"]))
        except KeyError as exc:
            raise InputError(f"{path.name}: mutant {i} has no {exc.args[0]}") from None
        text = (ROOT / mutant.file).read_text(encoding="utf-8")
        if text.count(mutant.old) != 1:
            raise InputError(f"{path.name}: mutant {mutant.name!r}: its text is found {text.count(mutant.old)} times"
                             f" in {mutant.file}, not once")
        if mutant.old == mutant.new:
            raise InputError(f"{path.name}: mutant {mutant.name!r} changes nothing")
        out.append(mutant)
    return out


def _copy(into: Path) -> Path:
    """The checkout's tracked and new files (not the ignored ones) in ``into/repo``, with the spec beside
    it as ``../shared``, as in the checkout."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    repo = into / "repo"
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    shared = ROOT.parent / "shared"
    if shared.exists():
        (into / "shared").symlink_to(shared.resolve())
    return repo


def _pytest(repo: Path, tests: tuple[str, ...], url: str) -> tuple[int, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {
        "DATABASE_URL": url, "PYTHONPATH": str(repo)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                          cwd=repo, env=env, capture_output=True, text=True)
    return done.returncode, time.perf_counter() - started


def mutants(names: tuple[str, ...] = (), progress: bool | None = None) -> int:
    """Run the catalogue (or the mutants whose name contains one of ``names``); return how many were missed."""
    chosen = [m for m in catalogue() if not names or any(n in m.name for n in names)]
    if not chosen:
        raise InputError("no mutant matches " + ", ".join(names))
    url = external_database_url(None) or embedded_url(ROOT / ".d1pg" / "mutants-pgdata")
    rows, missed = [], 0
    with tempfile.TemporaryDirectory(prefix="d1pg-mutants-") as tmp:
        repo = _copy(Path(tmp))
        tests = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
        code, seconds = _pytest(repo, tests, url)
        if code != 0:
            raise InputError(f"the catalogue's tests fail without any mutant (pytest exit {code} after"
                             f" {seconds:.0f} s); fix them first: python -m pytest " + " ".join(tests))
        with console.byte_progress("mutants", len(chosen), progress) as update:
            for i, m in enumerate(chosen):
                update(i, f"mutant: {m.name}")
                path = repo / m.file
                original = path.read_text(encoding="utf-8")
                path.write_text(original.replace(m.old, m.new), encoding="utf-8")
                try:
                    code, seconds = _pytest(repo, m.tests, url)
                finally:
                    path.write_text(original, encoding="utf-8")
                caught = code not in (0, 5)  # 5: no test collected, which proves nothing
                missed += not caught
                rows.append([m.name, m.rule, m.file, f"{seconds:.0f}",
                             "caught" if caught else "MISSED" if code == 0 else "NO TESTS"])
    console.show(console.table("Mutants", ["mutant", "rule", "file", "s", "result"], rows, right={3}))
    console.say(f"mutants: {len(chosen) - missed} of {len(chosen)} caught")
    if missed:
        raise CheckFailed(f"mutants: {missed} of {len(chosen)} not caught: "
                          + "; ".join(r[0] for r in rows if r[-1] != "caught"))
    return 0
