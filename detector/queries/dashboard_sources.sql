-- Data health: per source kind, format and day, the events and how many carry each field the
-- attribution and the upload figures depend on, and the newest event (from classify's source_daily).
with source_daily as (
    select * from source_daily
),

final as (
    select source_kind, log_format, day, events, with_user, with_bytes_out, with_url_path, with_host, newest
    from source_daily
    order by source_kind, log_format, day
)

select * from final
