-- Every event, with the names learned for IP-only flows from DNS answers (see flow_names.sql):
-- such a flow gets that `host`, `host_source` = 'dns_answer', and `host_certainty` saying whether the
-- answer went to the same client or only to another one.
with lake_events as (
    select * from lake_events
),

flow_names as (
    select file_id, line_no, host, certainty from flow_names
),

final as (
    select
        e.* replace (
            coalesce(e.host, n.host) as host,
            case when e.host is null and n.host is not null then 'dns_answer' else e.host_source end as host_source
        ),
        n.certainty as host_certainty
    from lake_events as e
    left join flow_names as n on n.file_id = e.file_id and n.line_no = e.line_no
)

select * from final
