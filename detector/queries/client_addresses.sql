-- Every distinct client address in the lake (departments are looked up per address, not per event).
-- Read from client_stretches (built just before at classify, one row per address, user, day and
-- stretch: every address with an event is in it), not from every event again.
with stretches as (
    select distinct src_ip from client_stretches where src_ip is not null
),

final as (
    select src_ip from stretches
)

select * from final
