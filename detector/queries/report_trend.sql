-- Per day of one period (every day, also those without AI use): distinct people using AI and unsanctioned
-- AI (a person is a user, or a client device where no user could be attributed, as in user_daily), events,
-- and uploads to unsanctioned AI.
with days as (
    select cast(unnest(generate_series(cast($start as date), cast($end as date), interval 1 day)) as date) as day
),

people as (
    select
        day,
        count(distinct person) as ai_users,
        unsanctioned_people(person, verdict) as unsanctioned_users
    from user_daily
    where day between $start and $end
    group by day
),

volume as (
    select
        day,
        cast(sum(events) as bigint) as events,
        unsanctioned_bytes_out(bytes_out, verdict) as unsanctioned_bytes_out,
        cast(sum(blocked) as bigint) as blocked
    from usage_daily
    where day between $start and $end
    group by day
),

final as (
    select
        d.day,
        coalesce(p.ai_users, 0) as ai_users,
        coalesce(p.unsanctioned_users, 0) as unsanctioned_users,
        coalesce(v.events, 0) as events,
        coalesce(v.unsanctioned_bytes_out, 0) as unsanctioned_bytes_out,
        coalesce(v.blocked, 0) as blocked
    from days as d
    left join people as p using (day)
    left join volume as v using (day)
    order by d.day
)

select * from final
