{#- Incremental models by enterprise x period (docs/operations.md, "Incremental dbt builds").

    A model whose rows belong to one enterprise x period and whose values depend only on that
    enterprise's filings is built with `partition_materialization()`: on DuckDB an incremental table
    that, in each run, deletes and rebuilds only the partitions of `int_partitions_to_rebuild` (a view:
    the partitions whose current version changed since the last complete build, closed over what
    depends on them; empty after every complete build); on any other adapter (Spark) a table rebuilt
    whole. The model adds
        -- depends_on: {{ ref('int_partitions_to_rebuild') }}
    reads its source through `rebuilt_partitions(relation)` and sets
    `pre_hook="{{ delete_rebuilt_partitions() }}"` (a string: the hook renders when the model runs).

    After a run in which every incremental model was built, `record_built_partitions(results)` (on-run-end)
    stores the current version of every partition and the project's fingerprint in schema dbt_state, with
    the incremental models' tables and, numbered by build, the partitions the run rebuilt (a row of nulls:
    all of them, a full refresh) - what publishing applies to the auditors' snapshot
    (pipelines/warehouse/auditor_slots.py); the
    cycle (pipelines/dbt_runner.py) runs `dbt build --full-refresh` when that state is missing or the
    project changed, so a changed model, macro or seed never leaves old rows behind. -#}

{% macro partition_materialization() -%}
    {{ return('incremental' if target.type == 'duckdb' else 'table') }}
{%- endmacro %}

{#- The partitions this run rebuilds, as a filtered select of `relation` (an enterprise x period model or
    CTE); `partitions`: the model listing them (int_aml_partitions_to_rebuild for the AML window screens). -#}
{% macro rebuilt_partitions(relation, partitions='int_partitions_to_rebuild') -%}
    select src.*
    from {{ relation }} as src
    {%- if is_incremental() %}
    inner join {{ ref(partitions) }} as rebuilt
        on src.enterprise_id = rebuilt.enterprise_id
        and src.period = rebuilt.period
    {%- endif %}
{%- endmacro %}

{% macro delete_rebuilt_partitions(partitions='int_partitions_to_rebuild') -%}
    {%- if is_incremental() -%}
    delete from {{ this }} as kept
    where exists (
        select 1 from {{ ref(partitions) }} as rebuilt
        where rebuilt.enterprise_id = kept.enterprise_id and rebuilt.period = kept.period
    )
    {%- endif -%}
{%- endmacro %}

{#- The party legs an AML window screen reads: in an incremental run, those of the enterprises it rebuilds
    booked from their input_from_day on (int_aml_partitions_to_rebuild). -#}
{% macro aml_window_legs() -%}
    select party_legs.*
    from {{ ref('int_aml_party_legs') }} as party_legs
    {%- if is_incremental() %}
    inner join (
        select distinct
            enterprise_id,
            input_from_day
        from {{ ref('int_aml_partitions_to_rebuild') }}
    ) as rebuilt
        on party_legs.enterprise_id = rebuilt.enterprise_id
        and party_legs.booked_date_sh >= rebuilt.input_from_day
    {%- endif %}
{%- endmacro %}

{#- The partitions recorded by the last complete build, on DuckDB (none elsewhere, and while parsing). -#}
{% macro built_partitions_relation() -%}
    {{ return('dbt_state.partitions_built' if execute and target.type == 'duckdb' else none) }}
{%- endmacro %}

{#- on-run-start: an empty record before the first complete build (every partition then counts as changed). -#}
{% macro prepare_built_partitions() -%}
    {%- if target.type == 'duckdb' -%}
    create schema if not exists dbt_state;
    create table if not exists dbt_state.partitions_built (enterprise_id varchar, period varchar, submission_id varchar)
    {%- endif -%}
{%- endmacro %}

{% macro record_built_partitions(results) -%}
    {%- if execute and target.type == 'duckdb' -%}
        {%- set incremental = [] -%}
        {%- set submissions = [] -%}
        {%- set rebuilt = [] -%}
        {%- set tables = [] -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
            {%- if node.config.materialized == 'incremental' -%}
                {%- do incremental.append(node.unique_id) -%}
                {%- do tables.append("('" ~ node.schema ~ "', '" ~ (node.alias or node.name) ~ "')") -%}
            {%- endif -%}
            {%- if node.name == 'stg_intake__submissions' -%}
                {%- do submissions.append(node.relation_name) -%}
            {%- endif -%}
            {%- if node.name == 'int_aml_partitions_to_rebuild' -%}
                {%- do rebuilt.append(node.relation_name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set built = [] -%}
        {%- for result in results if result.node.unique_id in incremental and result.status == 'success' -%}
            {%- do built.append(result.node.unique_id) -%}
        {%- endfor -%}
        {%- if incremental and built | length == incremental | length -%}
    create schema if not exists dbt_state;
    create table if not exists dbt_state.rebuilt_partitions (build_seq bigint, enterprise_id varchar, period varchar);
    insert into dbt_state.rebuilt_partitions
    select next_build.build_seq, rebuilt.enterprise_id, rebuilt.period
    from (select coalesce(max(build_seq), 0) + 1 as build_seq from dbt_state.rebuilt_partitions) as next_build
    cross join (
        {%- if flags.FULL_REFRESH %}
        select null::varchar as enterprise_id, null::varchar as period
        {%- else %}
        select distinct enterprise_id, period from {{ rebuilt[0] }}
        {%- endif %}
    ) as rebuilt
    order by rebuilt.enterprise_id, rebuilt.period;
    create or replace table dbt_state.incremental_models as
    select * from (values {{ tables | sort | join(', ') }}) as models (schema_name, table_name);
    create or replace table dbt_state.partitions_built as
    select enterprise_id, period, submission_id
    from {{ submissions[0] }}
    where is_current
    order by enterprise_id, period;
    create or replace table dbt_state.project as
    select '{{ var("project_fingerprint", "") }}' as fingerprint
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
