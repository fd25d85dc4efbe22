-- Every distinct user agent in the lake (user-agent signatures are matched on these, not on events).
with events as (
    select user_agent from events where user_agent is not null
),

final as (
    select user_agent, count(*) as events from events group by user_agent
)

select * from final
