"""The mutation catalogue (tests/mutants.toml, `invoke mutants`) stays applicable: each mutant's text
is found exactly once in its file, and every value kind of the registry has a mutant. Running the
catalogue itself takes minutes (README, "Mutation catalogue"); this only keeps it from going stale."""

from __future__ import annotations

import pytest

from d1pg.errors import InputError
from d1pg.kinds import KINDS
from d1pg.mutants import catalogue


def test_every_mutant_applies_to_the_code_as_it_is():
    mutants = catalogue()
    assert len({m.name for m in mutants}) == len(mutants)
    assert all(m.tests for m in mutants)


def test_every_value_kind_has_a_mutant():
    rules = " ".join(m.rule for m in catalogue())
    assert [k for k in KINDS if f"kind {k})" not in rules and f"kinds {k}," not in rules] == []


def test_a_mutant_whose_text_is_gone_is_refused(tmp_path):
    path = tmp_path / "mutants.toml"
    path.write_text('[[mutant]]\nname = "x"\nrule = "r"\nfile = "d1pg/fates.py"\nold = "no such text"\n'
                    'new = "y"\ntests = ["tests"]\n')
    with pytest.raises(InputError, match="found 0 times"):
        catalogue(path)
