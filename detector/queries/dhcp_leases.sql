-- Which workstation held a client address when, from DHCP events (source kind identity): from each
-- assignment until the address is assigned to another workstation, or $lease_seconds at most.
with assignments as (
    select src_ip, lower(split_part(src_host, '.', 1)) as workstation, ts
    from events
    where source_kind = 'identity' and src_ip is not null and src_host is not null
),

ordered as (
    select *,
        lead(ts) over (partition by src_ip order by ts) as next_ts,
        lead(workstation) over (partition by src_ip order by ts) as next_workstation
    from assignments
),

changes as (
    -- renewals by the same workstation extend its lease; a change of workstation ends it
    select *,
        case when lag(workstation) over (partition by src_ip order by ts) is distinct from workstation
            then 1 else 0 end as starts_lease
    from ordered
),

numbered as (
    select *, sum(starts_lease) over (partition by src_ip order by ts rows unbounded preceding) as lease
    from changes
),

final as (
    select
        src_ip,
        any_value(workstation) as workstation,
        min(ts) as starts,
        least(
            coalesce(max(next_ts) filter (where next_workstation is distinct from workstation), 'infinity'::timestamptz),
            max(ts) + to_seconds($lease_seconds)
        ) as ends
    from numbered
    group by src_ip, lease
)

select * from final
