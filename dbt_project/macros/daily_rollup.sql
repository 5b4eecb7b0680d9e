{#- Helpers of the daily indicators (RES, SEG-001, LIQ): working days and the monthly roll-up of daily
    rows (indicators.md: "daily indicators are also rolled up to the month (worst day and average)"). -#}

{#- True on a working day: the day's is_working_day in the seed business_calendar (China's holidays and
    make-up working weekends; the same CSV pipelines/business_calendar.py reads for the generator), and
    Monday to Friday for a day outside the seed. The seed's columns are renamed inside the subquery so
    that an unqualified `day` in date_expr still means the caller's column. Change it here only. -#}
{% macro is_working_day(date_expr) -%}
    coalesce(
        (select max(calendar_days.calendar_is_working)
            from (select day as calendar_day, is_working_day as calendar_is_working
                  from {{ ref('business_calendar') }}) as calendar_days
            where calendar_days.calendar_day = cast({{ date_expr }} as date)),
        {{ iso_dow(date_expr) }} between 1 and 5
    )
{%- endmacro %}

{#- Severity rank of a status, to pick the most severe of several rows. -#}
{% macro status_rank(status) -%}
    (case {{ status }}
        when 'BREACH' then 5 when 'WARN' then 4 when 'INSUFFICIENT_DATA' then 3
        when 'OK' then 2 when 'INFO' then 1 else 0
    end)
{%- endmacro %}

{#- The monthly roll-up of the daily rows in CTE `daily` (the long-format columns, as_of_date set, one
    row per day and dimension value): per enterprise x period, metric `<metric>_worst_day` holding the
    worst scored day - the most severe status first, then the worst value (`worst` = 'min' when low is
    bad, 'max' when high is bad) - with its value, numerator, denominator and threshold, its status, and as evidence the worst day and the
    flagged days (with their dimension value, e.g. the account) - and metric `<metric>_avg` (INFO), the
    average of the scored daily values. Rows where no day could be scored are NOT_APPLICABLE, or
    INSUFFICIENT_DATA when some day lacked data. -#}
{% macro daily_rollup(daily, metric, worst='min') -%}
{%- set scored = "('OK', 'INFO', 'WARN', 'BREACH')" -%}
{%- set day_text = "cast(as_of_date as " ~ dbt.type_string() ~ ")" -%}
{%- set day_label = day_text ~ " || coalesce(' ' || dimension_value, '')" -%}
(
    with

    rollup_ranked as (
        select
            *,
            row_number() over (
                partition by enterprise_id, period
                order by case when status in {{ scored }} then {{ status_rank('status') }} else 0 end desc,
                    value {{ 'asc' if worst == 'min' else 'desc' }}, as_of_date, dimension_value
            ) as worst_rank
        from {{ daily }}
    ),

    rollup_summary as (
        select
            enterprise_id,
            period,
            max(indicator_id) as indicator_id,
            max({{ status_rank('status') }}) as top_rank,
            sum(case when status in {{ scored }} then 1 else 0 end) as scored_days,
            sum(case when status in {{ scored }} then value end) as sum_of_values,
            sum(case when status in ('BREACH', 'WARN') then 1 else 0 end) as flagged_days,
            sum(case when status = 'INSUFFICIENT_DATA' then 1 else 0 end) as insufficient_days,
            {{ dbt.listagg("case when status in ('BREACH', 'WARN') then " ~ day_label ~ " end", "', '", "order by as_of_date, dimension_value") }} as flagged_list
        from rollup_ranked
        group by 1, 2
    ),

    rollup_worst as (
        select
            rollup_summary.enterprise_id,
            rollup_summary.period,
            rollup_summary.indicator_id,
            '{{ metric }}_worst_day' as metric,
            cast(null as date) as as_of_date,
            cast(null as {{ dbt.type_string() }}) as dimension,
            cast(null as {{ dbt.type_string() }}) as dimension_value,
            case when rollup_summary.scored_days > 0 then rollup_ranked.value end as value,
            case when rollup_summary.scored_days > 0 then rollup_ranked.numerator end as numerator,
            case when rollup_summary.scored_days > 0 then rollup_ranked.denominator end as denominator,
            case when rollup_summary.scored_days > 0 then rollup_ranked.threshold end as threshold,
            case
                when rollup_summary.top_rank = 5 then 'BREACH'
                when rollup_summary.top_rank = 4 then 'WARN'
                when rollup_summary.insufficient_days > 0 then 'INSUFFICIENT_DATA'
                when rollup_summary.scored_days = 0 then 'NOT_APPLICABLE'
                when rollup_summary.top_rank = 2 then 'OK'
                else 'INFO'
            end as status,
            case
                when rollup_summary.scored_days > 0
                    then 'worst day ' || cast(rollup_ranked.as_of_date as {{ dbt.type_string() }})
                    || coalesce(' ' || rollup_ranked.dimension_value, '')
                else 'no day to score'
            end
            || case
                when rollup_summary.flagged_days > 0
                    then '; ' || cast(rollup_summary.flagged_days as {{ dbt.type_string() }})
                    || ' day(s) flagged: ' || rollup_summary.flagged_list
                else ''
            end
            || case
                when rollup_summary.insufficient_days > 0
                    then '; ' || cast(rollup_summary.insufficient_days as {{ dbt.type_string() }})
                    || ' day(s) without data'
                else ''
            end as evidence
        from rollup_summary
        inner join rollup_ranked
            on rollup_summary.enterprise_id = rollup_ranked.enterprise_id
            and rollup_summary.period = rollup_ranked.period
            and rollup_ranked.worst_rank = 1
    ),

    rollup_average as (
        select
            enterprise_id,
            period,
            indicator_id,
            '{{ metric }}_avg' as metric,
            cast(null as date) as as_of_date,
            cast(null as {{ dbt.type_string() }}) as dimension,
            cast(null as {{ dbt.type_string() }}) as dimension_value,
            sum_of_values / nullif(scored_days, 0) as value,
            sum_of_values as numerator,
            cast(scored_days as {{ type_double() }}) as denominator,
            cast(null as {{ type_double() }}) as threshold,
            case when scored_days = 0 then 'NOT_APPLICABLE' else 'INFO' end as status,
            'average of ' || cast(scored_days as {{ dbt.type_string() }}) || ' daily value(s)' as evidence
        from rollup_summary
    )

    select * from rollup_worst
    union all
    select * from rollup_average
)
{%- endmacro %}
