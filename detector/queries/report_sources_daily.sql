-- Events per log source and day of one period, every day of the period included (zero when nothing
-- arrived), for the data-health chart and CSV.
with days as (
    select cast(unnest(generate_series(cast($start as date), cast($end as date), interval 1 day)) as date) as day
),

sources as (
    select distinct source_kind, log_format from lake_events
    where day between cast($since as date) and cast($end as date)
),

counted as (
    select source_kind, log_format, day, count(*) as events
    from lake_events
    where day between $start and $end
    group by all
),

final as (
    select s.source_kind, s.log_format, d.day, coalesce(c.events, 0) as events
    from sources as s
    cross join days as d
    left join counted as c using (source_kind, log_format, day)
    order by s.source_kind, s.log_format, d.day
)

select * from final
