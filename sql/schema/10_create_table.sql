{% if proposed %}
-- proposed: no such table in the app's PostgreSQL schema
{% endif %}
-- Create the target table {{ table.name }} where it is missing, as the app's own migration files
-- define it: columns in their order, types, NOT NULL, defaults, primary key, CHECK, UNIQUE,
-- foreign keys with their ON DELETE, and indexes (contract-additions §0). No extension is needed.
-- Declared in d1pg/tables/{{ declaration }}; rendered per table by `invoke schema`, parents first.
-- Requires: the target schema {{ target_schema }} and the parent tables of its references.
create table if not exists {{ target_schema | ident }}.{{ table.name | ident }} (
    {{ table_body(table, target_schema) | indent(4) }}
);
{% for key in table.unique if key.index %}

create unique index if not exists {{ key.index | ident }}
on {{ target_schema | ident }}.{{ table.name | ident }} ({{ key.columns | map('ident') | join(', ') }});
{% endfor %}
{% for index in table.indexes %}

create index if not exists {{ index_name(table, index) }}
on {{ target_schema | ident }}.{{ table.name | ident }}
{%- if index.search %} using gin (to_tsvector({{ index.search[0] | literal }}, {{ index.search[1] | map('ident') | join(" || ' ' || ") }}))
{%- else %} ({{ index_columns(index) }})
{%- endif %}
{%- if index.where %}

where {% for column, condition in index.where %}{{ column | ident }} {{ condition }}{{ " and " if not loop.last }}{% endfor %}
{%- endif %};
{% endfor %}
