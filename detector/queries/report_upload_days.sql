-- Uploads to unsanctioned AI (shadow or forbidden) per department and day above $min_bytes, in one
-- period: the upload alert. Per usage_daily, a day's upload is counted once however many logs saw it.
with usage as (
    select * from usage_daily
    where day between $start and $end and unsanctioned(verdict) and bytes_out > 0
),

final as (
    select
        coalesce(department, '(unknown)') as department,
        day,
        cast(sum(bytes_out) as bigint) as bytes_out,
        list(distinct coalesce(service, host) order by coalesce(service, host)) as services
    from usage
    group by all
    having sum(bytes_out) > $min_bytes
    order by day, bytes_out desc, department
)

select * from final
