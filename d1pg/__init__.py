"""d1pg: move a Cloudflare D1 admin backup into PostgreSQL, SQL-first, with every row accounted for."""

__version__ = "0.1.0"
