"""The packages of the wheel: every package under d1pg/ (found, so a new one ships without a list
to update), plus the repository's top-level sql/ and templates/, which the wheel carries as
d1pg/sql and d1pg/templates (package-dir and package-data in pyproject.toml). Everything else is
in pyproject.toml."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["d1pg", "d1pg.*"]), "d1pg.sql", "d1pg.templates"])
