{#- On Spark the sources are the open layout the cycle's `lake` step writes (pipelines/warehouse/lake.py):
    each source table becomes an external Parquet table over its folder, with the columns and types the
    generated _sources.yml declares (the contracts), read recursively so the Hive folders below
    (period=, enterprise_id=, submission_id=) add no columns. A folder that does not exist yet (no filer
    sent that filing type) reads as an empty table. Run on start of every dbt invocation on Spark
    (dbt_project.yml on-run-start); a no-op on DuckDB, where the sources are the warehouse's own schemas.
    The layout's root: env SUPTECH_LAKE_RAW (<home>/lake/raw). -#}
{% macro register_lake_sources() -%}
    {%- if target.type != 'spark' or not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set root = env_var('SUPTECH_LAKE_RAW') -%}
    {%- set statements = [] -%}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
        {%- if node.source_name == 'raw' -%}
            {%- set folder = root ~ '/filing_type=' ~ node.name -%}
        {%- else -%}
            {%- set folder = root ~ '/' ~ node.source_name ~ '/' ~ node.name -%}
        {%- endif -%}
        {%- set columns = [] -%}
        {%- for column in node.columns.values() -%}
            {%- do columns.append('`' ~ column.name ~ '` ' ~ spark_column_type(column.data_type)) -%}
        {%- endfor -%}
        {%- do statements.append('create database if not exists ' ~ node.schema) -%}
        {%- do statements.append('drop table if exists ' ~ node.schema ~ '.' ~ node.name) -%}
        {%- do statements.append(
            'create table ' ~ node.schema ~ '.' ~ node.name ~ ' (' ~ columns | join(', ') ~ ') using parquet'
            ~ " options (recursiveFileLookup 'true') location '" ~ folder ~ "'") -%}
    {%- endfor -%}
    {%- for statement in statements -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}

{#- A warehouse column type (schema.py, the contracts) as Spark SQL declares it. -#}
{% macro spark_column_type(data_type) -%}
    {%- set t = (data_type or 'varchar') | lower | trim -%}
    {%- if t.endswith('[]') -%}array<{{ spark_column_type(t[:-2]) }}>
    {%- elif t in ('varchar', 'text', 'json') or t.startswith('varchar(') -%}string
    {%- elif t == 'timestamptz' or t.startswith('timestamp') -%}timestamp
    {%- elif t in ('hugeint', 'ubigint') -%}bigint
    {%- else -%}{{ t }}
    {%- endif -%}
{%- endmacro %}

{#- dbt's cast() on Spark reads the warehouse's type names (the contracts' data_type: varchar,
    timestamp with time zone, ...) as Spark's, so the enforced model contracts hold on both engines. -#}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ spark_column_type(type) }})
{%- endmacro %}
