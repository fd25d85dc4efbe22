-- Data health per source kind, format and day: the events and how many carry each field attribution
-- and the upload figures depend on, and the newest event. Built by classify from the lake files, so
-- that the dashboard and reports need not scan every event to show it.
with events as (
    select source_kind, log_format, day, ts, user_name, bytes_out, url_path, host from lake_events
),

final as (
    select
        source_kind,
        log_format,
        day,
        count(*) as events,
        count(user_name) as with_user,
        count(bytes_out) as with_bytes_out,
        count(url_path) as with_url_path,
        count(host) as with_host,
        max(ts) as newest
    from events
    group by source_kind, log_format, day
)

select * from final
