-- Every distinct client address in the lake (departments are looked up per address, not per event).
with events as (
    select distinct src_ip from events where src_ip is not null
),

final as (
    select src_ip from events
)

select * from final
