-- Data health per log source (source kind and format) for one period: events, days with events, how
-- many carry a user, and the newest event up to the end of the period. A source is listed when it sent
-- anything between $since and the end of the period, so that one that stopped sending shows (with zero
-- events) instead of disappearing. Reads the lake as it is (lake_events): health is about what arrived.
with events as (
    select source_kind, log_format, day, ts, user_name from lake_events
    where day between cast($since as date) and cast($end as date)
),

final as (
    select
        source_kind,
        log_format,
        count(*) filter (where day >= $start) as events,
        count(distinct day) filter (where day >= $start) as days_with_events,
        count(user_name) filter (where day >= $start) as with_user,
        min(ts) filter (where day >= $start) as first_event,
        max(ts) as last_event
    from events
    group by source_kind, log_format
    order by source_kind, log_format
)

select * from final
