-- Ingested files (all segments of a file added up), newest first.
with segments as (
    select * from ingested_segments
),

final as (
    select
        file_id,
        any_value(path order by end_offset desc) as path,
        any_value(log_format) as log_format,
        any_value(source_kind) as source_kind,
        count(*) as segments,
        max(end_line) as lines,
        sum(parsed) as parsed,
        sum(rejected) as rejected,
        sum(ignored) as ignored,
        max(ingested_at) as last_ingested_at,
        any_value(error order by end_offset desc) as error
    from segments
    group by file_id
    order by last_ingested_at desc, path
)

select * from final
