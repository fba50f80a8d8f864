{#- Macros that write a declared target table (d1pg.mapping.Table) as DDL, the way the app's own
    migration files state it: inline primary key, NOT NULL, DEFAULT, CHECK and REFERENCES, then
    the table's UNIQUE constraints. Constraint names are PostgreSQL's defaults, as in the app. -#}

{%- macro column_default(column) -%}
{%- if column.default_sql -%}
{{ column.default_sql }}
{%- elif column.default is not none -%}
{{ column.default | literal }}
{%- endif -%}
{%- endmacro -%}

{%- macro column_check(column) -%}
{%- set name = column.target | ident -%}
{%- set null = name ~ ' is null or (' if column.check_null else '' -%}
{%- set close = ')' if column.check_null else '' -%}
{%- if column.allowed -%}
check ({{ null }}{{ name }} in ({% for v in column.allowed %}{{ v | literal }}{{ ", " if not loop.last }}{% endfor %}){{ close }})
{%- elif column.between -%}
check ({{ null }}{{ name }} >= {{ column.between[0] | literal }} and {{ name }} <= {{ column.between[1] | literal }}{{ close }})
{%- elif column.at_least is not none -%}
check ({{ null }}{{ name }} >= {{ column.at_least | literal }}{{ close }})
{%- endif -%}
{%- endmacro -%}

{#- One column's definition. `references` false leaves the foreign key out (a temporary copy). -#}
{%- macro column_definition(column, target_schema, references=true) -%}
{%- set head -%}
{{ column.target | ident }} {{ column.ddl_type }}
{%- if column.primary_key %} primary key{% endif %}
{%- if column.not_null and not column.primary_key %} not null{% endif %}
{%- if column_default(column) %} default {{ column_default(column) }}{% endif %}
{%- endset -%}
{{ head }}
{%- if column_check(column) %}{{ "\n" if (head ~ column_check(column)) | length > 100 else " " }}{{ column_check(column) }}{% endif %}
{%- if references and column.ref_table and column.foreign_key %}
 references {{ target_schema | ident }}.{{ column.ref_table | ident }} ({{ column.ref_column | ident }}) on delete {{ column.on_delete }}
{%- endif -%}
{%- endmacro -%}

{#- The body of `create table`: columns, then unique constraints, one per line. -#}
{%- macro table_body(table, target_schema, references=true) -%}
{%- set unique_constraints = table.unique | selectattr('index', 'none') | list -%}
{%- for column in table.columns -%}
{{ column_definition(column, target_schema, references) }}{{ ",\n" if not loop.last or unique_constraints }}
{%- endfor -%}
{%- for key in unique_constraints -%}
unique ({% for c in key.columns %}{{ c | ident }}{{ ", " if not loop.last }}{% endfor %}){{ ",\n" if not loop.last }}
{%- endfor -%}
{%- endmacro -%}

{%- macro index_name(table, index) -%}
{{ (index.name or (table.name ~ '_' ~ (index.column_names | join('_')) ~ '_idx')) | ident }}
{%- endmacro -%}

{%- macro index_columns(index) -%}
{%- for column in index.columns -%}
{{ column.split()[0] | ident }}{{ ' desc' if column.split() | length > 1 }}{{ ", " if not loop.last }}
{%- endfor -%}
{%- endmacro -%}
