-- Who was active at which client address when, in one pass over the lake: a row per address, user, day
-- and stretch of $gap_seconds, with its first and last event and how many. Built at classify; proxy
-- sessions (proxy_sessions.sql) and the people seen per day (people_daily.sql) are made from it.
with events as (
    select src_ip, user_name, day, ts from lake_events where user_name is not null or src_ip is not null
),

final as (
    select
        src_ip,
        user_name,
        day,
        epoch_us(ts) // ($gap_seconds * 1000000) as stretch,
        min(ts) as first_ts,
        max(ts) as last_ts,
        count(*) as events
    from events
    group by src_ip, user_name, day, epoch_us(ts) // ($gap_seconds * 1000000)
)

select * from final
