-- Who sat behind a client address when: sessions of authenticated (proxy) events per address and user,
-- split where the user was silent for longer than $gap_seconds, widened by $window_seconds each side.
-- DNS and firewall events without a user are attributed through these.
with authenticated as (
    select src_ip, user_name as user_id, ts
    from events
    where user_name is not null and src_ip is not null
),

marked as (
    select *,
        case
            when epoch(ts) - epoch(lag(ts) over (partition by src_ip, user_id order by ts)) > $gap_seconds then 1
            else 0
        end as starts_session
    from authenticated
),

numbered as (
    select *, sum(starts_session) over (partition by src_ip, user_id order by ts rows unbounded preceding) as session
    from marked
),

final as (
    select
        src_ip,
        user_id,
        min(ts) - to_seconds($window_seconds) as starts,
        max(ts) + to_seconds($window_seconds) as ends,
        count(*) as events
    from numbered
    group by src_ip, user_id, session
)

select * from final
