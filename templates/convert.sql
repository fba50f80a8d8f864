{#- Macros that render one column's conversion (contract §3, §4) as a SQL expression.
    `column` is a d1pg.mapping.Column; `raw` is the expression of its jsonb source value.
    Each renders exactly the fragment it stands for. -#}

{%- macro raw_of(column) -%}
{{ ('raw_' ~ column.target) | ident }}
{%- endmacro -%}

{#- The source value of a column in document `doc`: its key, else its older alias keys, read only
    when the key is absent (a key holding JSON null is present: `->` is SQL null only for an
    absent key), else, for derive rule alias_when, its first key when the second holds `equals`.
    contract-additions 4.4. -#}
{%- macro source_value(column, doc) -%}
{%- set when = column.derive if column.derive and column.derive.rule == 'alias_when' else none -%}
{%- if when -%}
coalesce(
    {{ doc }} -> {{ column.source | literal }},
    {% for alias in column.aliases %}
    {{ doc }} -> {{ alias | literal }},
    {% endfor %}
    case when {{ doc }} ->> {{ when.keys[1] | literal }} = {{ when.equals | literal }} then {{ doc }} -> {{ when.keys[0] | literal }} end
)
{%- elif column.aliases -%}
coalesce({{ doc }} -> {{ column.source | literal }}
{%- for alias in column.aliases %}, {{ doc }} -> {{ alias | literal }}{% endfor %})
{%- else -%}
{{ doc }} -> {{ column.source | literal }}
{%- endif -%}
{%- endmacro -%}

{#- The work column holding a key a derive rule reads. -#}
{%- macro key_of(key) -%}
{{ ('rawkey_' ~ key) | ident }}
{%- endmacro -%}

{#- Whether a row's value of a column read an older key: the id of id_of_key, or alias_when's key. -#}
{%- macro read_alias(column, doc) -%}
{%- if column.derive.rule == 'alias_when' -%}
{{ doc }} -> {{ column.source | literal }} is null
and {{ doc }} ->> {{ column.derive.keys[1] | literal }} = {{ column.derive.equals | literal }}
and {{ doc }} ? {{ column.derive.keys[0] | literal }}
{%- else -%}
{{ doc }} -> {{ column.source | literal }} is null
and {{ doc }} ? {{ column.derive.keys[0] | literal }}
{%- endif -%}
{%- endmacro -%}

{#- A missing value of a column with a now() default: contract §4's deterministic fill, never the
    clock. created_at takes the row's own converted updated_at when the source has one, anything
    else the backup's createdAt. `c` is the converted row, `ctx` transform_context. -#}
{%- macro clock_fill(column, source) -%}
{%- if column.target == 'created_at' and source.columns | selectattr('target', 'equalto', 'updated_at') | selectattr('source') | list -%}
coalesce(c.updated_at, ctx.backup_created_at)
{%- else -%}
ctx.backup_created_at
{%- endif -%}
{%- endmacro -%}

{#- The value a column takes in the target row, from the converted row `c` (contract §4 and
    contract-additions 4.1): a derived value from the final value it is derived from; a missing
    value of a NOT NULL column its constant default, else the clock fill; a column without a source
    its constant default, else the clock fill, else NULL; a nullable column's missing value NULL. -#}
{%- macro final_value(column, source) -%}
{%- set value = 'c.' ~ (column.target | ident) -%}
{%- if column.derive and column.derive.rule not in ('id_of_key', 'alias_when') -%}
{{ derived_value(column, source) }}
{%- elif column.kind == 'verified' -%}
case
    when migration.to_boolean(c.{{ raw_of(column) }})
        then {{ final_value(source.column('created_at'), source) }}
    else {{ value }}
end
{%- elif not column.source and column.default is not none -%}
{{ column.default | literal }}::{{ column.ddl_type }}
{%- elif not column.source and column.clock_fill -%}
{{ clock_fill(column, source) }}
{%- elif not column.source -%}
null::{{ column.ddl_type }}
{%- elif column.not_null and column.default is not none -%}
coalesce({{ value }}, {{ column.default | literal }})
{%- elif column.not_null and column.clock_fill -%}
coalesce({{ value }}, {{ clock_fill(column, source) }})
{%- else -%}
{{ value }}
{%- endif -%}
{%- endmacro -%}

{%- macro is_present(raw) -%}
{{ raw }} <> 'null'::jsonb
{%- endmacro -%}

{%- macro is_structured(raw) -%}
jsonb_typeof({{ raw }}) in ('boolean', 'object', 'array')
{%- endmacro -%}

{%- macro convert_base(column, raw, source_table, ref_sources) -%}
{%- if column.kind == 'id' -%}
migration.to_id({{ raw }}, {{ source_table | literal }})
{%- elif column.kind == 'ref' and not column.is_key_ref -%}
migration.to_id({{ raw }}, {{ ref_sources[column.ref_table] | literal }})
{%- elif column.kind == 'ref' -%}
nullif(migration.scalar_text({{ raw }}), '')
{%- elif column.kind == 'text' and column.value_map -%}
case migration.scalar_text({{ raw }})
{% for old, new in column.value_map.items() %}
    when {{ old | literal }} then {{ new | literal }}
{% endfor %}
    else migration.scalar_text({{ raw }})
end
{%- elif column.kind == 'text' -%}
migration.scalar_text({{ raw }})
{%- elif column.kind == 'boolean' -%}
migration.to_boolean({{ raw }})
{%- elif column.kind == 'integer' -%}
migration.to_int4({{ raw }})
{%- elif column.kind == 'bigint' -%}
migration.to_int8({{ raw }})
{%- elif column.kind == 'timestamp' -%}
migration.to_timestamptz({{ raw }})
{%- elif column.kind == 'date' -%}
migration.to_date({{ raw }})
{%- elif column.kind == 'json' -%}
case
    when jsonb_typeof({{ raw }}) = 'string'
        then migration.to_jsonb_text(nullif({{ raw }} #>> '{}', ''))
    when jsonb_typeof({{ raw }}) <> 'null' then {{ raw }}
end
{%- elif column.kind == 'text_list' -%}
migration.to_text_list({{ raw }})
{%- elif column.kind == 'real' -%}
migration.to_float4({{ raw }})
{%- elif column.kind == 'double' -%}
migration.to_float8({{ raw }})
{%- elif column.kind == 'uuid' -%}
case
    when migration.is_uuid_text(migration.scalar_text({{ raw }}))
        then lower(migration.scalar_text({{ raw }}))::uuid
end
{%- elif column.kind == 'name_uuid' -%}
case
    when migration.is_uuid_text(migration.scalar_text({{ raw }}))
        then lower(migration.scalar_text({{ raw }}))::uuid
    when migration.scalar_text({{ raw }}) <> ''
        then migration.name_uuid({{ (column.name_prefix ~ ':') | literal }} || migration.scalar_text({{ raw }}))
end
{%- elif column.kind == 'verified' -%}
case
    when migration.to_boolean({{ raw }}) is null
        then migration.to_timestamptz({{ raw }})
end
{%- endif -%}
{%- endmacro -%}

{#- The reason a present source value cannot be converted, or null. `value` is the converted column.
    An absent key and JSON null are both "no value" (§4); `is_present` is null for an absent key,
    which a WHEN treats as false. -#}
{%- macro conversion_error(column, raw, value) -%}
{% if column.kind == 'id' %}
case
    when {{ value }} is null and {{ is_structured(raw) }} then 'invalid_id'
    when {{ value }} is null then 'missing_id'
end
{% elif column.kind == 'ref' and not column.is_key_ref or column.kind == 'name_uuid' %}
case
    when {{ is_structured(raw) }} then 'invalid_id'
end
{% elif column.kind == 'uuid' %}
case
    when {{ value }} is null and {{ is_present(raw) }} and {{ raw }} <> '""'::jsonb
        then 'invalid_id'
end
{% elif column.kind in ('text', 'ref') %}
case
    when {{ is_structured(raw) }} then 'invalid_text'
    when
        jsonb_typeof({{ raw }}) = 'number'
        and migration.scalar_text({{ raw }}) is null
        then 'out_of_range'
end
{% elif column.kind in ('integer', 'bigint') %}
case
    when {{ value }} is not null then null
    when
        {{ is_present(raw) }}
        and migration.to_integer({{ raw }}) is null
        then 'invalid_integer'
    when {{ is_present(raw) }} then 'out_of_range'
end
{% elif column.kind == 'verified' %}
case
    when {{ value }} is not null then null
    when {{ is_present(raw) }} and migration.to_boolean({{ raw }}) is null
        then 'invalid_timestamp'
end
{% elif column.kind in ('boolean', 'timestamp', 'date') %}
case
    when {{ is_present(raw) }} and {{ value }} is null
        then 'invalid_{{ column.kind }}'
end
{% elif column.kind == 'json' %}
case
    when
        jsonb_typeof({{ raw }}) = 'string'
        and {{ raw }} #>> '{}' <> ''
        and {{ value }} is null
        then 'invalid_json'
end
{% elif column.kind == 'text_list' %}
case
    when {{ value }} is not null then null
    when
        jsonb_typeof({{ raw }}) = 'string'
        and ltrim({{ raw }} #>> '{}', E' \t\n\r') like '[%'
        and migration.list_json({{ raw }}) is null
        then 'invalid_json'
    when
        {{ is_present(raw) }}
        and {{ raw }} <> '""'::jsonb
        and btrim({{ raw }} #>> '{}', E' \t\n\r') <> 'null'
        then 'check_violation'
end
{% elif column.kind in ('real', 'double') %}
case
    when {{ value }} is not null then null
    when
        {{ is_present(raw) }}
        and migration.number_text({{ raw }}) is null
        then 'invalid_number'
    when {{ is_present(raw) }} then 'out_of_range'
end
{% endif %}
{%- endmacro -%}

{#- The reason a converted value breaks the column's NOT NULL or CHECK, or nothing at all. -#}
{%- macro constraint_error(column, value) -%}
{% if column.not_null or column.allowed or column.between or column.at_least is not none %}
case
{% if column.not_null %}
    when {{ value }} is null then 'null_not_allowed'
{% endif %}
{% if column.allowed %}
    when {{ value }} not in ({% for v in column.allowed %}{{ v | literal }}{{ ", " if not loop.last }}{% endfor %})
        then 'check_violation'
{% endif %}
{% if column.between %}
    when {{ value }} not between {{ column.between[0] | literal }} and {{ column.between[1] | literal }}
        then 'check_violation'
{% endif %}
{% if column.at_least is not none %}
    when {{ value }} < {{ column.at_least | literal }} then 'check_violation'
{% endif %}
end
{% endif %}
{%- endmacro -%}

{#- The first reason one column fails (conversion, a derive rule's key, then NOT NULL / CHECK), or
    nothing when it cannot fail. -#}
{%- macro column_error(column, raw, value, final) -%}
{%- set parts = [] -%}
{%- if column.source -%}{%- set _ = parts.append(conversion_error(column, raw, value) | trim) -%}{%- endif -%}
{%- set _ = parts.append(derive_error(column) | trim) -%}
{%- set _ = parts.append(constraint_error(column, final) | trim) -%}
{%- set parts = parts | select | list -%}
{%- if parts | length > 1 -%}
coalesce(
{% for part in parts %}
    {{ part | indent(4) }}{{ "," if not loop.last }}
{% endfor %}
)
{%- else -%}
{{ parts | join }}
{%- endif -%}
{%- endmacro -%}

{#- A derived value (all-tables.md G7, contract-additions 4.5) from the converted row `c`. A rule
    beside a source key fills in when the source value is missing; quest_status overrides it. -#}
{%- macro derived_value(column, source) -%}
{%- set d = column.derive -%}
{%- set value = 'c.' ~ (column.target | ident) -%}
{%- if d.rule == 'utc_date' -%}
({{ final_value(source.column(d.of), source) }} at time zone 'UTC')::date
{%- elif d.rule == 'copy' -%}
{{ final_value(source.column(d.of), source) }}
{%- elif d.rule == 'source_id' -%}
coalesce({{ value }}, c.source_id)
{%- elif d.rule == 'first_line' -%}
coalesce(
    {{ value }},
    left(split_part(split_part({{ final_value(source.column(d.of), source) }}, E'\n', 1), E'\r', 1), {{ d.max }})
)
{%- elif d.rule == 'object' -%}
nullif(jsonb_strip_nulls(jsonb_build_object(
    {% for key in d.keys %}
    {{ key | literal }}, migration.scalar_text(c.{{ key_of(key) }}){{ "," if not loop.last }}
    {% endfor %}
)), '{}'::jsonb)
{%- elif d.rule == 'purchase_status' -%}
case
    when
        {{ final_value(source.column(d.of), source) }} is not null
        or coalesce(migration.to_boolean(c.{{ key_of(d.keys[0]) }}), false)
        then 'redeemed'
    else 'purchased'
end
{%- elif d.rule == 'quest_status' -%}
case
    when
        coalesce(migration.to_boolean(c.{{ key_of(d.keys[0]) }}), false)
        and coalesce({{ value }}, '') <> 'claimed'
        then 'completed'
    else {{ ('coalesce(' ~ value ~ ', ' ~ (column.default | literal) ~ ')') if column.default is not none else value }}
end
{%- elif d.rule == 'onboarding_status' -%}
coalesce(
    {{ value }},
    case
        when coalesce(migration.to_boolean(c.{{ key_of(d.keys[0]) }}), false) then 'completed'
        when coalesce(migration.to_boolean(c.{{ key_of(d.keys[1]) }}), false) then 'skipped'
        when coalesce(migration.to_int4(c.{{ key_of(d.keys[2]) }}), 0) > 0 then 'in_progress'
        else 'not_started'
    end
)
{%- endif -%}
{%- endmacro -%}

{#- Whether a derived column's final value was derived in this row (the report counts these as
    value changes with their rule, contract-additions §9), from the completed row `m`. -#}
{%- macro derived_flag(column) -%}
{%- set d = column.derive -%}
{%- set value = 'm.' ~ (column.target | ident) -%}
{%- set final = 'm.' ~ (('final_' ~ column.target) | ident) -%}
{%- if d.rule in ('id_of_key', 'alias_when') -%}
m.{{ ('alias_read_' ~ column.target) | ident }}
{%- elif d.rule == 'quest_status' -%}
{{ final }} <> {{ ('coalesce(' ~ value ~ ', ' ~ (column.default | literal) ~ ')') if column.default is not none else value }}
{%- elif column.source -%}
{{ value }} is null and {{ final }} is not null
{%- else -%}
{{ final }} is not null
{%- endif -%}
{%- endmacro -%}

{#- The reason a derive rule's own source keys fail: quest_status reads a boolean. -#}
{%- macro derive_error(column) -%}
{%- if column.derive and column.derive.rule == 'quest_status' -%}
case
    when
        {{ is_present('m.' ~ key_of(column.derive.keys[0])) }}
        and migration.to_boolean(m.{{ key_of(column.derive.keys[0]) }}) is null
        then 'invalid_boolean'
end
{%- endif -%}
{%- endmacro -%}