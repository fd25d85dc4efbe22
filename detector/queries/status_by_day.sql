-- Events per source kind, format and day: what the lake holds.
with events as (
    select source_kind, log_format, day, user_name, host, bytes_out from events
),

final as (
    select
        source_kind,
        log_format,
        day,
        count(*) as events,
        count(distinct host) as hosts,
        count(user_name) as with_user,
        count(bytes_out) as with_bytes_out
    from events
    group by all
    order by source_kind, log_format, day
)

select * from final
