"""The packages of the wheel: every package under d1pg/ (found, so a new one ships without a list
to update), plus the repository's top-level sql/ and templates/, which the wheel carries as
d1pg/sql and d1pg/templates (package-dir and package-data in pyproject.toml). Everything else is
in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py


class FreshBuildPy(build_py):
    """Copy into an empty ``build/lib/d1pg``: setuptools never removes what an earlier build of the
    checkout left there, so a SQL step deleted since would still ship, and run."""

    def run(self):
        shutil.rmtree(Path(self.build_lib) / "d1pg", ignore_errors=True)
        super().run()


setup(
    packages=[*find_packages(include=["d1pg", "d1pg.*"]), "d1pg.sql", "d1pg.templates"],
    cmdclass={"build_py": FreshBuildPy},
)
