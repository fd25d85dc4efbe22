-- AI events of one period for a SIEM: what happened, to which service, under which verdict, from which
-- department. No client address, URL path or user agent; the pseudonym only when $pseudonyms is true.
with ai_events as (
    select * from ai_events where day between $start and $end
),

final as (
    select
        ts,
        source_kind,
        log_format,
        case when $pseudonyms then user_id end as user_id,
        department,
        attribution,
        host,
        host_source,
        service,
        service_name,
        category,
        match,
        verdict,
        action,
        http_method,
        bytes_out,
        bytes_in,
        file_id,
        line_no
    from ai_events
    order by ts, file_id, line_no
)

select * from final
