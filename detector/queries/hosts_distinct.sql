-- Every distinct destination host of the `events` view: the lake's hosts and the names learned for
-- IP-only flows (flow_names names only events without a host). Read this way, not through `events`,
-- so that the lake's lineage columns and the join with flow_names are not read for it.
with lake_hosts as (
    select distinct host from lake_events where host is not null
),

flow_hosts as (
    select distinct host from flow_names
),

final as (
    select host from lake_hosts
    union
    select host from flow_hosts
)

select * from final
