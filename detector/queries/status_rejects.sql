-- Rejected lines by format and reason: what to fix first.
with rejects as (
    select log_format, reason from rejects
),

final as (
    select
        log_format,
        -- reasons carry the offending value after a colon; group on the reason itself
        split_part(reason, ':', 1) as reason,
        count(*) as lines
    from rejects
    group by all
    order by lines desc
)

select * from final
