"""The Jinja filters of d1pg.render, for sqlfluff's jinja templater (``library_path``)."""

from d1pg.identifiers import ident, literal

SQLFLUFF_JINJA_FILTERS = {"ident": ident, "literal": literal}
