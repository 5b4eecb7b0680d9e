-- OPS-002 Incident reporting timeliness (all types, monthly), over the incidents detected in the period
-- (Shanghai date of detected_at). A reportable incident is an unplanned outage longer than
-- reportable_outage_minutes, one with records_leaked above reportable_records_leaked, or one of severity
-- major or critical. late_reported_incidents: reportable incidents reported (reported_at) more than
-- max_report_hours after detected_at, or not reported although that deadline passed by the period end;
-- BREACH above max_late_reports. max_report_delay_hours (INFO): the longest delay of a reported one.
{%- set indicator_id = 'OPS-002' %}

with

enterprise_periods as (
    select
        *,
        {{ dbt.dateadd('day', 1, 'cast(period_end as timestamp)') }} as period_to
    from {{ ref('int_enterprise_periods') }}
),

incidents as (
    select * from {{ ref('stg_filings__incidents') }}
),

judged as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        incidents.incident_id,
        {{ dbt.datediff(
            'incidents.detected_at',
            'incidents.reported_at',
            'second'
        ) }} / 3600.0 as delay_hours,
        (incidents.incident_type = 'outage' and not incidents.planned
            and {{ compare(
                    minutes_between(
                        local_timestamp('incidents.started_at'),
                        'coalesce(' ~ local_timestamp('incidents.ended_at') ~ ', enterprise_periods.period_to)'
                    ),
                    'reportable_outage_minutes'
                ) }})
        or coalesce({{ compare('incidents.records_leaked', 'reportable_records_leaked') }}, false)
        or incidents.severity in ('major', 'critical') as reportable,
        case
            when incidents.reported_at is not null
                then {{ compare(
                        dbt.datediff('incidents.detected_at', 'incidents.reported_at', 'second') ~ ' / 3600.0',
                        'max_report_hours'
                    ) }}
            else {{ compare(
                    dbt.datediff(local_timestamp('incidents.detected_at'), 'enterprise_periods.period_to', 'second')
                      ~ ' / 3600.0',
                    'max_report_hours'
                ) }}
        end as late
    from enterprise_periods
    inner join incidents
        on enterprise_periods.submission_id = incidents.submission_id
        and incidents.detected_date_sh between enterprise_periods.period_start and enterprise_periods.period_end
    {{ join_threshold(
        'reportable_outage_minutes',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
    {{ join_threshold(
        'reportable_records_leaked',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
    {{ join_threshold(
        'max_report_hours',
        indicator=indicator_id,
        ent_type='enterprise_periods.ent_type',
        on_date='enterprise_periods.period_end'
    ) }}
),

counts as (
    select
        enterprise_id,
        period,
        sum(case when reportable then 1 else 0 end) as reportable,
        sum(case when reportable and late then 1 else 0 end) as late,
        max(case when reportable then delay_hours end) as max_delay_hours,
        {{ dbt.listagg(
            "case when reportable and late then incident_id || coalesce(' reported after ' || "
              ~ num_text('delay_hours', 1)
              ~ " || ' h', ' not reported') end",
            "', '",
            "order by incident_id",
            10
        ) }}
            as late_incidents
    from judged
    group by 1, 2
),

measures as (
    select
        enterprise_periods.enterprise_id,
        enterprise_periods.period,
        enterprise_periods.ent_type,
        enterprise_periods.period_end,
        coalesce(counts.reportable, 0) as reportable,
        coalesce(counts.late, 0) as late,
        counts.max_delay_hours,
        counts.late_incidents
    from enterprise_periods
    left join counts
        on enterprise_periods.enterprise_id = counts.enterprise_id
        and enterprise_periods.period = counts.period
),

unioned as (
    {%- set row_value %}
        cast(measures.late as {{ type_double() }})
    {%- endset %}
    {%- set row_evidence %}
        cast(measures.late as {{ dbt.type_string() }}) || ' of ' || cast(measures.reportable as {{ dbt.type_string() }})
        || ' reportable incident(s) reported late' || coalesce(': ' || measures.late_incidents, '')
    {%- endset %}
    select
        {{ indicator_row(indicator_id, 'late_reported_incidents', value=row_value, numerator='measures.late',
                         denominator='1', status=threshold_status('measures.late', 'max_late_reports'),
                         threshold='max_late_reports.value', evidence=row_evidence,
                         enterprise_id='measures.enterprise_id', period='measures.period') }}
    from measures
    {{ join_threshold('max_late_reports', indicator=indicator_id, ent_type='measures.ent_type', on_date='measures.period_end') }}
    union all
    select
        enterprise_id,
        period,
        '{{ indicator_id }}',
        'max_report_delay_hours',
        cast(null as date),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        max_delay_hours as value,
        max_delay_hours as numerator,
        1 as denominator,
        cast(null as {{ type_double() }}),
        case when max_delay_hours is null then 'NOT_APPLICABLE' else 'INFO' end,
        cast(reportable as {{ dbt.type_string() }}) || ' reportable incident(s) detected in the period'
    from measures
)

{{ indicator_rows('unioned') }}
