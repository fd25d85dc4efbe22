-- Rejected lines per format and reason in the files whose events fall in the period (a file without any
-- parsed event counts by the day it was ingested): what to fix first. The reason is grouped without the
-- offending value after its colon, which is log data.
with file_days as (
    select file_id, min(day) as first_day, max(day) as last_day from lake_events group by file_id
),

segments as (
    select file_id, min(cast(left(ingested_at, 10) as date)) as ingested_day from ingested_segments group by file_id
),

rejects as (
    select r.file_id, r.log_format, split_part(r.reason, ':', 1) as reason
    from rejects as r
    left join file_days as f using (file_id)
    left join segments as s using (file_id)
    where (f.file_id is not null and f.first_day <= $end and f.last_day >= $start)
        or (f.file_id is null and s.ingested_day between $start and $end)
),

final as (
    select log_format, reason, count(*) as lines, count(distinct file_id) as files
    from rejects
    group by all
    order by lines desc, log_format, reason
)

select * from final
